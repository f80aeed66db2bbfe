"""Run the instructor notebook as a student would (the full training recipe) and report.

    python benchmarks/notebook_run.py        # about 9 minutes on a 2-core CPU

Executes source/resnets/Residual_Networks.ipynb with nbclient outside grading mode, with one
cell appended that prints the notebook's results as JSON (no printed text is parsed). Writes
reports/notebook_run.ipynb (the executed notebook) and reports/notebook_run.json, and prints:
seconds per cell (by grade_id, from nbclient's timing metadata), test and training accuracy
before and after re-estimating the BatchNorm statistics, the pretrained model's test accuracy,
the transfer comparison, the whole run's wall clock, and versions. The notebook fixes its seeds
(keras.utils.set_random_seed).
"""
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"
MARK = "__notebook_results__"
RESULTS = f'''import json as _json
_names = ["test_accuracy_as_trained", "train_accuracy_as_trained", "fit_accuracy_last_epoch",
          "test_accuracy_reestimated", "train_accuracy_reestimated", "pretrained_test_accuracy",
          "head_accuracy", "tuned_accuracy", "scratch_accuracy", "chosen",
          "held_out_accuracy"]
print({MARK!r} + _json.dumps({{name: globals().get(name) for name in _names}}, default=float))
'''


def seconds(cell):
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = datetime.datetime.fromisoformat
    return round((parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00")))
                 .total_seconds(), 1)


def main():
    os.environ.pop("NBGRADER_EXECUTION", None)  # the student's run, not the grading mode
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(RESULTS))
    started = time.perf_counter()
    NotebookClient(notebook, timeout=1800, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    wall = time.perf_counter() - started
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    values = json.loads(printed.split(MARK, 1)[1])
    import keras
    import tensorflow as tf

    result = {
        **values,
        "cell_seconds": {c.metadata.get("nbgrader", {}).get("grade_id"): seconds(c)
                         for c in notebook.cells[:-1] if c.cell_type == "code"},
        "notebook_wall_seconds": round(wall, 1),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__},
        "cpu_count": os.cpu_count(),
    }
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "notebook_run.json").write_text(json.dumps(result, indent=2))
    notebook.cells.pop()
    nbformat.write(notebook, ROOT / "reports" / "notebook_run.ipynb")  # the run, outputs and all
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
