"""Seconds per training epoch: the brief's model.fit(X, Y) on NumPy arrays vs tf.data.

    python benchmarks/input_pipeline.py [--rounds 3]

One ResNet50 (the solution's), batch 32, the 1,080 SIGNS training images. Each pipeline gets a
warm-up epoch (graph tracing), then the pipelines alternate epoch by epoch for --rounds rounds,
so a noisy neighbour slows them alike. Pipelines:
  numpy_float64 -- model.fit(X_train / 255.0, Y) as in the brief (X / 255 makes float64)
  numpy_float32 -- the same arrays cast to float32 once
  tf_data       -- tf.data.Dataset.from_tensor_slices(float32).shuffle.batch(32).prefetch(AUTOTUNE)
"""
import argparse
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
import tensorflow as tf  # noqa: E402
from resnets_utils import load_signs_dataset, one_hot  # noqa: E402

from course.core import run_answers, solution_sources  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    X, Y, *_ = load_signs_dataset(ROOT / "datasets")
    X64, Y = X / 255.0, one_hot(Y)
    X32 = X64.astype("float32")
    pipelines = {
        "numpy_float64": dict(x=X64, y=Y, batch_size=32),
        "numpy_float32": dict(x=X32, y=Y, batch_size=32),
        "tf_data": dict(x=tf.data.Dataset.from_tensor_slices((X32, Y))
                        .shuffle(len(X32), seed=0).batch(32).prefetch(tf.data.AUTOTUNE)),
    }
    keras.utils.set_random_seed(0)
    model = run_answers(solution_sources(SOURCE), SOURCE)["ResNet50"]()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    seconds = {name: [] for name in pipelines}
    for round_number in range(args.rounds + 1):  # round 0 is the warm-up
        for name, data in pipelines.items():
            start = time.perf_counter()
            model.fit(**data, epochs=1, verbose=0)
            if round_number:
                seconds[name].append(round(time.perf_counter() - start, 2))
        print(f"round {round_number}: {json.dumps(seconds)}", flush=True)
    medians = {name: float(np.median(values)) for name, values in seconds.items()}
    result = {"seconds_per_epoch": seconds, "median": medians,
              "ratio_to_numpy_float64": {n: round(m / medians["numpy_float64"], 3)
                                         for n, m in medians.items()},
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    print(json.dumps(result, indent=2))
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "input_pipeline.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
