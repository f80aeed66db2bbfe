"""The notebook's fine_tune (frozen layers run once) against model.fit on the whole model.

    python benchmarks/fine_tune_speed.py [--rounds 2] [--head-epochs 3] [--tune-epochs 6]

`fine_tune` in the resnets notebook's section 9 computes the frozen layers' output once with
`predict` and trains only the layers after them. This runs it, read from the notebook's cell,
beside the plain recipe it replaces (`model.fit` on the whole transfer model, the head alone,
then `conv5_` unfrozen), alternating in one process, seed 0 for both, all 528 training photos:
seconds of each, and the validation accuracies after each phase, which should agree (the same
layers and arithmetic; only floating-point order may differ). Appends JSON lines to
reports/fine_tune_speed.jsonl.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"
PRETRAINED = ROOT / "datasets" / "resnet50.h5"
sys.path[:0] = [str(ROOT), str(ROOT / "source" / "resnets")]

import keras  # noqa: E402
import onednn  # noqa: E402,F401  (the notebook's choice of kernels, before TensorFlow)
from resnets_utils import load_digits_dataset, one_hot  # noqa: E402

from course.core import cell_functions, run_answers, solution_sources  # noqa: E402


def whole_model(ns, X, Y, head_epochs, tune_epochs):
    """The recipe before: model.fit on the whole transfer model in both phases."""
    X_val, Y_val = ns["X_digits_val"], ns["Y_digits_val"]
    model = ns["transfer_model"](keras.models.load_model(PRETRAINED, compile=False), classes=4)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=head_epochs, batch_size=32, verbose=0)
    head_accuracy = model.evaluate(X_val, Y_val, verbose=0)[1]
    ns["unfreeze_last_stage"](model, prefix="conv5_", learning_rate=3e-4)
    model.fit(X, Y, epochs=tune_epochs, batch_size=32, verbose=0)
    return model, head_accuracy, model.evaluate(X_val, Y_val, verbose=0)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--head-epochs", type=int, default=3)
    parser.add_argument("--tune-epochs", type=int, default=6)
    args = parser.parse_args()
    if not PRETRAINED.exists():
        print(f"error: {PRETRAINED} not found. Fix: run `make data` (or `make pretrained`).",
              file=sys.stderr)
        return 2
    X_all, Y_all, *_ = load_digits_dataset(ROOT / "datasets")
    X_all, Y_all = X_all.astype("float32") / 255, one_hot(Y_all, 4)
    n_train = int(round(0.8 * len(X_all)))  # as the notebook: the last 20% validate
    ns = run_answers(solution_sources(SOURCE), SOURCE)
    ns.update(pretrained_file=PRETRAINED, X_digits_val=X_all[n_train:],
              Y_digits_val=Y_all[n_train:])
    cell_functions("fine_tune", ns, SOURCE)
    recipes = {"notebook fine_tune (frozen layers once)": lambda X, Y: ns["fine_tune"](
                   X, Y, head_epochs=args.head_epochs, tune_epochs=args.tune_epochs),
               "model.fit on the whole model": lambda X, Y: whole_model(
                   ns, X, Y, args.head_epochs, args.tune_epochs)}
    out = ROOT / "reports" / "fine_tune_speed.jsonl"
    out.parent.mkdir(exist_ok=True)
    for number in range(1, args.rounds + 1):
        for name, recipe in recipes.items():
            keras.utils.set_random_seed(0)
            start = time.perf_counter()
            _, head, tuned = recipe(X_all[:n_train], Y_all[:n_train])
            seconds = round(time.perf_counter() - start, 1)
            row = {"round": number, "recipe": name, "seconds": seconds,
                   "head_val": round(float(head), 4), "tuned_val": round(float(tuned), 4),
                   "head_epochs": args.head_epochs, "tune_epochs": args.tune_epochs,
                   "keras": keras.__version__}
            print(json.dumps(row), flush=True)
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
