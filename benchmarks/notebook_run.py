"""Run the instructor notebook as a student would (the brief's full 10-epoch recipe) and report.

    python benchmarks/notebook_run.py        # about 5 minutes on a 2-core CPU

Prints and writes reports/notebook_run.json: seconds per epoch (from Keras' per-epoch lines),
test accuracy and training accuracy in inference mode (vs the last epoch of fit), before and
after re-estimating the BatchNorm statistics, and versions.
The notebook fixes its seed (keras.utils.set_random_seed(1)).
"""
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"


def cell_text(notebook, grade_id):
    cell = next(c for c in notebook.cells if c.metadata["nbgrader"]["grade_id"] == grade_id)
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def main():
    os.environ.pop("NBGRADER_EXECUTION", None)  # the student's run, not the grading mode
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    wall = time.perf_counter() - started
    epochs = [int(s) for s in re.findall(r"^\d+/\d+ - (\d+)s - ", cell_text(notebook, "train"), re.M)]
    evaluation = cell_text(notebook, "evaluate")
    fixed = cell_text(notebook, "reestimated")
    import keras
    import tensorflow as tf

    result = {
        "seconds_per_epoch": epochs,
        "median_seconds_per_epoch_after_first": sorted(epochs[1:])[len(epochs[1:]) // 2],
        "test_accuracy": float(re.search(r"test accuracy ([\d.]+)", evaluation).group(1)),
        "train_accuracy_inference": float(re.search(r"inference mode ([\d.]+)", evaluation).group(1)),
        "train_accuracy_last_fit_epoch": float(re.search(r"reported ([\d.]+)", evaluation).group(1)),
        "test_accuracy_after_bn_reestimation": float(
            re.search(r"test accuracy ([\d.]+)", fixed).group(1)),
        "train_accuracy_after_bn_reestimation": float(
            re.search(r"inference mode ([\d.]+)", fixed).group(1)),
        "notebook_wall_seconds": round(wall, 1),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__},
        "cpu_count": os.cpu_count(),
        "seed": 1,
    }
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "notebook_run.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
