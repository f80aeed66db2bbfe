"""How pretrained builds hold up on the shifted SIGNS test set, side by side.

    python benchmarks/pretrained_shifts.py datasets/resnet50.h5 reports/pretrained-beyond.h5

Each file is a build of `python -m course.authoring.pretrained` (its `<file>.json` report says the
recipe). Every model is scored as saved (inference mode, the BatchNorm statistics its builder
re-estimated) on the 120 test photos, with each sign's precision, recall and F1 and the photos it
gets wrong, and on the Beyond ResNet50 assignment's shifted test set
(`beyond_utils.shifted_test_set(X_test, seed=0)`: six kinds of change, one at a time). Prints a
markdown table, one row per file, and appends one JSON line per file (with the machine and the
versions) to reports/pretrained_shifts.jsonl.
"""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "source" / "beyond"), str(ROOT / "benchmarks")]

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from beyond import scores  # noqa: E402
from beyond_utils import load_signs_dataset, shifted_test_set  # noqa: E402
from machine import summary  # noqa: E402

OUT = ROOT / "reports" / "pretrained_shifts.jsonl"


def score(path, X_test, labels, shifted):
    report_path = Path(path).with_suffix(".json")
    if not report_path.is_file():
        sys.exit(f"{report_path}: missing; expected the report `python -m "
                 "course.authoring.pretrained` "
                 f"writes beside {path}; rebuild the file with it")
    report = json.loads(report_path.read_text())
    model = keras.models.load_model(path)
    return {"file": str(path), "sha256": report["sha256"],
            "augmentation": report["config"].get("augmentation", "geometric"),
            "warmup_epochs": report["config"].get("warmup_epochs", 0),
            "epochs": report["config"]["epochs"], "seed": report["config"]["seed"],
            "validation": report["best_validation_accuracy"],
            **scores(model, X_test, labels, shifted), **per_class(model, X_test, labels),
            "machine": {"cpus": os.cpu_count(), "architecture": platform.machine(), **summary()},
            "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                         "keras": keras.__version__}}


def per_class(model, X_test, labels):
    """{"precision", "recall", "f1"} of each sign on the test photos (0 where undefined, as the
    notebook's class_metrics) and the photos the model gets wrong ("mistakes": photo, sign,
    predicted, probability of the prediction), counted here with NumPy alone."""
    probabilities = model.predict(X_test, verbose=0)
    predicted = probabilities.argmax(axis=1)
    classes = probabilities.shape[1]
    confusion = np.zeros((classes, classes), int)
    np.add.at(confusion, (labels, predicted), 1)
    hits = np.diag(confusion).astype(float)
    precision = np.divide(hits, confusion.sum(axis=0), out=np.zeros(classes),
                          where=confusion.sum(axis=0) > 0)
    recall = np.divide(hits, confusion.sum(axis=1), out=np.zeros(classes),
                       where=confusion.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(classes),
                   where=precision + recall > 0)
    mistakes = [{"photo": int(i), "sign": int(labels[i]), "predicted": int(predicted[i]),
                 "probability": float(probabilities[i, predicted[i]])}
                for i in np.flatnonzero(predicted != labels)]
    return {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "mistakes": mistakes}


def table(rows):
    kinds = list(rows[0]["shifted"])
    head = ["build", "augmentation", "warm-up epochs", "validation", "clean test",
            "shifted, mean of 6", *kinds]
    lines = ["| " + " | ".join(head) + " |", "| --- " * len(head) + "|"]
    for row in rows:
        values = [row["validation"], row["test"], row["shifted_mean"], *row["shifted"].values()]
        lines.append(f"| `{row['sha256'][:12]}` | {row['augmentation']} | {row['warmup_epochs']} | "
                     + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+",
                        help="models written by course.authoring.pretrained")
    args = parser.parse_args()
    for path in args.files:
        if not path.is_file():
            sys.exit(f"{path}: no such file; expected a model from `python -m "
                     "course.authoring.pretrained "
                     f"--out {path}` (`make pretrained` writes datasets/resnet50.h5)")
    _, _, X_test, labels, _ = load_signs_dataset(ROOT / "datasets")
    shifted = {kind: images / 255.0 for kind, images in shifted_test_set(X_test, seed=0).items()}
    rows = [score(path, X_test / 255.0, labels, shifted) for path in args.files]
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
