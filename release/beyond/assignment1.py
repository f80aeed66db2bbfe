"""Your assignment-1 functions (identity_block, convolutional_block, ResNet50), read from your own
Residual_Networks notebook, so that this assignment reuses them without copying cells.

    from assignment1 import load_assignment1
    identity_block, convolutional_block, ResNet50 = load_assignment1()

The notebook is $RESNETS_NOTEBOOK when that is set, otherwise resnets/Residual_Networks.ipynb
beside this assignment's folder (where nbgrader puts the assignments you fetched). Nothing here
is graded: this assignment's graded exercises do not use assignment 1.
"""
import json
import os
from pathlib import Path

FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")
NOTEBOOK_VARIABLE = "RESNETS_NOTEBOOK"
NOTEBOOK = Path("..") / "resnets" / "Residual_Networks.ipynb"


class Assignment1Error(ValueError):
    """Assignment 1 cannot be read (unreadable, incomplete or unfinished): the message says why
    and what to do. Any other error comes from the code of assignment 1 itself."""


def _names():
    """What the assignment-1 notebook's imports cell gives its answer cells."""
    import keras
    import numpy as np
    from keras import layers

    from resnets_utils import layer_name

    names = {name: getattr(layers, name) for name in (
        "Activation", "Add", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense",
        "Flatten", "Input", "MaxPooling2D", "ZeroPadding2D")}
    return {**names, "keras": keras, "np": np, "Model": keras.models.Model,
            "glorot_uniform": keras.initializers.glorot_uniform, "layer_name": layer_name}


def load_assignment1(path=None):
    """(identity_block, convolutional_block, ResNet50) as your assignment-1 notebook defines them.
    Stops with one message if the notebook is missing or a function is not written."""
    path = Path(path or os.environ.get(NOTEBOOK_VARIABLE) or NOTEBOOK)
    if not path.exists():
        raise FileNotFoundError(
            f"your assignment-1 notebook was not found at {path.resolve()}. Fix: fetch and "
            f"complete assignment 1 (resnets) beside this one, or set {NOTEBOOK_VARIABLE} to "
            "its path.")
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise Assignment1Error(f"{path} is not a readable notebook ({error}). Fix: set "
                               f"{NOTEBOOK_VARIABLE} to your Residual_Networks.ipynb.") from None
    namespace = _names()
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in FUNCTIONS:
            exec(compile("".join(cell["source"]), f"{path.name}: {grade_id}", "exec"), namespace)
    missing = [name for name in FUNCTIONS if name not in namespace]
    if missing:
        raise Assignment1Error(f"{path} defines no {', '.join(missing)}. Fix: use your own "
                               "Residual_Networks notebook, with its exercise cells kept.")
    try:
        namespace["ResNet50"](input_shape=(64, 64, 3), classes=6)
    except NotImplementedError:
        raise Assignment1Error(f"{path}: your ResNet50 or one of its blocks is not written yet "
                               "(NotImplementedError). Fix: complete assignment 1 first.") from None
    return tuple(namespace[name] for name in FUNCTIONS)
