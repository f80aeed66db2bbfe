"""Training images/s of the solution's ResNet50 (64x64, batch 32, float32, Adam), by setting.

    python benchmarks/training_speed.py [--rounds 3] [--steps 16] [--settings off on ...]

Each setting runs in a fresh process (TensorFlow reads its switches once, at import), settings
alternating round by round so that a noisy neighbour slows them alike. In each process: the
notebook's model and recipe on the real SIGNS training images (model.fit on float32 arrays,
batch 32, as the notebook's training cell), one epoch of `--steps` steps to trace the graph,
then one timed epoch of `--steps` steps. Settings (NAME: what the child gets):
  off            TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow's default on CPUs without AVX-512 VNNI)
  on             TF_ENABLE_ONEDNN_OPTS=1 (what the course chooses there, course/onednn.py)
  on-intra2      on, and tf.config.threading intra-op 2, inter-op 1
  on-inter2      on, and intra-op 2, inter-op 2
  on-intra1      on, and intra-op 1, inter-op 1 (one core: the other free)
  xla-off        off, and the model compiled by XLA (model.compile(jit_compile=True))
  xla-on         on, and XLA
  default        the environment as it is, the course's choice not applied
Also measured once per process: predict images/s at batch 32 and 256 (the cells that only
predict). Prints a table with medians, each setting's ratio to `off`, and the fraction of the
CPU's FP32 peak the training reached: peak = cores x 2 FMA units x FMA lanes (8 for AVX2, 16
with AVX-512F) x 2 flops x clock (lscpu's "CPU max MHz", else /proc/cpuinfo's "cpu MHz"),
against 3x the forward pass's multiply-adds of every Conv2D and Dense layer, x2 flops (the
backward pass costs two forward passes). Appends the record (CPU model and flags, versions,
every measurement) to docs/training_speed.jsonl with --record, else to reports/.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import cpu

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"
OFF, ON = {"TF_ENABLE_ONEDNN_OPTS": "0"}, {"TF_ENABLE_ONEDNN_OPTS": "1"}
SETTINGS = {  # name: (environment, (intra-op, inter-op threads) or None, XLA-compiled)
    "off": (OFF, None, False),
    "on": (ON, None, False),
    "on-intra2": (ON, (2, 1), False),
    "on-inter2": (ON, (2, 2), False),
    "on-intra1": (ON, (1, 1), False),
    "xla-off": (OFF, None, True),
    "xla-on": (ON, None, True),
    "default": ({}, None, False),
}


def peak_gflops(machine):
    lanes = 16 if "avx512f" in machine["flags"] else 8 if "avx2" in machine["flags"] else 4
    if not machine["mhz"]:
        return None
    return machine["cores"] * 2 * lanes * 2 * machine["mhz"] / 1000


def training_flops(model):
    """Flops of one training step per image: 3 forward passes of 2 flops per multiply-add."""
    import keras

    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, out = layer.output.shape
            kernel = layer.kernel.shape  # (kh, kw, in, out)
            macs += height * width * kernel[0] * kernel[1] * kernel[2] * out
        elif isinstance(layer, keras.layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3 * 2 * macs


def child(setting, steps):
    """One measurement in this process: prints one JSON line."""
    _, threads, xla = SETTINGS[setting]
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads[0])
        tf.config.threading.set_inter_op_parallelism_threads(threads[1])
    import keras

    sys.path[:0] = [str(ROOT), str(ROOT / "source" / "resnets")]
    from resnets_utils import load_signs_dataset, one_hot
    from tensorflow.python.util import _pywrap_util_port

    from course.core import run_answers, solution_sources

    X, Y, *_ = load_signs_dataset(ROOT / "datasets")
    images = steps * 32
    X, Y = (X[:images] / 255).astype("float32"), one_hot(Y[:images])
    keras.utils.set_random_seed(0)
    model = run_answers(solution_sources(SOURCE), SOURCE)["ResNet50"]()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=xla)
    model.fit(X, Y, batch_size=32, epochs=1, verbose=0)  # traces the graph
    start = time.perf_counter()
    model.fit(X, Y, batch_size=32, epochs=1, verbose=0)
    train = images / (time.perf_counter() - start)
    predict = {}
    for batch in (32, 256):
        model.predict(X, batch_size=batch, verbose=0)  # traces
        start = time.perf_counter()
        model.predict(X, batch_size=batch, verbose=0)
        predict[batch] = round(images / (time.perf_counter() - start), 2)
    print(json.dumps({"setting": setting, "train_images_per_s": round(train, 2),
                      "predict_images_per_s": predict,
                      "onednn": bool(_pywrap_util_port.IsMklEnabled()),
                      "training_gflop_per_image": training_flops(model) / 1e9,
                      "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                      "versions": {"python": platform.python_version(),
                                   "tensorflow": tf.__version__, "keras": keras.__version__}}))


def measure(setting, steps):
    environment = SETTINGS[setting][0]
    env = {name: value for name, value in os.environ.items() if name != "TF_ENABLE_ONEDNN_OPTS"}
    env.update(environment, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, __file__, "--child", setting, "--steps", str(steps)],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"error: the {setting!r} measurement failed ({tail})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=16, help="training steps timed (batch 32)")
    parser.add_argument("--settings", nargs="+", default=["off", "on", "on-intra2"],
                        choices=sorted(SETTINGS))
    parser.add_argument("--record", action="store_true",
                        help="append the record to docs/training_speed.jsonl")
    parser.add_argument("--child", choices=sorted(SETTINGS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.steps)
    machine = cpu()
    runs = []
    for number in range(1, args.rounds + 1):
        for setting in args.settings:
            run = measure(setting, args.steps)
            run["round"] = number
            runs.append(run)
            print(f"round {number} {setting}: train {run['train_images_per_s']:.1f} images/s, "
                  f"predict {run['predict_images_per_s']} (oneDNN {run['onednn']})", flush=True)
    medians = {s: statistics.median(r["train_images_per_s"] for r in runs if r["setting"] == s)
               for s in args.settings}
    peak = peak_gflops(machine)
    flops = runs[0]["training_gflop_per_image"]
    print(f"\nCPU: {machine['model']}, {machine['cores']} cores, {machine['mhz']} MHz, "
          f"{'AVX-512F' if 'avx512f' in machine['flags'] else 'AVX2, no AVX-512'}"
          f"{', AVX-512 VNNI' if 'avx512_vnni' in machine['flags'] else ''}; "
          f"FP32 peak {peak:.0f} GFLOP/s; training {flops:.2f} GFLOP per image")
    print("| setting | train images/s (median) | each round | ratio to off | GFLOP/s | of peak |")
    print("| --- | --- | --- | --- | --- | --- |")
    for setting in args.settings:
        each = [r["train_images_per_s"] for r in runs if r["setting"] == setting]
        ratio = medians[setting] / medians["off"] if "off" in medians else float("nan")
        print(f"| {setting} | {medians[setting]:.1f} | {' / '.join(f'{v:.1f}' for v in each)} | "
              f"{ratio:.2f} | {medians[setting] * flops:.0f} | "
              f"{medians[setting] * flops / peak:.0%} |")
    append_record("training_speed", {"cpu": machine, "peak_gflops": peak, "median": medians,
                                      "runs": runs}, to_docs=args.record)
    return 0


def append_record(name, record, to_docs):
    """Append `record`, with the date and the command, to docs/NAME.jsonl (`--record`) or to
    reports/NAME.jsonl."""
    record = {"date": datetime.date.today().isoformat(), "command": " ".join(sys.argv), **record}
    out = ROOT / ("docs" if to_docs else "reports") / f"{name}.jsonl"
    out.parent.mkdir(exist_ok=True)
    with out.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    print(f"recorded in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
