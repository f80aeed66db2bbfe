"""Data loading and small helpers for the Residual Networks assignment.

Everything here is given to students; nothing here is graded.
"""
import os
from pathlib import Path

import h5py
import numpy as np

SIGNS_FILES = {
    "train_signs.h5": ("train_set_x", "train_set_y"),
    "test_signs.h5": ("test_set_x", "test_set_y"),
}
IMAGE_SHAPE = (64, 64, 3)
NUM_CLASSES = 6
DIGITS_FOLDER = "sign-language-digits-6to9"  # the transfer-learning task: signs 6, 7, 8, 9
DIGITS_CLASSES = (6, 7, 8, 9)

# nbgrader sets NBGRADER_EXECUTION to "autograde" or "validate" while it runs a notebook:
# the documented switch for shortening long cells (training) during grading only.
GRADING = os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")


def layer_name(prefix, suffix):
    """Name of a block's layer, keras.applications style:
    ("conv2_block1", "1_conv") -> "conv2_block1_1_conv".

    Returns None when the block has no prefix, so Keras picks a unique name itself.
    """
    return None if prefix is None else f"{prefix}_{suffix}"


DATA_VARIABLE = "SIGNS_DATA_DIR"  # JupyterHub sets it to one read-only folder for every student
DATA_FILES = {"train_signs.h5": "SIGNS training images", "test_signs.h5": "SIGNS test images",
              "example_hand.jpg": "a photo for section 7",
              DIGITS_FOLDER: "signs 6-9 photos for section 9"}
PRETRAINED = "resnet50.h5"  # the pretrained model of sections 8 and 9, in the same data folder


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


def find_pretrained():
    """The pretrained model's path in the course's data folder (find_datasets_dir), or None with
    a message saying where it was looked for."""
    path = find_datasets_dir() / PRETRAINED
    if not path.exists():
        print(f"{PRETRAINED} is not in the course's data folder ({path.parent}): ask your "
              "instructor for it. Sections 8 and 9 need it; everything else works without it.")
        return None
    return path


def find_datasets_dir(start=None):
    """The folder holding every file of DATA_FILES.

    $SIGNS_DATA_DIR when it is set (on JupyterHub: the course's shared data folder), from any
    working folder; otherwise the first `datasets/` folder holding them, in `start` (default:
    the working directory) or one of its parents. Stops with one message that lists what the
    notebook needs and every folder it looked in.
    """
    if os.environ.get(DATA_VARIABLE):
        candidates = [Path(os.environ[DATA_VARIABLE]).expanduser()]
    else:
        here = Path(start or Path.cwd()).resolve()
        candidates = [folder / "datasets" for folder in (here, *here.parents)]
    looked = []
    for folder in candidates:
        missing = [name for name in DATA_FILES if not (folder / name).exists()]
        if not missing:
            return folder
        looked.append(f"{folder} ({'missing' if folder.is_dir() else 'no such folder'}"
                      f"{': ' + ', '.join(missing) if folder.is_dir() else ''})")
    where = (f"${DATA_VARIABLE}" if os.environ.get(DATA_VARIABLE)
             else f"datasets/ in the working folder and its parents (${DATA_VARIABLE} is not set)")
    raise FileNotFoundError(
        "the course data was not found: the notebook needs "
        + ", ".join(f"{name} ({what})" for name, what in DATA_FILES.items())
        + f" in one folder. Looked in {where}: " + "; ".join(looked) + ". Fix: on JupyterHub, "
        f"ask your instructor to set {DATA_VARIABLE} to the course's data folder; on your own "
        f"machine, set {DATA_VARIABLE} to the folder holding these files (your instructor "
        "gives you the folder).")


def read_signs_file(path):
    """Images (m, 64, 64, 3) uint8 and labels (m,) int64 of one SIGNS .h5 file, checked."""
    path = Path(path)
    x_key, y_key = SIGNS_FILES[path.name]
    if not path.exists():
        raise FileNotFoundError(f"{path} not found. Fix: set SIGNS_DATA_DIR to the course's data "
                                "folder, which holds it.")
    try:
        with h5py.File(path, "r") as f:
            images, labels = np.array(f[x_key]), np.array(f[y_key])
    except (OSError, KeyError) as error:
        raise ValueError(
            f"{path} is not a SIGNS file: expected an HDF5 file with datasets '{x_key}' and "
            f"'{y_key}' ({error}). Fix: get a fresh copy of the course's data folder from your "
            "instructor."
        ) from None
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or labels.shape != images.shape[:1]:
        raise ValueError(
            f"{path}: expected '{x_key}' of shape (m, 64, 64, 3) and '{y_key}' of shape (m,), "
            f"found {images.shape} and {labels.shape}. Fix: get a fresh copy of the course's "
            "data folder from your instructor."
        )
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"{path}: labels must lie in 0..5, found {labels.min()}..{labels.max()}.")
    return images, labels.astype(np.int64)


def load_signs_dataset(data_dir=None):
    """The SIGNS hand-sign dataset: 1,080 training and 120 test images of 0-5 raised fingers.

    Returns X_train (1080, 64, 64, 3) uint8, Y_train (1080,) int, X_test (120, 64, 64, 3),
    Y_test (120,), classes (6,).
    """
    data_dir = Path(data_dir) if data_dir else find_datasets_dir()
    X_train, Y_train = read_signs_file(data_dir / "train_signs.h5")
    X_test, Y_test = read_signs_file(data_dir / "test_signs.h5")
    return X_train, Y_train, X_test, Y_test, np.arange(NUM_CLASSES)


def read_digits_folder(folder, size=IMAGE_SHAPE[0]):
    """Images (m, size, size, 3) uint8 and labels (m,) 0..3 (signs 6..9) of the digits folder.

    The folder holds one subfolder per sign (6/ 7/ 8/ 9/) of 100×100 JPEGs; each image is
    downscaled to size×size with box filtering (the average of the pixels it covers).
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    images, labels = [], []
    for label, sign in enumerate(DIGITS_CLASSES):
        files = sorted(path for path in (folder / str(sign)).glob("*")
                       if path.suffix.lower() in (".jpg", ".jpeg"))
        if not files:
            raise FileNotFoundError(
                f"{folder / str(sign)} has no JPEG images: expected folders 6/ 7/ 8/ 9/ of "
                f"sign-language digit photos in {folder}. Fix: set SIGNS_DATA_DIR to the "
                "course's data folder, which holds it.")
        for path in files:
            try:
                with Image.open(path) as image:
                    image = image.convert("RGB").resize((size, size), Image.Resampling.BOX)
            except (OSError, UnidentifiedImageError) as error:
                raise ValueError(f"{path} is not a readable image ({error}). Fix: get a "
                                 "fresh copy of the course's data folder from your "
                                 "instructor.") from None
            images.append(np.asarray(image))
            labels.append(label)
    return np.stack(images), np.array(labels, dtype=np.int64)


def load_digits_dataset(data_dir=None, held_out=0.2, seed=0):
    """The transfer-learning task: photos of the signs 6, 7, 8 and 9, resized to 64×64.

    A fixed stratified split (`seed`) holds out `held_out` of each class for evaluation. The
    training images are interleaved by class, so that every prefix X_train[:n] holds the four
    signs in proportion: X_train[:66] is a stratified 10% subset.

    Returns X_train (m, 64, 64, 3) uint8, Y_train (m,) labels 0..3, X_test, Y_test, classes
    (the signs 6..9 that labels 0..3 stand for).
    """
    data_dir = Path(data_dir) if data_dir else find_datasets_dir()
    images, labels = read_digits_folder(data_dir / DIGITS_FOLDER)
    rng = np.random.default_rng(seed)
    train, test, position = [], [], []
    for label in range(len(DIGITS_CLASSES)):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = int(round(held_out * len(members)))
        test.extend(members[:count])
        rest = members[count:]
        train.extend(rest)
        position.extend((np.arange(len(rest)) + 0.5) / len(rest))  # spread each class evenly
    train = np.array(train)[np.argsort(position, kind="stable")]
    test = np.sort(test)
    return (images[train], labels[train], images[test], labels[test],
            np.array(DIGITS_CLASSES))


def one_hot(labels, num_classes=NUM_CLASSES):
    """(m,) integer labels -> (m, num_classes) float32 one-hot rows.

    one_hot([2], 3) -> [[0, 0, 1]]
    """
    return np.eye(num_classes, dtype="float32")[np.asarray(labels).reshape(-1)]


def load_image(path, size=64):
    """One image file as a (1, size, size, 3) float array scaled to [0, 1], like the
    training data."""
    from keras.utils import img_to_array, load_img

    return img_to_array(load_img(path, target_size=(size, size)))[np.newaxis] / 255.0


def plot_history(history, path=None):
    """Loss and accuracy per epoch of a Keras History; saved to `path` when given."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.plot(range(1, len(history.history[metric]) + 1), history.history[metric], marker="o")
        ax.set(xlabel="epoch", ylabel=f"training {metric}")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100)
    return fig


def accuracy_with_batch_statistics(model, X, Y, batch_size=32):
    """Accuracy when every batch is normalized by its own statistics (training-mode BatchNorm).

    What tf.keras 2 did with the original course's pinned training=True. The model's moving
    statistics are restored afterwards, so the model is left as it was.
    """
    saved = [w.numpy() for w in model.non_trainable_weights]
    predictions = np.concatenate([np.asarray(model(X[i:i + batch_size], training=True))
                                  for i in range(0, len(X), batch_size)])
    for weight, value in zip(model.non_trainable_weights, saved):
        weight.assign(value)
    return float(np.mean(np.argmax(predictions, axis=1) == np.argmax(Y, axis=1)))
