"""Helpers behind every assignment's public tests (one file: the other assignments' source
folders link to it, and each released folder holds a copy of it, so that it stands alone): how a
test reports, and what a block built, in words.

A block is traced from its output back to its input through the Keras functional graph, so the
tests can name the mistake ("the shortcut has no BatchNormalization") instead of printing tensors.
"""
import functools
import logging
from contextlib import contextmanager

import keras
import numpy as np
from keras import layers

# The tests run many small fits; TensorFlow then warns about retracing on stderr, and nbgrader
# counts any stderr output of a test cell as a failure.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

PASS = "\033[92mAll tests passed!\033[0m"


def fail(where, message):
    raise AssertionError(f"{where}: {message}")


def first_line(error):
    if isinstance(error, NotImplementedError):
        return ("NotImplementedError: the function is not written yet (replace "
                "`raise NotImplementedError()` with your code)")
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"


def names_errors(test):
    """An error raised by the student's code inside `test` becomes one failure naming the
    function (the original error and its traceback follow it)."""
    where = test.__name__.removesuffix("_test")

    @functools.wraps(test)
    def run(function):
        try:
            return test(function)
        except AssertionError:
            raise
        except Exception as error:
            raise AssertionError(f"{where}: your function raised {first_line(error)}") from error

    return run


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


def layer_of(tensor):
    """The operation (layer) that produced a symbolic tensor."""
    return producer(tensor)[0]


def input_of(layer):
    """The input tensor of a layer called once (a list of them for a merge)."""
    inputs = [t for t in layer._inbound_nodes[0].input_tensors if t is not None]
    return inputs[0] if len(inputs) == 1 else inputs


def pinned(node):
    """Whether a call (a graph node) fixes training=True/False in the graph."""
    return node.arguments.kwargs.get("training") is not None


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


def pinned_training(steps):
    """Names of BatchNormalization layers called with training=True/False fixed in the graph."""
    return [op.name for op, node in steps if kind(op) == "bn" and pinned(node)]


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


def tiny_bn_model(always_batch_statistics=False, seed=0, frozen=False, momentum=0.99):
    """A small conv → BN → ReLU → dense classifier with fixed weights, for the BatchNorm exercise.

    always_batch_statistics=True builds what the original course's `training=True` pin does under
    tf.keras 2 (and Keras master): BatchNormalization that uses batch statistics even in predict.
    The same on every Keras 3 version, because the layer itself ignores the caller's mode.
    frozen=True sets the BatchNorm layer's trainable to False (as when fine-tuning, section 9):
    it then uses and keeps its moving statistics in every mode. `momentum`: the BatchNorm layer's.
    """
    norm = BatchStatisticsNormalization if always_batch_statistics else layers.BatchNormalization
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = norm(axis=3, momentum=momentum)(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.5, 0.5, w.shape).astype("float32") if "variance" not in w.path
                       else rng.uniform(0.5, 2.0, w.shape).astype("float32")
                       for w in model.weights])
    if frozen:
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    return model


class BatchStatisticsNormalization(layers.BatchNormalization):
    """BatchNormalization pinned to training mode: the original course's bug, made explicit."""

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs, training=True, mask=mask)


def tiny_images(count=64, seed=0, size=8):
    """`count` random size×size RGB images in [0, 1], for tiny_bn_model (8) or
    tiny_pretrained_model (16)."""
    return np.random.default_rng(seed).uniform(0, 1, (count, size, size, 3)).astype("float32")


def tiny_pretrained_model(seed=0):
    """A small stand-in for the pretrained ResNet50, with fixed weights, for the transfer exercises.

    16×16 images; a stem, one residual block named like ResNet50's in a conv4_ and a conv5_ stage,
    and the same head layers (avg_pool, flatten, predictions for 6 classes), so code that works
    on it by layer name works on resnet50.h5 too. Its BatchNorm statistics are not 0 and 1, so
    a layer that updates them shows.
    """
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_conv")(inputs)
    x = layers.BatchNormalization(axis=3, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for stage in (4, 5):
        block = f"conv{stage}_block1"
        y = layers.Conv2D(8, 3, padding="same", name=f"{block}_1_conv")(x)
        y = layers.BatchNormalization(axis=3, name=f"{block}_1_bn")(y)
        y = layers.Activation("relu", name=f"{block}_1_relu")(y)
        y = layers.Conv2D(8, 1, name=f"{block}_2_conv")(y)
        y = layers.BatchNormalization(axis=3, name=f"{block}_2_bn")(y)
        x = layers.Add(name=f"{block}_add")([x, y])
        x = layers.Activation("relu", name=f"{block}_out")(x)
    x = layers.AveragePooling2D((2, 2), name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(6, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="resnet50")
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if weight.name == "moving_variance":
            value = rng.uniform(0.5, 2.0, weight.shape)
        elif weight.name == "gamma":
            value = rng.uniform(0.5, 1.5, weight.shape)
        else:
            value = rng.normal(0, 0.3, weight.shape)
        weight.assign(value.astype("float32"))
    return model


def tiny_transfer_model(classes=4):
    """What transfer_model builds, on tiny_pretrained_model: a frozen "backbone" (the stand-in up
    to "flatten") and a new softmax head "new_predictions". Tests unfreeze_last_stage alone."""
    pretrained = tiny_pretrained_model()
    backbone = keras.Model(pretrained.input, pretrained.get_layer("flatten").output,
                           name="backbone")
    backbone.trainable = False
    inputs = keras.Input(pretrained.input.shape[1:])
    outputs = layers.Dense(classes, activation="softmax", name="new_predictions")(backbone(inputs))
    return keras.Model(inputs, outputs, name="transfer")


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
