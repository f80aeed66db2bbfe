"""Run an instructor notebook as a student would (the full training recipe) and report.

    python benchmarks/notebook_run.py [--assignment resnets]   # resnets: 5 to 9 minutes on 2 cores

Executes source/ASSIGNMENT/*.ipynb with nbclient outside grading mode, with one cell appended that
prints the notebook's results as JSON (no printed text is parsed). Writes
reports/notebook_run-ASSIGNMENT.ipynb (the executed notebook), appends one JSON line to
reports/notebook_runs.jsonl and prints it: seconds per cell (by grade_id, from nbclient's timing
metadata), the whole run's wall clock, the CPU and versions, and for resnets its values: test
and training accuracy before and after re-estimating the BatchNorm statistics, the pretrained
model's test accuracy and the transfer comparison. The notebooks fix their seeds
(keras.utils.set_random_seed).
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from machine import summary
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MARK = "__notebook_results__"
VALUES = {"resnets": ["test_accuracy_as_trained", "train_accuracy_as_trained",
                      "fit_accuracy_last_epoch", "test_accuracy_reestimated",
                      "train_accuracy_reestimated", "pretrained_test_accuracy", "head_accuracy",
                      "tuned_accuracy", "scratch_accuracy", "chosen", "held_out_accuracy"]}
RESULTS = '''import json as _json
print({mark!r} + _json.dumps({{name: globals().get(name) for name in {names!r}}}, default=float))
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="resnets",
                        choices=sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
    args = parser.parse_args()
    machine = summary()  # before the long run: a failure here loses nothing
    os.environ.pop("NBGRADER_EXECUTION", None)  # the student's run, not the grading mode
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    found = sorted((ROOT / "source" / args.assignment).glob("*.ipynb"))
    if len(found) != 1:
        sys.exit(f"source/{args.assignment}: {len(found)} notebooks, expected one")
    path = found[0]
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(RESULTS.format(
        mark=MARK, names=VALUES.get(args.assignment, []))))
    started = time.perf_counter()
    NotebookClient(notebook, timeout=1800, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - started
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    values = json.loads(printed.split(MARK, 1)[1])
    import keras
    import tensorflow as tf

    result = {
        "assignment": args.assignment, "date": time.strftime("%Y-%m-%d"), **values,
        "cell_seconds": {c.metadata.get("nbgrader", {}).get("grade_id"): seconds(c)
                         for c in notebook.cells[:-1] if c.cell_type == "code"},
        "notebook_wall_seconds": round(wall, 1),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__},
        "machine": machine,
    }
    (ROOT / "reports").mkdir(exist_ok=True)
    with open(ROOT / "reports" / "notebook_runs.jsonl", "a") as handle:
        handle.write(json.dumps(result) + "\n")
    notebook.cells.pop()
    nbformat.write(notebook, ROOT / "reports" / f"notebook_run-{args.assignment}.ipynb")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
