"""Hidden checks for the Degradation Problem assignment (instructor only; never released).

Each check builds the student's function on fixed inputs, sets every weight from NumPy with seeds
derived from the layer's role (never from Keras' initializer streams), and compares the outputs
with references.npz, made from the instructor solution by `python -m course.authoring.references`.

The `*_outputs` functions (OUTPUTS) run in the student's kernel after their notebook, beside code
that may be hostile, so they need nothing secret. This file imports nothing of the course's.
Tolerance: course/hidden/judge.py's (atol 1e-4, rtol 1e-3), on outputs of order 1.
"""

import keras
import numpy as np
from keras import layers

# (input shape, filters, stride, residual): the identity shortcut, a projection for a stride,
# a projection for a change of width at stride 1, and plain blocks with and without a stride
BLOCK_CASES = [((3, 6, 6, 4), 4, 1, True), ((3, 7, 7, 3), 5, 2, True), ((2, 6, 6, 3), 6, 1, True),
               ((3, 6, 6, 4), 4, 1, False), ((2, 7, 7, 4), 6, 2, False)]
NETWORK_CASES = [(2, True, (4, 32, 32, 3), 5), (1, False, (3, 16, 16, 3), 4)]
GRADIENT_CASES = [(1, 8, 0), (2, 6, 1)]  # (blocks per stage, images, seed)


# course/hidden/roles.py, given to this module by course.hidden.untrusted.load_checks
roles = globals()["roles"]
# weights by role (course/hidden/roles.py says why the assignments' settings differ)
ROLES = roles.Roles(conv_kernel="normal", conv_bias="zero", dense_scale=0.3)
set_role_weights, set_layer_role_weights = ROLES.set_model, ROLES.set_layer
_seed, _role, _inputs, _moving_statistics = (roles.seed, roles.role, roles.inputs,
                                             roles.moving_statistics)


def _modes(model, x):
    """Inference output, training-mode output, and the moving statistics that training call
    left (a changed momentum shows there)."""
    set_role_weights(model)
    return {"inference": np.asarray(model(x)), "training": np.asarray(model(x, training=True)),
            "moving statistics after a training call": _moving_statistics(model)}


REGULARIZERS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "gamma_regularizer", "beta_regularizer")


def described(layer):
    """What the specification fixes of a layer, as text: its name, a convolution's
    initializer, and any regularizer (the specification has none: one changes the training
    loss that the experiment measures, not an output)."""
    text = layer.name
    if isinstance(layer, layers.Conv2D):
        text += f" {type(layer.kernel_initializer).__name__}"
    for attribute in REGULARIZERS:
        if getattr(layer, attribute, None) is not None:
            text += f" {attribute}"
    return text


def block_outputs(basic_block):
    results = {}
    for i, (shape, filters, stride, residual) in enumerate(BLOCK_CASES):
        inputs = keras.Input(shape[1:])
        model = keras.Model(inputs, basic_block(inputs, filters, stride, residual, name="b"))
        # the layers the specification names (b_1_conv, ..., b_add, b_out): names, initializers
        results[f"basic_block/{i}/named layers"] = np.array(sorted(
            described(layer) for layer in model.layers if layer.name.startswith("b_")))
        results[f"basic_block/{i}/regularization losses"] = np.array(len(model.losses),
                                                                     dtype=np.int64)
        for mode, value in _modes(model, _inputs(shape)).items():
            results[f"basic_block/{i}/{mode}"] = value
    return results


def stand_in_block(X, filters, stride=1, residual=True, name=None):
    """A block without BatchNormalization, built from its arguments alone: build_network is
    graded on its own (the student's block is graded in its own cell). The main path is scaled
    by 0.3 so that many additions keep the outputs of order 1."""
    Y = layers.Activation("relu")(layers.Conv2D(filters, 3, strides=stride, padding="same")(X))
    Y = layers.Rescaling(0.3)(layers.Conv2D(filters, 3, padding="same")(Y))
    if residual:
        if stride != 1 or X.shape[-1] != filters:
            X = layers.Conv2D(filters, 1, strides=stride)(X)
        Y = layers.Add()([Y, X])
    return layers.Activation("relu")(Y)


NETWORK_NAMES = ("stem_conv", "stem_bn", "stem_relu", "avg_pool", "predictions")


def network_outputs(build_network):
    import test_utils

    results = {}
    for n, residual, shape, classes in NETWORK_CASES:
        names = []

        def recording_block(X, filters, stride=1, residual=True, name=None):
            names.append(str(name))  # noqa: B023 - called within this iteration
            return stand_in_block(X, filters, stride, residual, name)

        with test_utils.replaced_globals(build_network, basic_block=recording_block):
            model = build_network(n, residual, input_shape=shape[1:], classes=classes)
        case = f"n={n}, residual={residual}"
        results[f"build_network/{case}/model name"] = np.array([str(model.name)])
        results[f"build_network/{case}/block names"] = np.array(names)
        results[f"build_network/{case}/named layers"] = np.array(sorted(
            described(layer) for layer in model.layers if layer.name in NETWORK_NAMES))
        for mode, value in _modes(model, _inputs(shape)).items():
            results[f"build_network/{case}/{mode}"] = value
    return results


def gradient_outputs(stage_gradient_norms):
    import test_utils

    results = {}
    for blocks, count, seed in GRADIENT_CASES:
        model = test_utils.tiny_staged_model(blocks=blocks, classes=4)
        set_role_weights(model)
        rng = np.random.default_rng(_seed("gradients", blocks, count, seed))
        X = rng.uniform(0, 1, (count, 8, 8, 3)).astype("float32")
        Y = np.eye(4, dtype="float32")[rng.integers(0, 4, count)]
        found = stage_gradient_norms(model, X, Y)
        results[f"stage_gradient_norms/blocks={blocks}/types of the values"] = np.array(
            sorted(f"{key} {type(value).__name__}" for key, value in found.items()))
        results[f"stage_gradient_norms/blocks={blocks}/norms"] = np.array(
            [float(found[f"stage{k}"]) for k in (1, 2, 3)])
    return results


# The outputs of each graded function; the keys of references.npz start with its name.
OUTPUTS = {"basic_block": block_outputs, "build_network": network_outputs,
           "stage_gradient_norms": gradient_outputs}
EAGER = set()
