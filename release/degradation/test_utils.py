"""Helpers behind the Degradation Problem's public tests: what a block built, in words, and a
small network named like build_network's for the gradient exercise.

The graph helpers are those of the Residual Networks assignment's test_utils (each released
assignment folder stands alone).
"""
import functools
import logging
from contextlib import contextmanager

import keras
import numpy as np
from keras import layers

# The tests run small models; TensorFlow may warn about retracing on stderr, and nbgrader counts
# any stderr output of a test cell as a failure.
logging.getLogger("tensorflow").setLevel(logging.ERROR)


def kind(operation):
    """A short word for a graph operation: conv, bn, relu, add, or the class name."""
    if isinstance(operation, layers.Conv2D):
        return "conv"
    if isinstance(operation, layers.BatchNormalization):
        return "bn"
    if isinstance(operation, layers.ReLU):
        return "relu"
    if isinstance(operation, layers.Activation):
        activation = getattr(operation.activation, "__name__", str(operation.activation))
        return "relu" if activation == "relu" else activation
    name = type(operation).__name__
    if name in ("Add", "Relu"):  # layers.Add, or keras.ops.add / ops.relu on symbolic tensors
        return name.lower()
    return name


def producer(tensor):
    """(operation, node) that produced a symbolic tensor."""
    operation, node_index, _ = tensor._keras_history
    return operation, operation._inbound_nodes[node_index]


def chain_back(tensor, stop):
    """Walk back from `tensor` through one-input operations until `stop` or a merge.

    Returns (steps in forward order as (operation, node), the merge node or None).
    """
    steps = []
    while tensor is not stop:
        operation, node = producer(tensor)
        if isinstance(operation, layers.InputLayer):
            break
        inputs = [t for t in node.input_tensors if t is not None]
        if len(inputs) != 1:
            return steps[::-1], (operation, node)
        steps.append((operation, node))
        tensor = inputs[0]
    return steps[::-1], None


def describe(steps):
    """'conv → bn → relu' for a list of steps."""
    return " → ".join(kind(op) for op, _ in steps) or "(nothing: X itself)"


def trace_block(block, input_shape, *args, **kwargs):
    """Build `block` on a symbolic input and split it at the addition.

    Returns a dict: output (tensor), after (steps after the merge), merge (operation or None),
    branches (list of step lists, one per merge input, each traced back to the block input).
    """
    inputs = keras.Input(input_shape[1:])
    output = block(inputs, *args, **kwargs)
    after, merge = chain_back(output, inputs)
    branches = []
    if merge is not None:
        for tensor in merge[1].input_tensors:
            steps, inner_merge = chain_back(tensor, inputs)
            branches.append(steps if inner_merge is None else None)
    return {"output": output, "after": after, "merge": merge and merge[0], "branches": branches}


def conv_settings(operation):
    """(filters, kernel size, strides, padding) of a Conv2D layer."""
    return (operation.filters, tuple(operation.kernel_size), tuple(operation.strides),
            operation.padding)


def _swapped(value, originals):
    """`value` with the functions of `originals` ({id: stand-in}) replaced: the function itself,
    or a functools.partial of it (nested partials too); None if it holds none of them."""
    if id(value) in originals:
        return originals[id(value)]
    if isinstance(value, functools.partial):
        inner = _swapped(value.func, originals)
        if inner is not None:
            return functools.partial(inner, *value.args, **value.keywords)
    return None


@contextmanager
def replaced_globals(function, **replacements):
    """Temporarily run `function` (a notebook cell's function) on other functions: lets a test
    run the student's ResNet50 on stand-in blocks, so it grades that cell's own code.

    `replacements` names globals of `function` ({"identity_block": stand_in, ...}). Replaced
    wherever `function` can reach the originals: under their own names, under any other global
    name (`block = identity_block`), inside a functools.partial bound at cell level
    (`partial(identity_block, f=3)`), in `function`'s default arguments and in its closure.
    """
    namespace = function.__globals__
    missing = object()
    originals = {id(namespace[name]): new for name, new in replacements.items()
                 if name in namespace}
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    for name, value in list(namespace.items()):
        if name not in replacements:
            swapped = _swapped(value, originals)
            if swapped is not None:
                saved[name] = value
                namespace[name] = swapped
    defaults, kwdefaults = function.__defaults__, function.__kwdefaults__
    if defaults:
        function.__defaults__ = tuple(_swapped(v, originals) or v for v in defaults)
    if kwdefaults:
        function.__kwdefaults__ = {k: _swapped(v, originals) or v for k, v in kwdefaults.items()}
    cells = [(cell, cell.cell_contents) for cell in function.__closure__ or ()
             if _cell_value(cell, missing) is not missing
             and _swapped(cell.cell_contents, originals) is not None]
    for cell, value in cells:
        cell.cell_contents = _swapped(value, originals)
    try:
        yield
    finally:
        for cell, value in cells:
            cell.cell_contents = value
        function.__defaults__, function.__kwdefaults__ = defaults, kwdefaults
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _cell_value(cell, missing):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return missing


def tiny_staged_model(blocks=1, classes=3, size=8, seed=0):
    """A small network named like build_network's, with fixed weights: a stem, three stages of
    `blocks` residual basic blocks (4, 6 and 8 filters; projection shortcuts where the width
    changes) and a softmax head, on size×size RGB images. Its BatchNorm moving statistics are
    not 0 and 1, so inference and training mode differ."""
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(4, 3, padding="same", name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage, width in enumerate((4, 6, 8), start=1):
        for block in range(1, blocks + 1):
            name, stride = f"stage{stage}_block{block}", 2 if stage > 1 and block == 1 else 1
            shortcut = x
            y = layers.Conv2D(width, 3, strides=stride, padding="same", name=f"{name}_1_conv")(x)
            y = layers.Activation("relu", name=f"{name}_1_relu")(
                layers.BatchNormalization(name=f"{name}_1_bn")(y))
            y = layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
            y = layers.BatchNormalization(name=f"{name}_2_bn")(y)
            if stride != 1 or shortcut.shape[-1] != width:
                shortcut = layers.Conv2D(width, 1, strides=stride, name=f"{name}_0_conv")(shortcut)
                shortcut = layers.BatchNormalization(name=f"{name}_0_bn")(shortcut)
            x = layers.Activation("relu", name=f"{name}_out")(
                layers.Add(name=f"{name}_add")([y, shortcut]))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 2.0, w.shape).astype("float32") if "variance" in w.path
                       else rng.normal(0, 0.5, w.shape).astype("float32") for w in model.weights])
    return model


def tiny_batch(count=8, classes=3, seed=0, size=8):
    """`count` random size×size RGB images in [0, 1] and one-hot labels, for tiny_staged_model."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (count, size, size, 3)).astype("float32")
    return images, np.eye(classes, dtype="float32")[rng.integers(0, classes, count)]
