"""What each improvement of the Beyond ResNet50 assignment brings on SIGNS, over seeds.

    python benchmarks/beyond.py [--seeds 0 1 2] [--recipes assignment1 augmentation ...]
                                [--epochs 20] [--notebook source/beyond/Beyond_ResNet50.ipynb]
                                [--validation 0.2]

Each recipe trains on the 1,080 SIGNS training photos for the same number of epochs (batch 32,
Adam, peak learning rate 1e-3), re-estimates every BatchNorm layer's statistics over the
training photos (assignment 1's `reestimate_bn_statistics`), and is scored on the 120 test
photos and on the shifted test set (`shifted_test_set(X_test, seed=0)`: six kinds of change).
The networks and functions come from the instructor notebooks' own cells: assignment 1's
ResNet50 and blocks, and this assignment's preact_block, ResNet50V2, gap_head, warmup_cosine
and augmenter. Recipes:
  assignment1   ResNet50 (V1), AveragePooling2D(2) + Flatten head, cosine decay from 1e-3 to 0
  augmentation  assignment1 + the augmenter in front of the network (training mode only)
  warmup        assignment1 with one epoch of linear warm-up, then the cosine decay
  v2            ResNet50V2 instead of ResNet50 (its head is global average pooling)
  gap           assignment1 with the global-average-pooling head
  combined      the improvements that helped, together (see RECIPES)
Appends one JSON line per run to reports/beyond.jsonl; `--plot` draws reports/beyond.png from
every line there and prints the tables of docs/results.md (per seed, and the mean; and, from
reports/beyond_validation.jsonl, the validation runs' table, section 9's).
`--validation F` holds out a stratified fraction F of each sign of the training photos (the split
of `course.authoring.pretrained`, seed 0 whatever the training seed), trains on the rest and scores
the held-out photos too ("validation"), the numbers a recipe is chosen on; its lines go to
reports/beyond_validation.jsonl.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
RESNETS = ROOT / "source" / "resnets" / "Residual_Networks.ipynb"
BEYOND = ROOT / "source" / "beyond" / "Beyond_ResNet50.ipynb"
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from course.core import run_answers, solution_sources  # noqa: E402

RECIPES = {  # network, head, augmentation, warm-up
    "assignment1": ("v1", "flatten", False, False),
    "augmentation": ("v1", "flatten", True, False),
    "warmup": ("v1", "flatten", False, True),
    "v2": ("v2", "gap", False, False),
    "gap": ("v1", "gap", False, False),
    "combined": ("v1", "gap", True, True),
}
BATCH, PEAK = 32, 1e-3
OUT = ROOT / "reports" / "beyond.jsonl"


def build(recipe, v1, beyond, seed):
    """(the model to train, the network inside it whose BatchNorm statistics are re-estimated)"""
    network, head, augment, _ = RECIPES[recipe]
    if network == "v2":
        model = beyond["ResNet50V2"](input_shape=(64, 64, 3), classes=6)
    else:
        model = v1["ResNet50"](input_shape=(64, 64, 3), classes=6)
        if head == "gap":
            features = model.get_layer("conv5_block3_out").output
            model = keras.Model(model.input, beyond["gap_head"](features, 6), name="resnet50_gap")
    if not augment:
        return model, model
    inputs = keras.Input((64, 64, 3))
    return keras.Model(inputs, model(beyond["augmenter"](seed=seed)(inputs)),
                       name=f"augmented_{model.name}"), model


def run(recipe, seed, epochs, v1, beyond, data, shifted, validation=None):
    X_train, Y_train, X_test, labels_test = data
    keras.utils.set_random_seed(seed)
    model, network = build(recipe, v1, beyond, seed)
    steps = epochs * int(np.ceil(len(X_train) / BATCH))
    warmup = int(np.ceil(len(X_train) / BATCH)) if RECIPES[recipe][3] else 0
    if warmup:
        schedule = beyond["StepSchedule"](beyond["warmup_cosine"], peak=PEAK,
                                          warmup_steps=warmup, total_steps=steps)
    else:
        schedule = keras.optimizers.schedules.CosineDecay(PEAK, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(X_train, Y_train, epochs=epochs, batch_size=BATCH, verbose=2)
    seconds = time.perf_counter() - start
    v1["reestimate_bn_statistics"](network, X_train)  # the photos as they are, not augmented
    row = {"recipe": recipe, "seed": seed, "epochs": epochs, "fit_seconds": round(seconds, 1),
           "fit_accuracy_last_epoch": round(history.history["accuracy"][-1], 4)}
    if validation is not None:
        X_val, labels_val = validation
        row["training_photos"] = len(X_train)
        row["validation"] = accuracy(model, X_val, labels_val)
    return {**row, **scores(model, X_test, labels_test, shifted)}


def accuracy(model, images, labels):
    return float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels))


def scores(model, X_test, labels_test, shifted):
    """{"test", "shifted" (by kind), "shifted_mean"}: `model`'s accuracy on the test photos and
    on each kind of the shifted test set (`shifted`: {kind: photos}, scaled like X_test)."""
    by_kind = {kind: accuracy(model, images, labels_test) for kind, images in shifted.items()}
    return {"test": accuracy(model, X_test, labels_test), "shifted": by_kind,
            "shifted_mean": float(np.mean(list(by_kind.values())))}


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recipes = [r for r in RECIPES if any(row["recipe"] == r for row in rows)]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for offset, (key, label) in enumerate([("test", "clean test set"),
                                           ("shifted_mean", "shifted test set (mean of 6)")]):
        for i, recipe in enumerate(recipes):
            values = [row[key] for row in rows if row["recipe"] == recipe]
            x = i + (offset - 0.5) * 0.3
            ax.bar(x, np.mean(values), width=0.3, color=f"C{offset}",
                   label=label if i == 0 else None)
            ax.plot([x] * len(values), values, "k.", markersize=4)
    ax.set(xticks=range(len(recipes)), xticklabels=recipes, ylim=(0.5, 1.0),
           ylabel="accuracy (BN re-estimated)",
           title=f"SIGNS, {rows[0]['epochs']} epochs: mean over seeds (dots: each seed)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def table(rows):
    """Markdown: one row per recipe, each cell the seeds' values and their mean."""
    kinds = list(rows[0]["shifted"])
    columns = ["test", "shifted_mean"] + kinds
    lines = ["| recipe | seeds | clean test | shifted, mean of 6 | " + " | ".join(kinds) + " |",
             "| --- " * (len(columns) + 2) + "|"]
    for recipe in RECIPES:
        runs = sorted((row for row in rows if row["recipe"] == recipe), key=lambda r: r["seed"])
        if not runs:
            continue
        cells = []
        for column in columns:
            values = [run[column] if column in run else run["shifted"][column] for run in runs]
            cells.append(" / ".join(f"{v:.3f}" for v in values) + f" (**{np.mean(values):.3f}**)")
        seeds = ", ".join(str(run["seed"]) for run in runs)
        lines.append(f"| {recipe} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def spread(values):
    """Mean (lowest–highest) of a recipe's seeds: how section 9 states a number."""
    return f"{np.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def validation_table(rows):
    """Markdown of the validation runs (--validation): per recipe, over its seeds, the accuracy
    on the held-out photos (what a recipe is chosen on), then on the test photos, on the shifted
    test set (the mean of its six kinds) and under brightness and colour (the two the augmenter
    trades): the table of the notebook's section 9 and of results.md."""
    lines = ["| recipe | seeds | validation | clean test | shifted test, mean of 6 | brightness | "
             "colour |", "| --- " * 7 + "|"]
    for recipe in RECIPES:
        runs = sorted((row for row in rows if row["recipe"] == recipe), key=lambda r: r["seed"])
        if runs:
            cells = [spread([run[key] for run in runs])
                     for key in ("validation", "test", "shifted_mean")]
            cells += [spread([run["shifted"][kind] for run in runs])
                      for kind in ("brightness", "colour")]
            lines.append(f"| `{recipe}` | {', '.join(str(run['seed']) for run in runs)} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--notebook", type=Path, default=BEYOND)
    parser.add_argument("--validation", type=float, default=None, metavar="F",
                        help="hold out this fraction of each sign of the training photos")
    parser.add_argument("--plot", action="store_true",
                        help="only draw reports/beyond.png and print the table")
    args = parser.parse_args()
    OUT.parent.mkdir(exist_ok=True)
    if args.plot:
        rows = [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]
        plot(rows, ROOT / "reports" / "beyond.png")
        print(f"wrote {ROOT / 'reports' / 'beyond.png'} from {len(rows)} runs")
        print(table(rows))
        held = OUT.with_name("beyond_validation.jsonl")
        if held.exists():
            print(validation_table([json.loads(line) for line in held.read_text().splitlines()
                                    if line.strip()]))
        return 0
    v1 = run_answers(solution_sources(RESNETS), RESNETS)
    beyond = run_answers(solution_sources(args.notebook), args.notebook)
    X_train, labels_train, X_test, labels_test, _ = beyond["load_signs_dataset"](ROOT / "datasets")
    validation, out = None, OUT
    if args.validation is not None:
        from course.authoring.pretrained import split

        train, held = split(labels_train, args.validation, seed=0)
        validation = (X_train[held] / 255.0, labels_train[held])
        X_train, labels_train = X_train[train], labels_train[train]
        out = OUT.with_name("beyond_validation.jsonl")
    data = (X_train / 255.0, np.eye(6, dtype="float32")[labels_train], X_test / 255.0,
            labels_test)
    shifted = {kind: images / 255.0
               for kind, images in beyond["shifted_test_set"](X_test, seed=0).items()}
    for seed in args.seeds:
        for recipe in args.recipes:
            row = run(recipe, seed, args.epochs, v1, beyond, data, shifted, validation)
            row["versions"] = {"keras": keras.__version__}
            print(json.dumps(row), flush=True)
            with open(out, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
