"""Where a training step's time goes on this CPU: oneDNN's own timing of every primitive.

    python benchmarks/training_profile.py [--steps 8] [--batch 32] [--record]

Runs the solution's ResNet50 (64x64, float32, Adam, `model.fit` on the SIGNS training images, as
the notebook's training cell) in a child process with oneDNN on and `ONEDNN_VERBOSE=1`: one epoch
of `--steps` steps to trace, then one timed epoch, whose verbose lines alone are counted. oneDNN
prints, for each primitive it executes, its kind (convolution, reorder, ...), its pass (forward,
backward_data, backward_weights), the implementation it chose (`brgconv_1x1:avx2`, `jit:avx2`,
`x64:gemm:jit`, ...), the shape (`mb32_ic512oc512_ih2oh2kh3...`) and its milliseconds. From the
shape: the multiply-adds of a convolution (mb x oh x ow x oc x ic x kh x kw: the same for each
pass), so each pass's GFLOP/s and its share of the CPU's FP32 peak (as
benchmarks/training_speed.py computes it). Prints the time by pass, by implementation and the
slowest shapes; appends the record (CPU, versions, every total) to docs/training_profile.jsonl
with --record, else to reports/.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402
from training_speed import ROOT, SOURCE, append_record, peak_gflops  # noqa: E402

MARK = "training_profile: timed epoch starts"
SHAPE = re.compile(r"mb(\d+)_ic(\d+)oc(\d+)_ih(\d+)oh(\d+)kh(\d+)\w*?_iw(\d+)ow(\d+)kw(\d+)")


def child(steps, batch):
    """The timed epoch, its verbose lines after MARK on stdout; last line: images/s as JSON."""
    import keras

    sys.path[:0] = [str(ROOT), str(ROOT / "source" / "resnets")]
    from resnets_utils import load_signs_dataset, one_hot

    from course.core import run_answers, solution_sources

    X, Y, *_ = load_signs_dataset(ROOT / "datasets")
    images = steps * batch
    X, Y = (X[:images] / 255).astype("float32"), one_hot(Y[:images])
    keras.utils.set_random_seed(0)
    model = run_answers(solution_sources(SOURCE), SOURCE)["ResNet50"]()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    model.fit(X, Y, batch_size=batch, epochs=1, verbose=0)  # traces the graph
    print(MARK, flush=True)
    start = time.perf_counter()
    model.fit(X, Y, batch_size=batch, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_s": images / seconds, "seconds": seconds, "steps": steps,
                      "keras": keras.__version__}), flush=True)


def multiply_adds(shape):
    """Multiply-adds of the convolution a oneDNN shape string describes, or 0."""
    found = SHAPE.search(shape)
    if not found:
        return 0
    mb, ic, oc, _, oh, kh, _, ow, kw = map(int, found.groups())
    return mb * oh * ow * oc * ic * kh * kw


def parse(lines):
    """{(primitive, pass, implementation, shape): [milliseconds, executions, multiply-adds]}."""
    totals = collections.defaultdict(lambda: [0.0, 0, 0])
    for line in lines:
        fields = line.strip().split(",")
        if len(fields) < 10 or fields[:3] != ["onednn_verbose", "v1", "primitive"]:
            continue
        if fields[3] != "exec":
            continue
        primitive, implementation, passes, shape = fields[5], fields[6], fields[7], fields[-2]
        entry = totals[(primitive, passes, implementation, shape)]
        entry[0] += float(fields[-1])
        entry[1] += 1
        entry[2] += multiply_adds(shape) if primitive == "convolution" else 0
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="training steps timed")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--record", action="store_true",
                        help="append the record to docs/training_profile.jsonl")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.steps, args.batch)
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1", ONEDNN_VERBOSE="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, __file__, "--child", "--steps", str(args.steps),
                           "--batch", str(args.batch)], capture_output=True, text=True, env=env)
    lines = done.stdout.splitlines()
    if done.returncode or MARK not in lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"error: the profiled training run failed ({tail})")
    timed = lines[lines.index(MARK) + 1:]
    run = json.loads(timed[-1])
    totals = parse(timed[:-1])
    if not totals:
        raise SystemExit("error: oneDNN printed no primitive timings: is oneDNN on in this "
                         "TensorFlow build? (ONEDNN_VERBOSE=1 printed nothing)")
    machine = cpu()
    peak = peak_gflops(machine)
    wall_ms = run["seconds"] * 1000
    by_pass = collections.defaultdict(lambda: [0.0, 0])
    by_implementation = collections.defaultdict(lambda: [0.0, 0])
    for (primitive, passes, implementation, _), (ms, _, macs) in totals.items():
        name = primitive if primitive != "convolution" else f"convolution {passes}"
        by_pass[name][0] += ms
        by_pass[name][1] += macs
        by_implementation[f"{name}: {implementation}"][0] += ms
        by_implementation[f"{name}: {implementation}"][1] += macs

    def rate(ms, macs):
        gflops = 2 * macs / ms / 1e6 if ms and macs else 0
        return f"{gflops:.0f} | {gflops / peak:.0%}" if gflops and peak else "- | -"

    print(f"CPU: {machine['model']}, {machine['cores']} cores, {machine['mhz']} MHz, FP32 peak "
          f"{peak:.0f} GFLOP/s; {run['steps']} steps of {args.batch} images: "
          f"{run['images_per_s']:.1f} images/s, {wall_ms:.0f} ms of wall clock, oneDNN "
          f"primitives {sum(t[0] for t in totals.values()):.0f} ms")
    for title, table in (("pass", by_pass), ("implementation", by_implementation)):
        print(f"\n| {title} | ms | of the wall clock | GFLOP/s | of the peak |")
        print("| --- | --- | --- | --- | --- |")
        for name, (ms, macs) in sorted(table.items(), key=lambda item: -item[1][0]):
            if ms >= 0.01 * wall_ms:
                print(f"| {name} | {ms:.0f} | {ms / wall_ms:.0%} | {rate(ms, macs)} |")
    print("\n| slowest shapes | implementation | ms | executions | GFLOP/s | of the peak |")
    print("| --- | --- | --- | --- | --- | --- |")
    slowest = sorted(totals.items(), key=lambda item: -item[1][0])[:12]
    for (primitive, passes, implementation, shape), (ms, count, macs) in slowest:
        print(f"| {primitive} {passes} {shape} | {implementation} | {ms:.0f} | {count} | "
              f"{rate(ms, macs)} |")
    append_record("training_profile", {
        "cpu": machine, "peak_gflops": peak, "run": run,
        "by_pass": {name: {"ms": round(ms, 1), "multiply_adds": macs}
                    for name, (ms, macs) in by_pass.items()},
        "by_implementation": {name: {"ms": round(ms, 1), "multiply_adds": macs}
                              for name, (ms, macs) in by_implementation.items()}},
        to_docs=args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
