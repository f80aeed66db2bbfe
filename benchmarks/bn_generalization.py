"""Why the brief's 10-epoch run does not generalize, and what fixes it: measured per seed.

    python benchmarks/bn_generalization.py [--seeds 1 2 3] [--recipes brief cosine momentum]
                                           [--epochs 10]

For each seed, training recipe and epoch budget (10 by default), trains the solution's ResNet50
on the 1,080 SIGNS training images (batch 32), then evaluates the same weights on the test set
three ways:
  as_is      -- inference mode, BatchNorm moving averages as training left them
  batch_stat -- BatchNorm with the statistics of each test batch of 32 (what tf.keras 2 did)
  reestimated -- inference mode after re-estimating BN statistics over the training set
Recipes: brief (Adam 1e-3, constant), cosine (Adam 1e-3 decayed to 0 over all the run's steps:
340 in 10 epochs), momentum (brief, BatchNorm momentum 0.9 instead of 0.99). Appends JSON lines to
reports/bn_generalization.jsonl.
"""
import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"  # the notebook it trains
sys.path[:0] = [str(ROOT), str(ROOT / "source" / "resnets")]

import keras  # noqa: E402
import numpy as np  # noqa: E402
from machine import summary  # noqa: E402
from resnets_utils import accuracy_with_batch_statistics, load_signs_dataset, one_hot  # noqa: E402

from course.core import run_answers, solution_sources  # noqa: E402

BATCH = 32


def run(ns, recipe, seed, data, epochs):
    X_train, Y_train, X_test, Y_test = data
    keras.utils.set_random_seed(seed)
    model = ns["ResNet50"]()
    if recipe == "momentum":
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
    steps = epochs * int(np.ceil(len(X_train) / BATCH))
    learning_rate = (keras.optimizers.schedules.CosineDecay(1e-3, steps) if recipe == "cosine"
                     else 1e-3)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(X_train, Y_train, epochs=epochs, batch_size=BATCH, verbose=0)
    seconds = time.perf_counter() - start
    result = {"recipe": recipe, "seed": seed, "epochs": epochs, "fit_seconds": round(seconds, 1),
              "fit_accuracy_last_epoch": round(history.history["accuracy"][-1], 4),
              "train_as_is": round(model.evaluate(X_train, Y_train, verbose=0)[1], 4),
              "test_as_is": round(model.evaluate(X_test, Y_test, verbose=0)[1], 4),
              "test_batch_stat": round(accuracy_with_batch_statistics(model, X_test, Y_test), 4)}
    if "reestimate_bn_statistics" in ns:
        ns["reestimate_bn_statistics"](model, X_train)
        result["test_reestimated"] = round(model.evaluate(X_test, Y_test, verbose=0)[1], 4)
        result["train_reestimated"] = round(model.evaluate(X_train, Y_train, verbose=0)[1], 4)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--recipes", nargs="+", default=["brief", "cosine"],
                        choices=["brief", "cosine", "momentum"])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10])
    args = parser.parse_args()
    machine = summary()  # before the long runs: a failure here loses nothing
    ns = run_answers(solution_sources(SOURCE), SOURCE)
    X_train, Y_train, X_test, Y_test, _ = load_signs_dataset(ROOT / "datasets")
    data = (X_train / 255.0, one_hot(Y_train), X_test / 255.0, one_hot(Y_test))
    out = ROOT / "reports" / "bn_generalization.jsonl"
    out.parent.mkdir(exist_ok=True)
    for seed in args.seeds:
        for recipe, epochs in itertools.product(args.recipes, args.epochs):
            result = run(ns, recipe, seed, data, epochs)
            result.update(date=time.strftime("%Y-%m-%d"), machine=machine,
                          versions={"keras": keras.__version__})
            print(json.dumps(result), flush=True)
            with open(out, "a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
