"""Data loading and small helpers for the Degradation Problem assignment.

Everything here is given to students; nothing here is graded.
"""
import os
from pathlib import Path

import h5py
import numpy as np

IMAGE_SHAPE = (64, 64, 3)
NUM_CLASSES = 6
DATA_VARIABLE = "SIGNS_DATA_DIR"  # JupyterHub sets it to one read-only folder for every student
TRAIN_FILE = "train_signs.h5"  # the SIGNS training images: all this notebook needs

# nbgrader sets NBGRADER_EXECUTION to "autograde" or "validate" while it runs a notebook:
# the documented switch for skipping long cells (training) during grading only.
GRADING = os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")


def layer_name(prefix, suffix):
    """("stage1_block2", "1_conv") -> "stage1_block2_1_conv"; None without a prefix (Keras then
    picks a unique name itself)."""
    return None if prefix is None else f"{prefix}_{suffix}"


def find_datasets_dir(start=None):
    """The folder holding train_signs.h5: $SIGNS_DATA_DIR when it is set (on JupyterHub), else
    the first `datasets/` folder holding it, in `start` (default: the working directory) or one
    of its parents. Stops with one message naming every folder it looked in."""
    if os.environ.get(DATA_VARIABLE):
        candidates = [Path(os.environ[DATA_VARIABLE]).expanduser()]
    else:
        here = Path(start or Path.cwd()).resolve()
        candidates = [folder / "datasets" for folder in (here, *here.parents)]
    for folder in candidates:
        if (folder / TRAIN_FILE).exists():
            return folder
    raise FileNotFoundError(
        f"{TRAIN_FILE} (the SIGNS training images) was not found; looked in "
        + ", ".join(str(folder) for folder in candidates) + f". Fix: set {DATA_VARIABLE} to the "
        "course's data folder (on JupyterHub, ask your instructor to set it).")


def load_signs_training_set(data_dir=None, size=64):
    """The 1,080 SIGNS training images (m, size, size, 3) as float32 in [0, 1], and their labels
    (m,) 0..5, checked. size=32 averages each 2×2 square of pixels (a quarter of the compute for
    the same networks)."""
    path = Path(data_dir or find_datasets_dir()) / TRAIN_FILE
    try:
        with h5py.File(path, "r") as f:
            images, labels = np.array(f["train_set_x"]), np.array(f["train_set_y"])
    except (OSError, KeyError) as error:
        raise ValueError(f"{path} is not a SIGNS file: expected an HDF5 file with datasets "
                         f"'train_set_x' and 'train_set_y' ({error}). Fix: get a fresh copy of "
                         "the course's data folder from your instructor.") from None
    if images.shape[1:] != IMAGE_SHAPE or labels.shape != images.shape[:1] or (
            labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{path}: expected images (m, 64, 64, 3) and labels (m,) in 0..5, found "
                         f"{images.shape} and {labels.shape}. Fix: get a fresh copy of the "
                         "course's data folder from your instructor.")
    if size not in (64, 32, 16):
        raise ValueError(f"size={size}: expected 64, 32 or 16 (64 / 2**k).")
    factor = IMAGE_SHAPE[0] // size
    images = images.astype("float32").reshape(-1, size, factor, size, factor, 3).mean(axis=(2, 4))
    return images / 255, labels.astype(np.int64)


def one_hot(labels, num_classes=NUM_CLASSES):
    """(m,) integer labels -> (m, num_classes) float32 one-hot rows."""
    return np.eye(num_classes, dtype="float32")[np.asarray(labels).reshape(-1)]


def check_range(what, value, low, high):
    """Say whether `value`, a measured number, lies in the range the notebook's text gives for
    `what`. Inside, the line leaves the value out, so it reads the same on every run."""
    if value is None:
        print(f"{what}: not measured (its cell was skipped)")
    elif low <= value <= high:
        print(f"{what}: within the expected range, {low:g} to {high:g}")
    else:
        print(f"{what}: {value:.3f}, OUTSIDE the expected range {low:g} to {high:g}: compare your "
              "code with the specification, or ask your instructor")


def block_changes(model, X):
    """{block: ||y - x|| / ||x||, over the images X} for each block whose output y has the shape
    of its input x: how much the block changes what it receives (0: it is the identity). Measured
    in training mode, BatchNorm normalising with the statistics of X itself: after a short run the
    moving averages lag behind the weights (assignment 1, section 7), and inference mode would
    measure them too. The moving averages are put back as they were. Blocks are found by their
    layer names, {block}_1_conv and {block}_out."""
    import keras

    blocks = [layer.name.removesuffix("_1_conv") for layer in model.layers
              if layer.name.endswith("_1_conv")]
    pairs = [(model.get_layer(f"{block}_1_conv").input, model.get_layer(f"{block}_out").output)
             for block in blocks]
    kept = [(block, pair) for block, pair in zip(blocks, pairs)
            if tuple(pair[0].shape) == tuple(pair[1].shape)]
    probe = keras.Model(model.input, [tensor for _, pair in kept for tensor in pair])
    moving = [weight.numpy() for weight in model.non_trainable_weights]
    try:
        outputs = [np.asarray(output) for output in probe(X, training=True)]
    finally:
        for weight, value in zip(model.non_trainable_weights, moving):
            weight.assign(value)
    return {block: float(np.linalg.norm(outputs[2 * i + 1] - outputs[2 * i])
                         / np.linalg.norm(outputs[2 * i]))
            for i, (block, _) in enumerate(kept)}


def plot_block_changes(changes, path=None):
    """block_changes of several networks {name: {block: change}}, each block at its depth in
    its network (the blocks that change the shape, left out, leave gaps), plain networks dashed;
    saved to `path` when given."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    for name, found in changes.items():
        n = int(name.removeprefix("plain").removeprefix("residual")) // 6  # 6n + 2 layers
        depth = {f"stage{stage}_block{block}": (stage - 1) * n + block
                 for stage in (1, 2, 3) for block in range(1, n + 1)}
        ax.plot([depth[block] for block in found], list(found.values()),
                "--" if name.startswith("plain") else "-", marker="o", markersize=3, label=name)
    ax.axhline(0, color="gray", linestyle=":", label="0: the identity")
    ax.set(xlabel="block (1 = nearest the input)", ylabel="||y - x|| / ||x||", ylim=(0, None))
    return _finish(fig, [ax], path)


def _finish(fig, axes, path):
    """A grid and a legend on each of `axes`; the figure saved to `path` when given."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100)
    return fig


def plot_curves(histories, path=None):
    """Training loss and error per epoch of {label: {"loss": [...], "accuracy": [...]}}, plain
    networks dashed, as in He et al. (2015), Figure 1; saved to `path` when given."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for label, history in histories.items():
        style = "--" if label.startswith("plain") else "-"
        epochs = range(1, len(history["loss"]) + 1)
        axes[0].plot(epochs, history["loss"], style, marker="o", markersize=3, label=label)
        axes[1].plot(epochs, [1 - a for a in history["accuracy"]], style, marker="o",
                     markersize=3, label=label)
    # chance level: a uniform guess over the 6 signs has loss ln 6 and error 5/6
    axes[0].axhline(np.log(6), color="gray", linestyle=":", label="chance (ln 6 = 1.79)")
    axes[1].axhline(5 / 6, color="gray", linestyle=":", label="chance (5/6)")
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log")
    axes[1].set(xlabel="epoch", ylabel="training error (1 - accuracy)", ylim=(0, 1))
    return _finish(fig, axes, path)
