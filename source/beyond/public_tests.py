"""Public tests for the Beyond ResNet50 assignment. Run them in the notebook as often as you like.

Each test builds or calls your function on small inputs and stops at the first difference from
the specification, with a message that says what is wrong and where. Where a reference exists
outside this course (keras.applications, Keras' CosineDecay, a hand computation), the test
compares with it.
"""
import math
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from test_utils import (PASS, fail, first_line, input_of, kind, layer_of, names_errors, pinned,
                        replaced_globals)

EPSILON = 1.001e-5


# --- preact_block ------------------------------------------------------------------------------
# (input shape, filters, kernel_size, stride, conv_shortcut)
PREACT_CASES = [((8, 8, 6), 4, 3, 1, True), ((8, 8, 16), 4, 3, 1, False),
                ((7, 7, 12), 3, 3, 2, False), ((7, 7, 5), 2, 3, 2, True)]


def _expect_layer(where, found, suffix, cls, what):
    layer = found.get(suffix)
    if layer is None:
        fail(where, f"no layer named NAME_{suffix} ({what}).")
    if not isinstance(layer, cls):
        fail(where, f"NAME_{suffix} is a {type(layer).__name__}, expected {cls.__name__} "
                    f"({what}).")
    return layer


def _expect_relu(where, layer):
    if kind(layer) != "relu":
        fail(where, f"{layer.name} is a {type(layer).__name__} ({kind(layer)}), expected a ReLU.")


def _check_conv(where, layer, suffix, filters, size, stride, bias):
    found = (layer.filters, tuple(layer.kernel_size), tuple(layer.strides), layer.use_bias)
    want = (filters, (size, size), (stride, stride), bias)
    if found != want:
        fail(where, f"NAME_{suffix} has {found[0]} filters, kernel {found[1]}, strides "
                    f"{found[2]}, use_bias={found[3]}; expected {want[0]} filters, kernel "
                    f"{want[1]}, strides {want[2]}, use_bias={want[3]}.")
    if layer.padding != "valid":
        fail(where, f"NAME_{suffix} has padding='{layer.padding}'; keep Keras' default "
                    "('valid'): the padding is the ZeroPadding2D layer before it.")


@names_errors
def preact_block_test(preact_block):
    where = "preact_block"
    for shape, filters, size, stride, conv_shortcut in PREACT_CASES:
        case = (f"(input {shape}, filters={filters}, kernel_size={size}, stride={stride}, "
                f"conv_shortcut={conv_shortcut})")
        inputs = keras.Input(shape)
        output = preact_block(inputs, filters, kernel_size=size, stride=stride,
                              conv_shortcut=conv_shortcut, name="NAME")
        model = keras.Model(inputs, output)
        side = -(-shape[0] // stride)
        if tuple(output.shape[1:]) != (side, side, 4 * filters):
            fail(where, f"{case}: output shape {tuple(output.shape[1:])}, expected "
                        f"{(side, side, 4 * filters)}.")
        found = {layer.name.removeprefix("NAME_"): layer for layer in model.layers}
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                if not math.isclose(layer.epsilon, EPSILON, rel_tol=1e-6):
                    fail(where, f"{layer.name} has epsilon={layer.epsilon}; every "
                                "BatchNormalization has epsilon=1.001e-5.")
                if pinned(layer._inbound_nodes[0]):
                    fail(where, f"{layer.name} is called with training fixed; leave training "
                                "out so that fit, evaluate and predict decide the mode.")
        preact_bn = _expect_layer(where, found, "preact_bn", layers.BatchNormalization,
                                  "BatchNorm of the block's input")
        if input_of(preact_bn) is not inputs:
            fail(where, "NAME_preact_bn must normalize the block's input X itself.")
        preact_relu = _expect_layer(where, found, "preact_relu", layers.Layer,
                                    "ReLU after NAME_preact_bn")
        _expect_relu(where, preact_relu)
        if layer_of(input_of(preact_relu)) is not preact_bn:
            fail(where, "NAME_preact_relu must take NAME_preact_bn's output.")
        chain = [("1_conv", layers.Conv2D, "first 1×1 convolution"),
                 ("1_bn", layers.BatchNormalization, "after NAME_1_conv"),
                 ("1_relu", layers.Layer, "ReLU after NAME_1_bn"),
                 ("2_pad", layers.ZeroPadding2D, "before the middle convolution"),
                 ("2_conv", layers.Conv2D, "middle convolution"),
                 ("2_bn", layers.BatchNormalization, "after NAME_2_conv"),
                 ("2_relu", layers.Layer, "ReLU after NAME_2_bn"),
                 ("3_conv", layers.Conv2D, "last 1×1 convolution")]
        previous = preact_relu
        for suffix, cls, what in chain:
            layer = _expect_layer(where, found, suffix, cls, what)
            if suffix.endswith("relu"):
                _expect_relu(where, layer)
            if layer_of(input_of(layer)) is not previous:
                fail(where, f"NAME_{suffix} must take NAME_{previous.name.removeprefix('NAME_')}"
                            f"'s output (main path: preact → 1_conv → 1_bn → 1_relu → 2_pad → "
                            "2_conv → 2_bn → 2_relu → 3_conv).")
            previous = layer
        _check_conv(where, found["1_conv"], "1_conv", filters, 1, 1, False)
        _check_conv(where, found["2_conv"], "2_conv", filters, size, stride, False)
        _check_conv(where, found["3_conv"], "3_conv", 4 * filters, 1, 1, True)
        if tuple(map(tuple, found["2_pad"].padding)) != ((1, 1), (1, 1)):
            fail(where, f"NAME_2_pad pads {found['2_pad'].padding}; expected ZeroPadding2D(1).")
        out = _expect_layer(where, found, "out", layers.Add, "the addition")
        if layer_of(output) is not out:
            fail(where, f"the block must end with NAME_out, the addition; found "
                        f"{layer_of(output).name} after it (no ReLU after the addition in V2).")
        merged = list(out._inbound_nodes[0].input_tensors)
        main = [t for t in merged if layer_of(t) is found["3_conv"]]
        if len(merged) != 2 or len(main) != 1:
            fail(where, "NAME_out must add two tensors: the shortcut and the main path "
                        "(NAME_3_conv's output).")
        shortcut = next(t for t in merged if t is not main[0])
        if conv_shortcut:
            conv = _expect_layer(where, found, "0_conv", layers.Conv2D, "the shortcut convolution")
            if layer_of(shortcut) is not conv:
                fail(where, f"{case}: the shortcut must be NAME_0_conv's output.")
            if layer_of(input_of(conv)) is not preact_relu:
                fail(where, f"{case}: NAME_0_conv must take the pre-activation (NAME_preact_relu's "
                            "output), not X.")
            _check_conv(where, conv, "0_conv", 4 * filters, 1, stride, True)
        elif stride > 1:
            pool = layer_of(shortcut)
            if not (isinstance(pool, layers.MaxPooling2D) and input_of(pool) is inputs
                    and tuple(pool.pool_size) == (1, 1)
                    and tuple(pool.strides) == (stride, stride)):
                fail(where, f"{case}: the shortcut must be MaxPooling2D(1, strides={stride}) of "
                            "X itself.")
        elif shortcut is not inputs:
            fail(where, f"{case}: the shortcut must be X itself, untouched.")
        if "0_conv" in found and not conv_shortcut:
            fail(where, f"{case}: NAME_0_conv exists, but conv_shortcut is False.")
    print(PASS)


# --- gap_head ----------------------------------------------------------------------------------
@names_errors
def gap_head_test(gap_head):
    where = "gap_head"
    rng = np.random.default_rng(0)
    weights = None
    for shape, classes in [((2, 2, 8), 3), ((3, 5, 8), 3)]:
        inputs = keras.Input(shape)
        model = keras.Model(inputs, gap_head(inputs, classes))
        if tuple(model.outputs[0].shape) != (None, classes):
            fail(where, f"on a {shape} map: output shape {tuple(model.outputs[0].shape)}, "
                        f"expected (None, {classes}).")
        names = {layer.name: layer for layer in model.layers}
        if not isinstance(names.get("avg_pool"), layers.GlobalAveragePooling2D):
            fail(where, "no GlobalAveragePooling2D named avg_pool.")
        dense = names.get("predictions")
        if not isinstance(dense, layers.Dense):
            fail(where, "no Dense layer named predictions.")
        trains_differently = [layer.name for layer in model.layers
                              if isinstance(layer, (layers.Dropout, layers.GaussianNoise,
                                                    layers.BatchNormalization))]
        if trains_differently:
            fail(where, f"the head holds {', '.join(trains_differently)}: a layer that "
                        "behaves differently in training and in prediction. The head is the "
                        "pooling and one Dense layer, nothing else.")
        if model.count_params() != 8 * classes + classes:
            fail(where, f"on a {shape} map the head has {model.count_params()} weights, expected "
                        f"{8 * classes + classes} (8 channels × {classes} + {classes}), at any "
                        "map size: pool over the whole map, then one Dense layer.")
        if weights is None:
            weights = [rng.normal(0, 0.5, w.shape) for w in dense.weights]
        dense.set_weights(weights)
        features = rng.normal(0, 1, (2,) + shape).astype("float32")
        logits = features.mean(axis=(1, 2)) @ weights[0] + weights[1]
        want = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        got = np.asarray(model(features))
        if not np.allclose(got, want, atol=1e-5):
            fail(where, f"on a {shape} map the outputs differ from the mean of each channel "
                        "followed by Dense with softmax (largest difference "
                        f"{np.max(np.abs(got - want)):.3g}).")
    print(PASS)


# --- ResNet50V2 --------------------------------------------------------------------------------
EXPECTED_V2 = [(filters, stride if block == blocks else 1, block == 1,
                f"conv{stage}_block{block}")
               for stage, filters, blocks, stride in [(2, 64, 3, 2), (3, 128, 4, 2),
                                                      (4, 256, 6, 2), (5, 512, 3, 1)]
               for block in range(1, blocks + 1)]


def _stand_ins(calls):
    """A preact_block and a gap_head that record how ResNet50V2 calls them (zero weights: never
    run)."""
    def preact_block(X, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
        output = layers.Conv2D(4 * filters, 1, strides=stride, kernel_initializer="zeros")(X)
        calls.append(("preact_block", filters, kernel_size, stride, conv_shortcut, name, X,
                      output))
        return output

    def gap_head(X, classes):
        output = layers.Dense(classes, activation="softmax", name="predictions")(
            layers.GlobalAveragePooling2D(name="avg_pool")(X))
        calls.append(("gap_head", classes, X, output))
        return output

    return {"preact_block": preact_block, "gap_head": gap_head}


@names_errors
def ResNet50V2_test(ResNet50V2):
    where = "ResNet50V2"
    classes = 4
    calls = []
    with replaced_globals(ResNet50V2, **_stand_ins(calls)):
        model = ResNet50V2(input_shape=(64, 64, 3), classes=classes)
    if not isinstance(model, keras.Model):
        fail(where, f"returned {type(model).__name__}; return keras.Model(inputs, outputs, "
                    "name='resnet50v2').")
    blocks = [call for call in calls if call[0] == "preact_block"]
    heads = [call for call in calls if call[0] == "gap_head"]
    for number, (call, want) in enumerate(zip(blocks, EXPECTED_V2), start=1):
        found = (call[1], call[3], bool(call[4]), call[5])
        if found != want:
            fail(where, f"block {number} should be preact_block(X, {want[0]}, stride={want[1]}, "
                        f"conv_shortcut={want[2]}, name='{want[3]}'), found preact_block(X, "
                        f"{found[0]}, stride={found[1]}, conv_shortcut={found[2]}, "
                        f"name={found[3]!r}).")
        if call[2] != 3:
            fail(where, f"block {number} gets kernel_size={call[2]}; keep the default, 3.")
        if number > 1 and call[6] is not blocks[number - 2][7]:
            fail(where, f"block {number} must take block {number - 1}'s output.")
    if len(blocks) != len(EXPECTED_V2):
        fail(where, f"called preact_block {len(blocks)} times; expected 16: stages of 3, 4, 6 "
                    "and 3 blocks.")
    if any(isinstance(layer, layers.BatchNormalization) and layer.name != "post_bn"
           for layer in model.layers):
        fail(where, "the only BatchNormalization outside the blocks is post_bn (V2 has no "
                    "BatchNorm in the stem: the first block's pre-activation normalizes).")
    names = {layer.name: layer for layer in model.layers}
    stem = [("conv1_pad", layers.ZeroPadding2D), ("conv1_conv", layers.Conv2D),
            ("pool1_pad", layers.ZeroPadding2D), ("pool1_pool", layers.MaxPooling2D)]
    previous = model.inputs[0]
    for name, cls in stem:
        layer = names.get(name)
        if not isinstance(layer, cls):
            fail(where, f"the stem needs a {cls.__name__} named {name}.")
        if input_of(layer) is not previous:
            fail(where, f"{name} must take the output of "
                        f"{'the input' if previous is model.inputs[0] else layer_of(previous).name}"
                        " (stem: conv1_pad → conv1_conv → pool1_pad → pool1_pool).")
        previous = layer.output
    conv = names["conv1_conv"]
    if (conv.filters, tuple(conv.kernel_size), tuple(conv.strides), conv.use_bias) != (
            64, (7, 7), (2, 2), True):
        fail(where, "conv1_conv must be Conv2D(64, 7, strides=2), with its bias.")
    if tuple(map(tuple, names["conv1_pad"].padding)) != ((3, 3), (3, 3)) or tuple(
            map(tuple, names["pool1_pad"].padding)) != ((1, 1), (1, 1)):
        fail(where, "conv1_pad pads 3 pixels and pool1_pad 1 pixel on every side.")
    pool = names["pool1_pool"]
    if (tuple(pool.pool_size), tuple(pool.strides)) != ((3, 3), (2, 2)):
        fail(where, "pool1_pool must be MaxPooling2D(3, strides=2).")
    if blocks[0][6] is not previous:
        fail(where, "the first block must take pool1_pool's output.")
    post_bn, post_relu = names.get("post_bn"), names.get("post_relu")
    if (not isinstance(post_bn, layers.BatchNormalization)
            or input_of(post_bn) is not blocks[-1][7]):
        fail(where, "post_bn, a BatchNormalization, must take the last block's output.")
    if (not math.isclose(post_bn.epsilon, EPSILON, rel_tol=1e-6)
            or pinned(post_bn._inbound_nodes[0])):
        fail(where, "post_bn has epsilon=1.001e-5 and no fixed training argument.")
    if (post_relu is None or kind(post_relu) != "relu"
            or layer_of(input_of(post_relu)) is not post_bn):
        fail(where, "post_relu, a ReLU Activation, must take post_bn's output.")
    if len(heads) != 1 or heads[0][2] is not post_relu.output or heads[0][1] != classes:
        fail(where, f"call gap_head(X, classes) once, on post_relu's output (classes={classes}).")
    if model.outputs[0] is not heads[0][3]:
        fail(where, "the model's output must be gap_head's output.")
    if model.name != "resnet50v2":
        fail(where, f"the model is named {model.name!r}; name it 'resnet50v2'.")
    print(PASS)


# --- warmup_cosine -----------------------------------------------------------------------------
@names_errors
def warmup_cosine_test(warmup_cosine):
    where = "warmup_cosine"
    for peak, warmup, total in [(1e-3, 10, 100), (0.5, 3, 7)]:
        # Keras' own schedule with a warm-up, from 0 to `peak`: an independent reference
        keras_schedule = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=total - warmup, warmup_target=peak, warmup_steps=warmup)
        hand = {0: 0.0, warmup: peak, total: 0.0, total + 5: 0.0,
                (warmup + total) / 2: peak / 2}  # the middle of the decay: cos(pi/2) = 0
        for step in sorted({0, 1, warmup - 1, warmup, warmup + 1, (warmup + total) // 2,
                            total - 1, total, total + 5}):
            got = float(warmup_cosine(step, peak, warmup, total))
            want = float(keras_schedule(step))
            if not np.isclose(got, want, rtol=1e-5, atol=1e-6 * peak):
                fail(where, f"warmup_cosine({step}, peak={peak}, warmup_steps={warmup}, "
                            f"total_steps={total}) = {got:.6g}, expected {want:.6g}.")
        for step, want in hand.items():
            if step != int(step):  # the middle of the decay falls between two steps
                continue
            if not np.isclose(float(warmup_cosine(int(step), peak, warmup, total)), want,
                              atol=1e-6 * peak):
                fail(where, f"at step {int(step)} the rate should be {want:g} (peak {peak}, "
                            f"warm-up {warmup} steps, total {total}).")
    counter = tf.Variable(12, dtype="int64")  # what an optimizer passes: a tensor
    if not np.isclose(float(warmup_cosine(counter, 1.0, 10, 20)),
                      float(warmup_cosine(12, 1.0, 10, 20)), rtol=1e-6):
        fail(where, "with the step as an integer tensor (what the optimizer passes) the result "
                    "differs from that of a Python number: cast it with ops.cast(step, "
                    "'float32').")
    # inside fit, the optimizer computes the rate in a compiled graph (tf.function): no Python
    # `if` on the step, no math.cos of a tensor
    try:
        compiled = tf.function(lambda step: warmup_cosine(step, 1.0, 10, 20))
        got = [float(compiled(tf.constant(step, dtype="int64"))) for step in (5, 15)]
    except Exception as error:
        fail(where, "it fails inside a compiled graph, where the optimizer calls it during fit "
                    f"({first_line(error)}): use keras.ops (ops.where, ops.cos, ops.clip), "
                    "not a Python if or math.cos on the step.")
    if not np.allclose(got, [0.5, 0.5], rtol=1e-5):
        fail(where, f"inside a compiled graph it gives {got} at steps 5 and 15 (peak 1, "
                    "warm-up 10, total 20), expected [0.5, 0.5].")
    print(PASS)


# --- augmenter ---------------------------------------------------------------------------------
AUGMENTATION = [(layers.RandomFlip, {"mode": "horizontal"}),
                (layers.RandomRotation, {"factor": 0.07, "fill_mode": "nearest"}),
                (layers.RandomZoom, {"height_factor": 0.2, "width_factor": None,
                                     "fill_mode": "nearest"}),
                (layers.RandomTranslation, {"height_factor": 0.1, "width_factor": 0.1,
                                            "fill_mode": "nearest"}),
                (layers.RandomBrightness, {"factor": 0.3, "value_range": (0, 1)}),
                (layers.RandomContrast, {"factor": 0.5, "value_range": (0, 1)})]


def _setting(value):
    """A config value as one comparable thing: a symmetric range (-a, a) or (0, a) -> a."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) for v in value):
        low, high = value
        return abs(high) if low in (0, -high) else (low, high)
    return value


@names_errors
def augmenter_test(augmenter):
    where = "augmenter"
    model = augmenter(seed=3)
    if not isinstance(model, keras.Sequential) or model.name != "augmentation":
        fail(where, "return keras.Sequential([...], name='augmentation').")
    found = model.layers
    if len(found) != len(AUGMENTATION):
        fail(where, f"{len(found)} layers, expected {len(AUGMENTATION)}: "
                    + ", ".join(cls.__name__ for cls, _ in AUGMENTATION) + ".")
    for number, (layer, (cls, settings)) in enumerate(zip(found, AUGMENTATION), start=1):
        if not isinstance(layer, cls):
            fail(where, f"layer {number} is a {type(layer).__name__}, expected {cls.__name__}.")
        config = layer.get_config()
        for key, want in settings.items():
            got = _setting(config.get(key))
            if key == "value_range":
                got = tuple(config.get(key) or ())
            if got != want and not (isinstance(got, float) and isinstance(want, float)
                                    and np.isclose(got, want)):
                fail(where, f"{cls.__name__} has {key}={config.get(key)!r}, expected {want!r}"
                            + (" (a vertical flip does not preserve the sign)"
                               if key == "mode" else "")
                            + (" (RandomZoom(0.2) zooms both axes by one factor; a width_factor "
                               "zooms them apart and stretches the hand)"
                               if key == "width_factor" else "") + ".")
        if config.get("seed") != 3:
            fail(where, f"{cls.__name__} did not get seed=seed: pass the seed to every layer.")
    images = np.random.default_rng(0).uniform(0, 1, (6, 16, 16, 3)).astype("float32")
    same = np.asarray(model(images, training=False))
    if not np.array_equal(same, images):
        fail(where, "in inference mode (training=False) the images must come back unchanged.")
    changed = np.asarray(model(images, training=True))
    if changed.shape != images.shape:
        fail(where, f"training mode changed the shape to {changed.shape}.")
    if changed.min() < -1e-6 or changed.max() > 1 + 1e-6:
        fail(where, f"training mode gave values from {changed.min():.3g} to {changed.max():.3g}; "
                    "images in [0, 1] must stay in [0, 1]: value_range=(0, 1).")
    if np.allclose(changed, images):
        fail(where, "training mode did not change the images.")
    twin = np.asarray(augmenter(seed=3)(images, training=True))
    if not np.allclose(twin, changed, atol=1e-6):
        fail(where, "two augmenters with the same seed changed the same images differently: "
                    "pass seed=seed to every layer.")
    other = np.asarray(augmenter(seed=4)(images, training=True))
    if np.allclose(other, changed, atol=1e-6):
        fail(where, "augmenters with seeds 3 and 4 made the same changes: pass seed=seed to "
                    "every layer.")
    print(PASS)


# --- class_metrics -----------------------------------------------------------------------------
@names_errors
def class_metrics_test(class_metrics):
    where = "class_metrics"
    # Worked by hand: class 3 is never predicted (its one photo is predicted 1), class 4 has no
    # photos and is never predicted.
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    predictions = np.array([0, 1, 1, 1, 2, 0, 2, 1])
    confusion = np.array([[1, 1, 0, 0, 0], [0, 2, 0, 0, 0], [1, 0, 2, 0, 0], [0, 1, 0, 0, 0],
                          [0, 0, 0, 0, 0]])
    want = {"precision": [1 / 2, 2 / 4, 2 / 2, 0, 0], "recall": [1 / 2, 2 / 2, 2 / 3, 0, 0],
            "f1": [1 / 2, 2 / 3, 4 / 5, 0, 0]}
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        result = class_metrics(labels, predictions, 5)
    if not isinstance(result, dict) or set(result) != {"confusion", "precision", "recall", "f1"}:
        fail(where, "return a dict with exactly the keys 'confusion', 'precision', 'recall' and "
                    "'f1'.")
    got = np.asarray(result["confusion"])
    if got.shape != (5, 5):
        fail(where, f"with classes=5 the confusion matrix has shape {got.shape}, expected (5, 5).")
    if not np.issubdtype(got.dtype, np.integer):
        fail(where, f"the confusion matrix holds counts: an integer array, found {got.dtype}.")
    if np.array_equal(got, confusion.T):
        fail(where, "the confusion matrix is transposed: rows are the true classes, columns "
                    "the predicted ones (C[true, predicted]).")
    if not np.array_equal(got, confusion):
        fail(where, f"confusion matrix\n{got}\nexpected (rows true, columns predicted)\n"
                    f"{confusion}\nfor labels {labels.tolist()}, predictions "
                    f"{predictions.tolist()}.")
    for key, values in want.items():
        value = np.asarray(result[key], dtype=float)
        if value.shape != (5,):
            fail(where, f"{key} has shape {value.shape}, expected (5,): one value per class.")
        if np.isnan(value).any():
            fail(where, f"{key} holds NaN: report 0 where it is undefined (0/0).")
        if not np.allclose(value, values, atol=1e-9):
            fail(where, f"{key} = {np.round(value, 4).tolist()}, expected "
                        f"{np.round(values, 4).tolist()} (class 3 is never predicted, class 4 "
                        "has no photos: 0 for both).")
    if caught:
        fail(where, f"it warned: {caught[0].message}. Divide only where the denominator is not "
                    "0 (np.divide with where= and out=).")
    perfect = class_metrics(np.arange(3), np.arange(3), 3)
    if not (np.allclose(perfect["precision"], 1) and np.allclose(perfect["f1"], 1)):
        fail(where, "three photos each predicted right should give precision, recall and F1 "
                    "of 1 for every class.")
    print(PASS)


# --- grad_cam ----------------------------------------------------------------------------------
def _cam_model(seed=6, zero_head=False, shape=(16, 16, 3)):
    """A small classifier: conv (stride 2) → BatchNorm → ReLU (named "features") → 1×1 conv →
    ReLU → GAP → Dense softmax, on images of `shape`. The 1×1 convolution and its ReLU make the
    gradient differ from one position of the map to another. Seed 6: on each test case the map
    before Grad-CAM's ReLU is positive at 28 to 66% of the positions and negative elsewhere (on
    seed 0 it was negative everywhere, so an all-zero heatmap passed), and the predicted class
    (3) is none of the classes asked for by index."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input(shape)
    x = layers.Conv2D(6, 3, strides=2, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="norm")(x)  # a training-mode call would change it
    features = layers.Activation("relu", name="features")(x)
    mixed = layers.Activation("relu")(layers.Conv2D(5, 1, name="mix")(features))
    pooled = layers.GlobalAveragePooling2D()(mixed)
    outputs = layers.Dense(4, activation="softmax", name="predictions")(pooled)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights([rng.normal(0, 0.4, (3, 3, 3, 6)),
                                         rng.normal(0, 0.1, 6)])
    model.get_layer("norm").set_weights([rng.uniform(0.5, 1.5, 6), rng.normal(0, 0.2, 6),
                                         rng.normal(0, 0.5, 6), rng.uniform(0.5, 2, 6)])
    mix = [rng.normal(0, 0.6, (1, 1, 6, 5)), rng.normal(0, 0.3, 5)]
    model.get_layer("mix").set_weights(mix)
    kernel = np.zeros((5, 4)) if zero_head else rng.normal(0, 1.5, (5, 4))
    model.get_layer("predictions").set_weights([kernel, rng.normal(0, 0.1, 4)])
    return model, (mix[0][0, 0], mix[1], kernel)


def _cam_reference(model, weights, image, class_index):
    """Grad-CAM worked out by hand for this model. With A the feature map, z = A K + b the 1×1
    convolution, r = ReLU(z), g the mean of r over the map and s = g W + c the class scores
    before the softmax: the gradient of s_c by A at position (i, j) is
    K (1[z_ij > 0] * W[:, c]) / hw."""
    mix, bias, kernel = weights
    features = np.asarray(keras.Model(model.input, model.get_layer("features").output)(
        image[np.newaxis]), dtype=np.float64)[0]
    p = np.asarray(model(image[np.newaxis]), dtype=np.float64)[0]
    c = int(np.argmax(p)) if class_index is None else class_index
    h, w, _ = features.shape
    active = (features @ mix + bias) > 0
    gradient = (active * kernel[:, c]) @ mix.T / (h * w)  # (h, w, channels)
    alpha = gradient.mean(axis=(0, 1))
    cam = np.maximum(features @ alpha, 0)
    if cam.max() > 0:
        cam = cam / cam.max()
    resized = tf.image.resize(cam[..., np.newaxis].astype("float32"), image.shape[:2],
                              method="bilinear").numpy()[..., 0]
    return np.clip(resized, 0, 1)


@names_errors
def grad_cam_test(grad_cam):
    where = "grad_cam"
    model, weights = _cam_model()
    images = np.random.default_rng(1).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    for number, class_index in [(0, None), (1, 2), (0, 0)]:
        image = images[number]
        heatmap = np.asarray(grad_cam(model, image, "features", class_index))
        case = f"test image {number + 1}, class_index={class_index}"
        if heatmap.shape != (16, 16):
            fail(where, f"{case}: heatmap shape {heatmap.shape}, expected (16, 16), the image's "
                        "height and width (resize the 8×8 map).")
        if np.isnan(heatmap).any():
            fail(where, f"{case}: the heatmap holds NaN.")
        want = _cam_reference(model, weights, image, class_index)
        if not np.allclose(heatmap, want, atol=1e-4):
            fail(where, f"{case}: the heatmap differs from Grad-CAM worked out by hand by up to "
                        f"{np.max(np.abs(heatmap - want)):.3g}: check the gradient (of the "
                        "class score before the softmax, z = h W + b, by the layer's output), the "
                        "channel weights (mean over the map), the ReLU, the division by the "
                        "maximum and the resize.")
    after = np.asarray(model(images), dtype=np.float64)
    if not np.allclose(after.sum(axis=1), 1.0, atol=1e-4):
        fail(where, "after grad_cam the model's outputs no longer sum to 1: grad_cam changed the "
                    "model (its head's softmax?); compute z = h W + b from head.input, "
                    "head.kernel and head.bias and leave the model as it is.")
    wide, _ = _cam_model(shape=(12, 20, 3))  # not square: 12 rows, 20 columns
    heatmap = np.asarray(grad_cam(wide, np.random.default_rng(2).uniform(0, 1, (12, 20, 3)),
                                  "features", None))
    if heatmap.shape != (12, 20):
        fail(where, f"on a 12×20 image (12 rows, 20 columns) the heatmap has shape "
                    f"{heatmap.shape}, expected (12, 20): resize to the image's (height, width), "
                    "image.shape[:2].")
    zero_model, _ = _cam_model(zero_head=True)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        heatmap = np.asarray(grad_cam(zero_model, images[0], "features", 1))
    if heatmap.shape != (16, 16) or np.isnan(heatmap).any() or np.any(heatmap != 0):
        fail(where, "when the class score does not depend on the layer (a zero gradient) the "
                    "heatmap must be all zeros, not NaN: divide by the maximum only when it "
                    "is above 0.")
    if caught:
        fail(where, f"with a zero gradient it warned: {caught[0].message}.")
    print(PASS)
