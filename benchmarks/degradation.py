"""The degradation problem, measured: plain and residual networks of two depths, several seeds.

    python benchmarks/degradation.py [--seeds 0 1 2] [--depths 3 9] [--epochs E] [--size S]
                                     [--gradients-only]

Trains the Degradation notebook's own networks (its `build_network` and `basic_block`, taken from
the instructor solution) with its own recipe (the `train` cell: Adam 1e-3, batch 32, the 1,080
SIGNS training photos at the notebook's size, EPOCHS from that cell, unless --size or --epochs
say otherwise), for each seed and each n
(6n+2 layers), plain and residual. Reports the final training loss and accuracy that `fit`
reports, per epoch curves and seconds, and what the notebook's check cells test:
  plain ratio   = final loss of the deep plain network / the shallow plain one's     (3 to 1000)
  deep residual over shallow plain = final loss of the deep residual network / the shallow
                  plain one's                                                       (0 to 1.2)
  deep residual over deep plain = final loss of the deep residual / the deep plain   (0 to 0.2)
and, not checked by the notebook, the residual gap (deep residual - shallow residual) and ratio.
Appends JSON lines to reports/degradation.jsonl and draws reports/degradation.png: the loss
curves of every seed measured with the same settings (this run's and earlier ones).
"""
import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "degradation" / "Degradation.ipynb"
sys.path[:0] = [str(ROOT)]

import keras  # noqa: E402
import nbformat  # noqa: E402
from machine import summary  # noqa: E402

from course.core import grade_id, run_answers, solution_sources  # noqa: E402


def notebook_setting(cell_id, pattern, default=None):
    """An integer the notebook's cell `cell_id` sets, found by `pattern` (one group)."""
    cell = next(c for c in nbformat.read(SOURCE, as_version=4).cells if grade_id(c) == cell_id)
    found = re.search(pattern, cell.source, re.M)
    return int(found.group(1)) if found else default


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    colours = {}
    for row in rows:
        for name, curve in row["loss"].items():
            colour = colours.setdefault(name, f"C{len(colours)}")
            ax.plot(range(1, len(curve) + 1), curve, "--" if name.startswith("plain") else "-",
                    color=colour, label=name if row is rows[0] else None, alpha=0.8)
    ax.axhline(math.log(6), color="gray", linestyle=":", label="chance: ln 6 (a uniform guess)")
    ax.set(xlabel="epoch", ylabel="training loss (fit)", yscale="log",
           title=f"seeds {', '.join(str(r['seed']) for r in rows)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def gradient_norms(ns, X, Y, seed, depths, size, machine):
    """The notebook's section 3 for one seed: stage_gradient_norms of the four fresh networks on
    the first 64 training photos, and plain-deep / plain-shallow at stage 1."""
    norms = {}
    for n in depths:
        for residual in (False, True):
            keras.utils.set_random_seed(seed)
            model = ns["build_network"](n, residual, input_shape=(size, size, 3))
            found = ns["stage_gradient_norms"](model, X[:64], Y[:64])
            norms[model.name] = {stage: round(value, 4) for stage, value in found.items()}
    shallow, deep = (6 * n + 2 for n in depths)
    ratio = norms[f"plain{deep}"]["stage1"] / norms[f"plain{shallow}"]["stage1"]
    return {"seed": seed, "size": size, "norms": norms, "first_stage_ratio": round(ratio, 1),
            "date": time.strftime("%Y-%m-%d"), "machine": machine,
            "versions": {"keras": keras.__version__}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--depths", type=int, nargs=2, default=[3, 9],
                        metavar=("N_SHALLOW", "N_DEEP"))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--size", type=int, default=None,
                        help="image size (default: the notebook's)")
    parser.add_argument("--gradients-only", action="store_true",
                        help="only the gradient norms at initialization (section 3), no training; "
                             "appends to reports/degradation_gradients.jsonl")
    args = parser.parse_args()
    machine = summary()  # before the long runs: a failure here loses nothing
    epochs = args.epochs or notebook_setting("train", r"^EPOCHS = (\d+)")
    ns = run_answers(solution_sources(SOURCE), SOURCE)
    size = args.size or notebook_setting("load_data", r"size=(\d+)", default=64)
    X, labels = ns["load_signs_training_set"](ROOT / "datasets", size=size)
    Y = ns["one_hot"](labels)
    (ROOT / "reports").mkdir(exist_ok=True)
    if args.gradients_only:
        with open(ROOT / "reports" / "degradation_gradients.jsonl", "a") as handle:
            for seed in args.seeds:
                row = gradient_norms(ns, X, Y, seed, args.depths, size, machine)
                print(json.dumps(row), flush=True)
                handle.write(json.dumps(row) + "\n")
        return 0
    out = ROOT / "reports" / "degradation.jsonl"
    rows = []
    for seed in args.seeds:
        row = {"seed": seed, "epochs": epochs, "size": size,
               "depths": [6 * n + 2 for n in args.depths], "loss": {}, "accuracy": {},
               "changes": {}, "changes_mode": "training", "seconds": {}}
        for n in args.depths:
            for residual in (False, True):
                keras.utils.set_random_seed(seed)
                model = ns["build_network"](n, residual, input_shape=(size, size, 3))
                model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                              loss="categorical_crossentropy", metrics=["accuracy"])
                start = time.perf_counter()
                history = model.fit(X, Y, epochs=epochs, batch_size=32, verbose=0)
                row["seconds"][model.name] = round(time.perf_counter() - start, 1)
                row["loss"][model.name] = [round(v, 4) for v in history.history["loss"]]
                row["accuracy"][model.name] = [round(v, 4) for v in history.history["accuracy"]]
                # the notebook's section 4 after training: how much each block changes its input
                row["changes"][model.name] = {
                    block: round(value, 4)
                    for block, value in ns["block_changes"](model, X[:256]).items()}
                print(f"seed {seed} {model.name}: loss {row['loss'][model.name][-1]}, "
                      f"{row['seconds'][model.name]} s", flush=True)
        shallow, deep = (6 * n + 2 for n in args.depths)
        final = {name: curve[-1] for name, curve in row["loss"].items()}
        row["final_loss"] = final
        row["plain_ratio"] = round(final[f"plain{deep}"] / final[f"plain{shallow}"], 2)
        row["residual_gap"] = round(final[f"residual{deep}"] - final[f"residual{shallow}"], 4)
        row["deep_residual_over_deep_plain"] = round(final[f"residual{deep}"]
                                                     / final[f"plain{deep}"], 3)
        row["residual_ratio"] = round(final[f"residual{deep}"] / final[f"residual{shallow}"], 2)
        row["deep_residual_over_shallow_plain"] = round(final[f"residual{deep}"]
                                                        / final[f"plain{shallow}"], 3)
        row.update(date=time.strftime("%Y-%m-%d"), machine=machine,
                   versions={"keras": keras.__version__})
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items()
                          if k not in ("loss", "accuracy", "changes")}),
              flush=True)
        with open(out, "a") as handle:
            handle.write(json.dumps(row) + "\n")
    same = {}  # every seed measured with this run's settings, the latest of each
    for line in out.read_text().splitlines():
        row = json.loads(line)
        if ((row.get("epochs"), row.get("size"), row.get("depths"))
                == (epochs, size, rows[0]["depths"])):
            same[row["seed"]] = row
    plot([same[seed] for seed in sorted(same)], ROOT / "reports" / "degradation.png")
    print(f"wrote {out} and {ROOT / 'reports' / 'degradation.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
