"""Public tests for the Degradation Problem assignment. Run them in the notebook as often as you
like.

Each test builds your function on a small input and stops at the first difference from the
specification, with a message that says what is wrong and where.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from test_utils import (PASS, chain_back, conv_settings, describe, fail, first_line, kind,
                        names_errors, producer, replaced_globals, tiny_batch, tiny_staged_model,
                        trace_block)


def _check_conv(where, part, operation, filters, size, stride):
    if kind(operation) != "conv":
        fail(where, f"{part} starts with {kind(operation)}, expected a Conv2D.")
    want = (filters, (size, size), (stride, stride), "same" if size == 3 else "valid")
    compared = 4 if size == 3 else 3  # a 1×1 convolution pads nothing either way
    if conv_settings(operation)[:compared] != want[:compared]:
        fail(where, f"{part}'s Conv2D has (filters, kernel_size, strides, padding) = "
                    f"{conv_settings(operation)}, expected {want}.")
    initializer = type(operation.kernel_initializer).__name__
    if initializer != "HeNormal":
        fail(where, f"{part}'s Conv2D uses the {initializer} initializer, expected "
                    "kernel_initializer=\"he_normal\" (what the paper used).")
    _check_unregularized(where, part, operation)


REGULARIZERS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "gamma_regularizer", "beta_regularizer")


def _check_unregularized(where, part, operation):
    found = [name for name in REGULARIZERS if getattr(operation, name, None) is not None]
    if found:
        fail(where, f"{part}'s {type(operation).__name__} has a {found[0]}: the specification "
                    "has none (a penalty changes the training loss that the experiment "
                    "compares between the networks).")


def _check_bn(where, part, operation):
    if kind(operation) != "bn":
        fail(where, f"{part}: expected a BatchNormalization after the Conv2D, found "
                    f"{kind(operation)}.")
    if (operation.axis not in (-1, 3, [3], [-1]) or operation.momentum != 0.99
            or operation.epsilon != 1e-3 or not operation.center or not operation.scale):
        fail(where, f"{part}'s BatchNormalization has axis={operation.axis}, "
                    f"momentum={operation.momentum}, epsilon={operation.epsilon}: keep Keras' "
                    "defaults (BatchNormalization() with a name only).")
    _check_unregularized(where, part, operation)


def _check_names(where, steps, names):
    for (operation, _), want in zip(steps, names):
        if operation.name != want:
            fail(where, f"a layer is named {operation.name!r} where the specification says "
                        f"{want!r}: pass name=layer_name(name, ...) to every layer.")


@names_errors
def basic_block_test(basic_block):
    where = "basic_block"
    # (input shape, filters, stride, residual, the shortcut expected)
    cases = [((2, 8, 8, 4), 4, 1, True, "identity"), ((2, 8, 8, 3), 5, 2, True, "projection"),
             ((2, 8, 8, 3), 6, 1, True, "projection"), ((2, 8, 8, 4), 4, 1, False, None),
             ((2, 9, 9, 4), 6, 2, False, None)]
    for shape, filters, stride, residual, shortcut in cases:
        call = (f"basic_block(X of shape {shape}, filters={filters}, stride={stride}, "
                f"residual={residual})")
        try:
            block = trace_block(basic_block, shape, filters, stride, residual, name="b")
        except Exception as error:
            fail(where, f"{call} raised {first_line(error)}")
        output = block["output"]
        want = (None, -(-shape[1] // stride), -(-shape[2] // stride), filters)
        if tuple(output.shape) != want:
            fail(where, f"{call} returned shape {tuple(output.shape)}, expected {want}.")
        if residual and block["merge"] is None:
            fail(where, f"{call}: no addition found: a residual block adds the shortcut to the "
                        "main path, Add()([X, X_shortcut]), before the last ReLU.")
        if not residual and block["merge"] is not None:
            fail(where, f"{call}: a plain block (residual=False) must not add anything: it is "
                        "the same block without the shortcut.")
        if residual:
            if (kind(block["merge"]) != "add" or len(block["branches"]) != 2
                    or None in block["branches"]):
                fail(where, f"{call}: the merge should be one Add of the main path and the "
                            f"shortcut, found {kind(block['merge'])} of "
                            f"{len(block['branches'])} inputs.")
            after = block["after"]
            main, short = sorted(block["branches"], key=len, reverse=True)
        else:
            steps, _ = chain_back(output, None)
            main, after = steps[:-1], steps[-1:]
        if [kind(op) for op, _ in after] != ["relu"]:
            fail(where, f"{call}: after the {'addition' if residual else 'second BatchNorm'} "
                        f"comes {describe(after)}, expected one ReLU.")
        if [kind(op) for op, _ in main] != ["conv", "bn", "relu", "conv", "bn"]:
            fail(where, f"{call}: the main path is {describe(main)}, expected conv → bn → relu "
                        "→ conv → bn (the last ReLU comes after the addition).")
        _check_conv(where, "part 1", main[0][0], filters, 3, stride)
        _check_conv(where, "part 2", main[3][0], filters, 3, 1)
        for index in (1, 4):
            _check_bn(where, f"part {1 if index == 1 else 2}", main[index][0])
        names = ["b_1_conv", "b_1_bn", "b_1_relu", "b_2_conv", "b_2_bn"]
        _check_names(where, main, names)
        _check_names(where, after, ["b_out"])
        if residual:
            if shortcut == "identity" and short:
                fail(where, f"{call}: the shortcut is {describe(short)}; the shapes already "
                            "match, so it is X itself (a projection only where stride != 1 or "
                            "the number of channels changes).")
            if shortcut == "projection":
                if [kind(op) for op, _ in short] != ["conv", "bn"]:
                    fail(where, f"{call}: the shortcut is {describe(short)}; the shape changes, "
                                "so it is a projection: Conv2D(filters, 1, strides=stride) → "
                                "BatchNormalization.")
                _check_conv(where, "the shortcut", short[0][0], filters, 1, stride)
                _check_bn(where, "the shortcut", short[1][0])
                _check_names(where, short, ["b_0_conv", "b_0_bn"])
            if block["merge"].name != "b_add":
                fail(where, f"the addition is named {block['merge'].name!r}, expected 'b_add'.")
    try:  # without a name: Keras' own names, no error
        trace_block(basic_block, (2, 8, 8, 4), 4, 1, True)
        trace_block(basic_block, (2, 8, 8, 4), 4, 1, True)
    except Exception as error:
        fail(where, f"basic_block(X, 4) without a name raised {first_line(error)}: use "
                    "layer_name(name, ...), which gives None when name is None.")
    print(PASS)


def _spy_block(calls):
    """A stand-in for basic_block that records how build_network calls it."""
    def basic_block(X, filters, stride=1, residual=True, name=None):
        output = layers.Conv2D(filters, 1, strides=stride)(X)
        calls.append((filters, stride, residual, name))
        return output

    return basic_block


def _expected_calls(n, residual):
    return [(filters, 2 if stage > 1 and block == 1 else 1, residual, f"stage{stage}_block{block}")
            for stage, filters in enumerate((16, 32, 64), start=1) for block in range(1, n + 1)]


def _check_stem(where, model):
    names = [layer.name for layer in model.layers]
    for want in ("stem_conv", "stem_bn", "stem_relu", "avg_pool", "predictions"):
        if want not in names:
            fail(where, f"no layer named {want!r}: the stem and the head follow the table's "
                        "names (pass name=... to each layer).")
    conv = model.get_layer("stem_conv")
    _check_conv(where, "the stem", conv, 16, 3, 2)
    _check_bn(where, "the stem", model.get_layer("stem_bn"))
    stem = [kind(producer(t)[0]) for t in (model.get_layer("stem_bn").input,
                                           model.get_layer("stem_relu").input)]
    if stem != ["conv", "bn"]:
        fail(where, f"the stem should be stem_conv → stem_bn → stem_relu, found {stem}.")
    pool = model.get_layer("avg_pool")
    if not isinstance(pool, layers.GlobalAveragePooling2D):
        fail(where, f"avg_pool is a {type(pool).__name__}, expected GlobalAveragePooling2D.")
    dense = model.get_layer("predictions")
    if getattr(dense.activation, "__name__", "") != "softmax":
        fail(where, "the Dense layer 'predictions' has no softmax: use activation='softmax'.")


@names_errors
def build_network_test(build_network):
    where = "build_network"
    for n, residual, classes, shape in [(2, True, 5, (32, 32, 3)), (1, False, 6, (64, 64, 3))]:
        calls = []
        call = f"build_network({n}, residual={residual}, input_shape={shape}, classes={classes})"
        try:
            with replaced_globals(build_network, basic_block=_spy_block(calls)):
                model = build_network(n, residual, input_shape=shape, classes=classes)
        except Exception as error:
            fail(where, f"{call} raised {first_line(error)} after {len(calls)} block calls.")
        if not isinstance(model, keras.Model):
            fail(where, f"returned {type(model).__name__}; return "
                        "keras.Model(inputs, outputs, name=...).")
        want = _expected_calls(n, residual)
        if len(calls) != len(want):
            fail(where, f"{call} called basic_block {len(calls)} times, expected {len(want)}: "
                        f"three stages of n = {n} blocks.")
        for number, (got, expected) in enumerate(zip(calls, want), start=1):
            if tuple(got) != expected:
                fail(where, f"{call}: block call {number} was basic_block(X, filters={got[0]}, "
                            f"stride={got[1]}, residual={got[2]}, name={got[3]!r}), expected "
                            f"filters={expected[0]}, stride={expected[1]}, residual="
                            f"{expected[2]}, name={expected[3]!r}.")
        _check_stem(where, model)
        if tuple(model.outputs[0].shape) != (None, classes):
            fail(where, f"{call}: output shape {tuple(model.outputs[0].shape)}, expected "
                        f"(None, {classes}).")
        if tuple(model.inputs[0].shape) != (None, *shape):
            fail(where, f"{call}: input shape {tuple(model.inputs[0].shape)}, expected "
                        f"(None, {shape}): use Input(input_shape).")
        name = f"{'residual' if residual else 'plain'}{6 * n + 2}"
        if model.name != name:
            fail(where, f"{call}: the model is named {model.name!r}, expected {name!r}.")
    print(PASS)


def _reference_norms(model, X, Y, training=True, reduce=np.mean, ends=("_1_conv", "_2_conv"),
                     loss_reduction=tf.reduce_mean):
    """The expected answer, and the answers of common mistakes (another mode, a summed loss,
    the shortcut's convolutions included, a sum over layers)."""
    moving = [w.numpy() for w in model.non_trainable_weights]
    with tf.GradientTape() as tape:
        loss = loss_reduction(keras.losses.categorical_crossentropy(Y, model(X, training=training)))
    gradients = dict(zip([w.path for w in model.trainable_weights],
                         tape.gradient(loss, model.trainable_weights)))
    for weight, value in zip(model.non_trainable_weights, moving):
        weight.assign(value)
    found = {}
    for stage in (1, 2, 3):
        norms = [float(np.linalg.norm(gradient.numpy())) for path, gradient in gradients.items()
                 if path.startswith(f"stage{stage}_") and path.endswith("/kernel")
                 and path.split("/")[0].endswith(ends)]
        found[f"stage{stage}"] = float(reduce(norms))
    return found


@names_errors
def stage_gradient_norms_test(stage_gradient_norms):
    where = "stage_gradient_norms"
    for blocks, count in [(1, 8), (2, 6)]:
        model = tiny_staged_model(blocks=blocks)
        X, Y = tiny_batch(count)
        want = _reference_norms(model, X, Y)
        result = stage_gradient_norms(model, X, Y)
        if not isinstance(result, dict) or set(result) != {"stage1", "stage2", "stage3"}:
            fail(where, "return a dict with exactly the keys 'stage1', 'stage2' and 'stage3'.")
        if not all(isinstance(v, float) for v in result.values()):
            fail(where, "return Python floats: float(...) of each mean norm.")
        got = np.array([result[s] for s in ("stage1", "stage2", "stage3")])
        expected = np.array([want[s] for s in ("stage1", "stage2", "stage3")])
        if np.allclose(got, expected, rtol=1e-3, atol=1e-6):
            continue
        mistakes = [
            ("called the model in inference mode: use model(X, training=True)",
             dict(training=False)),
            ("summed the loss over the batch: average it (keras.ops.mean or tf.reduce_mean)",
             dict(loss_reduction=tf.reduce_sum)),
            ("included the projection shortcuts' convolutions (_0_conv): only _1_conv and _2_conv",
             dict(ends=("_0_conv", "_1_conv", "_2_conv"))),
            ("summed the layers' norms: take their mean", dict(reduce=np.sum)),
        ]
        for why, change in mistakes:
            other = _reference_norms(model, X, Y, **change)
            if np.allclose(got, [other[s] for s in ("stage1", "stage2", "stage3")], rtol=1e-3,
                           atol=1e-6):
                fail(where, f"on a network of {blocks} block(s) per stage, your norms "
                            f"{got.round(5)} are what you get if you {why}. Expected "
                            f"{expected.round(5)}.")
        fail(where, f"on a network of {blocks} block(s) per stage, your norms are "
                    f"{got.round(5)}, expected {expected.round(5)}: the mean, over each stage's "
                    "_1_conv and _2_conv layers, of the L2 norm of the loss gradient with "
                    "respect to the layer's kernel.")
    print(PASS)
