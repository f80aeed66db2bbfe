"""Transfer learning on the sign-language digits 6-9: fine-tuned resnet50.h5 vs from scratch.

    python benchmarks/transfer.py [--seeds 0 1 2] [--fractions 0.1 1.0]

The notebook's protocol: of the 660 training photos, the first 80% (528, the four signs in equal
shares, as every prefix) train and the last 20% (132) are the validation split; the 165 held-out
photos are for the final report. For each seed and fraction of the 528 (stratified prefixes),
runs the notebook's own recipes, taken from its cells: `fine_tune` (new head 5 epochs at Adam
1e-2, then conv5_ unfrozen with BatchNorm frozen, 10 epochs at 3e-4), the same unfreezing conv4_
and conv5_ (the notebook's measured next step), and `train_from_scratch` (section 6: ResNet50
for 4 classes, 10 epochs, cosine decay, BatchNorm statistics re-estimated). Reports validation
accuracy (what the notebook chooses on), held-out accuracy of the same models (what it reports
once, for the chosen one) and seconds. Appends JSON lines to reports/transfer.jsonl and draws
reports/transfer.png (validation accuracy, mean over seeds, min-max as a band).
Needs resnet50.h5 (`make pretrained`); about 6 minutes per seed on 2 cores.
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
from machine import summary  # noqa: E402
from resnets_utils import load_digits_dataset, one_hot  # noqa: E402

from course.core import cell_functions, run_answers, solution_sources  # noqa: E402

PRETRAINED = ROOT / "datasets" / "resnet50.h5"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, label, marker in [("fine_tuned_val", "fine-tuned resnet50.h5 (conv5_)", "o"),
                               ("fine_tuned_conv4_conv5_val", "fine-tuned (conv4_ and conv5_)",
                                "^"),
                               ("scratch_val", "ResNet50 from scratch", "s")]:
        fractions = sorted({row["fraction"] for row in rows})
        values = [[row[key] for row in rows if row["fraction"] == f] for f in fractions]
        x = [100 * f for f in fractions]
        ax.plot(x, [np.mean(v) for v in values], marker=marker, label=label)
        ax.fill_between(x, [min(v) for v in values], [max(v) for v in values], alpha=0.2)
    seeds = sorted({row["seed"] for row in rows})
    ax.axhline(0.25, color="gray", linestyle=":", label="chance")
    ax.set(xscale="log", xlabel="% of the 528 training photos", ylabel="validation accuracy",
           ylim=(0, 1.02), xticks=[100 * f for f in fractions],
           xticklabels=[f"{100 * f:g}%" for f in fractions],
           title=f"digits 6-9, seeds {', '.join(map(str, seeds))}: mean, min-max")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 1.0])
    args = parser.parse_args()
    machine = summary()  # before the long runs: a failure here loses nothing
    if not PRETRAINED.exists():
        print(f"error: {PRETRAINED} not found. Fix: run `make pretrained`.", file=sys.stderr)
        return 2
    X_all, Y_all, X_test, Y_test, _ = load_digits_dataset(ROOT / "datasets")
    X_all, Y_all = X_all.astype("float32") / 255, one_hot(Y_all, 4)
    n_train = int(round(0.8 * len(X_all)))  # as the notebook: the last 20% validate
    X_train, Y_train = X_all[:n_train], Y_all[:n_train]
    X_test, Y_test = X_test.astype("float32") / 255, one_hot(Y_test, 4)
    ns = run_answers(solution_sources(SOURCE), SOURCE)
    ns.update(pretrained_file=PRETRAINED, X_digits_val=X_all[n_train:],
              Y_digits_val=Y_all[n_train:], X_digits_test=X_test, Y_digits_test=Y_test)
    cell_functions("fine_tune", ns, SOURCE)
    cell_functions("compare", ns, SOURCE)

    head_epochs, tune_epochs = ns["fine_tune"].__defaults__[:2]
    budget = f"{head_epochs}+{tune_epochs}, {ns['train_from_scratch'].__defaults__[0]}"

    def held_out(model):
        return float(model.evaluate(X_test, Y_test, verbose=0)[1])

    out = ROOT / "reports" / "transfer.jsonl"
    out.parent.mkdir(exist_ok=True)
    rows = []
    for seed in args.seeds:
        for fraction in args.fractions:
            n = int(round(fraction * len(X_train)))
            row = {"seed": seed, "fraction": fraction, "images": n, "validation_images":
                   len(X_all) - n_train, "held_out_images": len(X_test), "budget": budget}
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            model, row["head_only_val"], row["fine_tuned_val"] = ns["fine_tune"](X_train[:n],
                                                                                Y_train[:n])
            row["fine_tune_seconds"] = round(time.perf_counter() - start, 1)
            row["fine_tuned_held_out"] = held_out(model)
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            model, _, row["fine_tuned_conv4_conv5_val"] = ns["fine_tune"](
                X_train[:n], Y_train[:n], prefix=("conv4_", "conv5_"))
            row["fine_tune_conv4_conv5_seconds"] = round(time.perf_counter() - start, 1)
            row["fine_tuned_conv4_conv5_held_out"] = held_out(model)
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            model, row["scratch_val"] = ns["train_from_scratch"](X_train[:n], Y_train[:n])
            row["scratch_seconds"] = round(time.perf_counter() - start, 1)
            row["scratch_held_out"] = held_out(model)
            row.update(date=time.strftime("%Y-%m-%d"), machine=machine,
                       versions={"keras": keras.__version__})
            rows.append(row)
            print(json.dumps(row), flush=True)
            with open(out, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    plot(rows, ROOT / "reports" / "transfer.png")
    print(f"wrote {out} and {ROOT / 'reports' / 'transfer.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
