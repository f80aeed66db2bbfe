"""Transfer learning on the sign-language digits 6-9: fine-tuned resnet50.h5 vs from scratch.

    python benchmarks/transfer.py [--seeds 0 1 2] [--fractions 0.1 0.25 1.0]

For each seed and fraction of the 660 training images (stratified prefixes, as in the notebook),
runs the notebook's own recipes, taken from its cells: `fine_tune` (new head 5 epochs at Adam 1e-2,
then conv5_ unfrozen with BatchNorm frozen, 10 epochs at 3e-4), the same unfreezing conv4_ and
conv5_ (the notebook's suggestion to go further), and `train_from_scratch` (section 6: ResNet50
for 4 classes, 10 epochs, cosine decay, BatchNorm statistics re-estimated). Reports
held-out accuracy on the 165 held-out photos and seconds. Appends JSON lines to
reports/transfer.jsonl and draws reports/transfer.png (mean over seeds, min-max as a band).
Needs resnet50.h5 (`make pretrained`); about 9 minutes per seed on 2 cores.
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

from course.notebook import cell_functions, run_answers, solution_sources  # noqa: E402
from resnets_utils import load_digits_dataset, one_hot  # noqa: E402

PRETRAINED = ROOT / "datasets" / "resnet50.h5"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, label, marker in [("fine_tuned", "fine-tuned resnet50.h5 (conv5_)", "o"),
                               ("fine_tuned_conv4_conv5", "fine-tuned (conv4_ and conv5_)", "^"),
                               ("scratch", "ResNet50 from scratch", "s")]:
        fractions = sorted({row["fraction"] for row in rows})
        values = [[row[key] for row in rows if row["fraction"] == f] for f in fractions]
        x = [100 * f for f in fractions]
        ax.plot(x, [np.mean(v) for v in values], marker=marker, label=label)
        ax.fill_between(x, [min(v) for v in values], [max(v) for v in values], alpha=0.2)
    seeds = sorted({row["seed"] for row in rows})
    ax.axhline(0.25, color="gray", linestyle=":", label="chance")
    ax.set(xscale="log", xlabel="% of the 660 training images", ylabel="held-out accuracy",
           ylim=(0, 1.02), xticks=[10, 25, 100], xticklabels=["10%", "25%", "100%"],
           title=f"digits 6-9, seeds {', '.join(map(str, seeds))}: mean, min-max")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 1.0])
    args = parser.parse_args()
    if not PRETRAINED.exists():
        print(f"error: {PRETRAINED} not found. Fix: run `make pretrained`.", file=sys.stderr)
        return 2
    X_train, Y_train, X_test, Y_test, _ = load_digits_dataset(ROOT / "datasets")
    ns = run_answers(solution_sources(SOURCE), SOURCE)
    ns.update(pretrained_file=PRETRAINED, X_digits_test=X_test.astype("float32") / 255,
              Y_digits_test=one_hot(Y_test, 4))
    cell_functions("fine_tune", ns, SOURCE)
    cell_functions("compare", ns, SOURCE)
    X_train, Y_train = X_train.astype("float32") / 255, one_hot(Y_train, 4)
    out = ROOT / "reports" / "transfer.jsonl"
    out.parent.mkdir(exist_ok=True)
    rows = []
    for seed in args.seeds:
        for fraction in args.fractions:
            n = int(round(fraction * len(X_train)))
            row = {"seed": seed, "fraction": fraction, "images": n}
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            _, row["head_only"], row["fine_tuned"] = ns["fine_tune"](X_train[:n], Y_train[:n])
            row["fine_tune_seconds"] = round(time.perf_counter() - start, 1)
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            row["fine_tuned_conv4_conv5"] = ns["fine_tune"](X_train[:n], Y_train[:n],
                                                            prefix=("conv4_", "conv5_"))[2]
            row["fine_tune_conv4_conv5_seconds"] = round(time.perf_counter() - start, 1)
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            row["scratch"] = ns["train_from_scratch"](X_train[:n], Y_train[:n])
            row["scratch_seconds"] = round(time.perf_counter() - start, 1)
            row["versions"] = {"keras": keras.__version__}
            rows.append(row)
            print(json.dumps(row), flush=True)
            with open(out, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    plot(rows, ROOT / "reports" / "transfer.png")
    print(f"wrote {out} and {ROOT / 'reports' / 'transfer.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
