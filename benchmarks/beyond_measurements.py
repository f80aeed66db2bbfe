"""The Beyond ResNet50 notebook's two short measurements, over seeds.

    python benchmarks/beyond_measurements.py [--seeds 0 1 2] [--peaks 0.01 0.001]

1. Section 3 (`v1_v2_gradients`): the L2 norm of the loss gradient at each block's output, at
   initialisation, in training mode, on the first 32 training photos, for
   keras.applications.ResNet50 (V1) and the instructor solution's ResNet50V2, each built after
   keras.utils.set_random_seed(seed) (`block_gradient_norms`); the first block's over the
   last's.
2. Section 4 (`warmup_run`): 20 Adam steps of 32 photos on the solution's ResNet50V2 from the
   same start and batches (`first_steps`, batches drawn with the same seed), at each peak:
   without warm-up (CosineDecay from the peak over 340 steps) and with 8 steps of the solution's
   warmup_cosine; the loss after the first step, the highest, the mean of the last five.
The notebook runs both with seed 0; its stated ranges are these seeds'. Appends one JSON line per
seed, with the CPU and the versions, to reports/beyond_measurements.jsonl.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
BEYOND = ROOT / "source" / "beyond" / "Beyond_ResNet50.ipynb"
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from machine import cpu  # noqa: E402

from course.core import run_answers, solution_sources  # noqa: E402

OUT = ROOT / "reports" / "beyond_measurements.jsonl"
STEPS, BATCH, WARMUP, TOTAL = 20, 32, 8, 340  # the notebook's warmup_run cell


def gradients(ns, photos, targets, seed):
    builders = {"v1": lambda: keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3),
                                                          classes=6),
                "v2": lambda: ns["ResNet50V2"](input_shape=(64, 64, 3), classes=6)}
    found = {}
    for name, build in builders.items():
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        norms = ns["block_gradient_norms"](build(), photos, targets)
        found[name] = {"seconds": round(time.perf_counter() - start, 1),
                       "first_over_last": round(norms["conv2_block1_out"]
                                                / norms["conv5_block3_out"], 1),
                       "norms": {block: round(value, 4) for block, value in norms.items()}}
    return found


def first_steps(ns, X, Y, seed, peak):
    keras.utils.set_random_seed(seed)
    network = ns["ResNet50V2"](input_shape=(64, 64, 3), classes=6)
    schedules = {"none": keras.optimizers.schedules.CosineDecay(peak, TOTAL),
                 "warmup": lambda step: ns["warmup_cosine"](step, peak, WARMUP, TOTAL)}
    start = time.perf_counter()
    losses = ns["first_steps"](network, X, Y, schedules, STEPS, BATCH, seed=seed)
    return {"seconds": round(time.perf_counter() - start, 1),
            **{label: {"after_first_step": round(curve[1], 3), "highest": round(max(curve), 3),
                       "last_five": round(float(np.mean(curve[-5:])), 3),
                       "losses": [round(value, 3) for value in curve]}
               for label, curve in losses.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--peaks", type=float, nargs="+", default=[1e-2, 1e-3])
    args = parser.parse_args()
    ns = run_answers(solution_sources(BEYOND), BEYOND)
    X_train, labels_train, *_ = ns["load_signs_dataset"](ROOT / "datasets")
    X, Y = (X_train / 255.0).astype("float32"), ns["one_hot"](labels_train, 6)
    OUT.parent.mkdir(exist_ok=True)
    machine = cpu()
    for seed in args.seeds:
        row = {"seed": seed, "gradients": gradients(ns, X[:32], Y[:32], seed),
               "first_steps": {f"{peak:g}": first_steps(ns, X, Y, seed, peak)
                               for peak in args.peaks},
               "cpu": {key: value for key, value in machine.items() if key != "flags"},
               "avx512": "avx512f" in machine["flags"],
               "versions": {"keras": keras.__version__, "tensorflow": tf.__version__}}
        print(json.dumps({"seed": seed,
                          **{name: {k: v for k, v in g.items() if k != "norms"}
                             for name, g in row["gradients"].items()},
                          **{peak: {label: {k: v for k, v in found.items() if k != "losses"}
                                    if isinstance(found, dict) else found
                                    for label, found in runs.items()}
                             for peak, runs in row["first_steps"].items()}}), flush=True)
        with open(OUT, "a") as handle:
            handle.write(json.dumps(row) + "\n")
    print(f"appended to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
