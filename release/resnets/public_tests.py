"""Public tests for the Residual Networks assignment. Run them in the notebook as often as you like.

Each test builds your function on a small symbolic input, traces the layers it created and stops at
the first difference from the specification, with a message that says what is wrong and where.
"""
import re
import warnings

import keras
import numpy as np
from keras import layers

from test_utils import (PASS, chain_back, conv_settings, describe, fail, first_line, kind,
                        names_errors, pinned_training, replaced_globals, tiny_bn_model, tiny_images,
                        tiny_pretrained_model, tiny_transfer_model, trace_block)

MAIN_PATH = "conv → bn → relu → conv → bn → relu → conv → bn"


def _shape_hint(message):
    """What a Keras shape error while building a block usually means, in the block's terms."""
    shapes = re.search(r"Received shapes \(([\d, ]*)\) and \(([\d, ]*)\)", message)
    if shapes:
        main, shortcut = shapes.groups()
        if main.split(",")[:2] != shortcut.split(",")[:2]:
            return (f" The addition got ({main}) from the main path and ({shortcut}) from the "
                    "shortcut: their height and width differ. The f×f convolution needs "
                    "padding='same', and the stride s goes on the first convolution and on the "
                    "shortcut's convolution.")
        return (f" The addition got ({main}) from the main path and ({shortcut}) from the "
                "shortcut: their channels differ. The third convolution (and the shortcut's "
                "convolution) need F3 filters.")
    if "output size would be zero or negative" in message:
        return (" A convolution shrank the image to nothing: the f×f convolution needs "
                "padding='same' (the 1×1 convolutions use 'valid').")
    return ""


def _trace(where, block, shape, *args, **kwargs):
    """trace_block, with an error raised by the student's code turned into a named failure."""
    try:
        return trace_block(block, shape, *args, **kwargs)
    except Exception as error:
        fail(where, f"building the block on an input of shape {(None,) + shape[1:]} raised "
                    f"{first_line(error)}.{_shape_hint(str(error))}")


def _check_main_path(where, steps, f, filters, s):
    found = describe(steps)
    kinds = [kind(op) for op, _ in steps]
    if found != MAIN_PATH:
        if kinds[-1:] == ["relu"] and kinds[:-1] == MAIN_PATH.split(" → "):
            fail(where, "the main path ends with a ReLU before the addition. The third "
                        "component has no ReLU: the last ReLU comes after adding the shortcut.")
        if kinds.count("conv") != 3:
            fail(where, f"the main path has {kinds.count('conv')} Conv2D layers, expected 3 "
                        f"(1×1, f×f, 1×1). Found: {found}")
        if kinds.count("bn") != 3:
            fail(where, f"the main path has {kinds.count('bn')} BatchNormalization layers, "
                        f"expected one after each convolution. Found: {found}")
        fail(where, f"the main path should be {MAIN_PATH}, found {found}. "
                    "Order inside a component: Conv2D, then BatchNormalization, then ReLU.")
    F1, F2, F3 = filters
    expected = [(F1, (1, 1), (s, s), "valid"), (F2, (f, f), (1, 1), "same"),
                (F3, (1, 1), (1, 1), "valid")]
    convs = [op for op, _ in steps if kind(op) == "conv"]
    found_strides = [tuple(op.strides) for op in convs]
    if s != 1 and found_strides != [(s, s), (1, 1), (1, 1)] and (s, s) in found_strides:
        fail(where, f"stride is on the wrong convolution: strides along the main path are "
                    f"{found_strides}; the stride s={s} belongs on the first 1×1 convolution "
                    "(and on the shortcut), the other two use stride 1.")
    for number, (conv, want) in enumerate(zip(convs, expected), start=1):
        activation = getattr(conv.activation, "__name__", "linear")
        if activation != "linear":
            fail(where, f"convolution {number} of the main path has activation='{activation}': "
                        "leave it out; the ReLU comes after BatchNormalization.")
        got = conv_settings(conv)
        if got != want:
            labels = ("filters", "kernel_size", "strides", "padding")
            wrong = ", ".join(f"{label}={g!r} (expected {w!r})"
                              for label, g, w in zip(labels, got, want) if g != w)
            fail(where, f"convolution {number} of the main path has {wrong}.")
    for op, _ in steps:
        if kind(op) == "bn" and op.axis not in (3, -1):
            fail(where, f"BatchNormalization '{op.name}' normalizes axis {op.axis}; use axis=3, "
                        "the channels.")
    _check_bn_settings(where, steps)


BN_DEFAULTS = {"momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True}


def _check_bn_settings(where, steps):
    """Keras' BatchNormalization defaults: outputs do not show a changed momentum (only the
    moving statistics after training do), so the settings are checked here."""
    for op, _ in steps:
        if kind(op) == "bn":
            changed = {key: getattr(op, key) for key, value in BN_DEFAULTS.items()
                       if getattr(op, key) != value}
            if changed:
                settings = ", ".join(f"{key}={value!r}" for key, value in changed.items())
                fail(where, f"BatchNormalization '{op.name}' has {settings}; the specification "
                            "uses Keras' defaults (momentum=0.99, epsilon=0.001): give only "
                            "axis and name.")


def _check_merge_and_output(where, trace):
    if trace["merge"] is None:
        fail(where, "the shortcut is never added back: add X_shortcut to the main path with "
                    "Add()([X, X_shortcut]) before the final ReLU.")
    if kind(trace["merge"]) != "add":
        fail(where, f"the shortcut is combined with {type(trace['merge']).__name__}; a residual "
                    "block adds it: Add()([X, X_shortcut]).")
    after = [kind(op) for op, _ in trace["after"]]
    if "bn" in after:
        fail(where, "the shortcut is added before the last BatchNormalization. Apply BN to the "
                    "main path first, then add the shortcut, then ReLU.")
    if after != ["relu"]:
        fail(where, f"after the addition expected one ReLU, found {describe(trace['after'])}.")
    if any(branch is None for branch in trace["branches"]):
        fail(where, "found more than one addition; the block adds the shortcut once.")


def _split_branches(trace):
    """(main path, shortcut): the main path is the branch with the most convolutions."""
    branches = sorted(trace["branches"],
                      key=lambda steps: sum(kind(op) == "conv" for op, _ in steps))
    return branches[-1], branches[0]


def _check_names(where, steps, name, prefix_for_position):
    convs = [op for op, _ in steps if kind(op) in ("conv", "bn")]
    for op, suffix in zip(convs, prefix_for_position):
        if op.name != f"{name}_{suffix}":
            fail(where, f"layer '{op.name}' should be named '{name}_{suffix}': pass "
                        f"name=layer_name(name, '{suffix}') when you create it.")


def _check_pins(where, trace):
    steps = [step for branch in trace["branches"] for step in branch] + trace["after"]
    pinned = pinned_training(steps)
    if pinned:
        fail(where, f"BatchNormalization {pinned} is called with training fixed to True/False. "
                    "Pass training=training so that fit, evaluate and predict decide the mode.")


MAIN_NAMES = ["1_conv", "1_bn", "2_conv", "2_bn", "3_conv", "3_bn"]


@names_errors
def identity_block_test(identity_block):
    where = "identity_block"
    f, filters, shape = 3, [2, 4, 8], (3, 4, 4, 8)
    trace = _trace(where, identity_block, shape, f, filters, name="conv9_block2")
    _check_merge_and_output(where, trace)
    main, shortcut = _split_branches(trace)
    if shortcut:
        fail(where, f"the identity block's shortcut must be X itself, unchanged; found "
                    f"{describe(shortcut)}.")
    _check_main_path(where, main, f, filters, s=1)
    _check_pins(where, trace)
    _check_names(where, main, "conv9_block2", MAIN_NAMES)
    if tuple(trace["output"].shape) != (None,) + shape[1:]:
        fail(where, f"output shape {tuple(trace['output'].shape)}, expected "
                    f"{(None,) + shape[1:]}: the block keeps height, width and channels.")
    print(PASS)


@names_errors
def convolutional_block_test(convolutional_block):
    where = "convolutional_block"
    for f, filters, shape, s in [(3, [2, 4, 6], (3, 4, 4, 3), 2), (2, [3, 2, 5], (3, 5, 5, 4), 1)]:
        trace = _trace(where, convolutional_block, shape, f, filters, s=s, name="conv9_block1")
        _check_merge_and_output(where, trace)
        main, shortcut = _split_branches(trace)
        kinds = [kind(op) for op, _ in shortcut]
        if "conv" not in kinds:
            fail(where, "the shortcut has no 1×1 Conv2D: it must change the shape of X to "
                        "match the main path (F3 channels, stride s).")
        if "bn" not in kinds:
            fail(where, "the shortcut has no BatchNormalization: apply it after the shortcut's "
                        "1×1 convolution.")
        if kinds != ["conv", "bn"]:
            fail(where, f"the shortcut should be conv → bn, found {describe(shortcut)}.")
        _check_bn_settings(where, shortcut)
        want = (filters[2], (1, 1), (s, s), "valid")
        if conv_settings(shortcut[0][0]) != want:
            fail(where, f"the shortcut convolution has (filters, kernel_size, strides, padding) = "
                        f"{conv_settings(shortcut[0][0])}, expected {want}.")
        _check_main_path(where, main, f, filters, s)
        _check_pins(where, trace)
        _check_names(where, main, "conv9_block1", MAIN_NAMES)
        _check_names(where, shortcut, "conv9_block1", ["0_conv", "0_bn"])
        size = -(-shape[1] // s)
        if tuple(trace["output"].shape) != (None, size, size, filters[2]):
            fail(where, f"output shape {tuple(trace['output'].shape)}, expected "
                        f"{(None, size, size, filters[2])}.")
    print(PASS)


# (block, f, filters, s) for each of the 16 blocks, in order: stages conv2..conv5 of Table 1.
STAGES = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]
EXPECTED_BLOCKS = [
    ("convolutional_block" if i == 0 else "identity_block", 3, [w, w, 4 * w], s if i == 0 else None,
     f"conv{stage}_block{i + 1}")
    for stage, (w, blocks, s) in enumerate(STAGES, start=2) for i in range(blocks)
]


def _spy_blocks(calls):
    """Stand-ins for the two blocks that record how ResNet50 calls them (never run: zero
    weights, cheaper to create than random ones)."""
    def convolutional_block(X, f, filters, s=2, training=None, initializer=None, name=None):
        output = layers.Conv2D(filters[2], 1, strides=s, kernel_initializer="zeros")(X)
        calls.append(("convolutional_block", f, list(filters), s, name, training, X, output))
        return output

    def identity_block(X, f, filters, training=None, initializer=None, name=None):
        output = layers.Conv2D(filters[2], 1, kernel_initializer="zeros")(X)
        calls.append(("identity_block", f, list(filters), None, name, training, X, output))
        return output

    return {"convolutional_block": convolutional_block, "identity_block": identity_block}


def _check_calls(where, calls):
    """The block calls made so far against Table 1, in order."""
    for number, (call, want) in enumerate(zip(calls, EXPECTED_BLOCKS), start=1):
        if call[:4] != want[:4]:
            fail(where, f"block {number} ({want[4]}) should be {want[0]}(f={want[1]}, "
                        f"filters={want[2]}" + (f", s={want[3]})" if want[3] else ")") +
                        f", found {call[0]}(f={call[1]}, filters={call[2]}" +
                        (f", s={call[3]})" if call[3] else ")"))
        if call[4] != want[4]:
            fail(where, f"block {number} should get name='{want[4]}', found name={call[4]!r}.")
        if call[5] is not None:
            fail(where, f"block {number} is called with training={call[5]!r}; leave training "
                        "out so that fit, evaluate and predict decide the mode.")


def _check_stem(where, inputs, first_block_input):
    steps, merge = chain_back(first_block_input, inputs)
    found = [(kind(op), op) for op, _ in steps]
    expected = "ZeroPadding2D → conv → bn → relu → MaxPooling2D"
    if merge is not None or " → ".join(k for k, _ in found) != expected:
        fail(where, f"the stem (before stage 2) should be {expected}, found {describe(steps)}.")
    pad, conv, bn, _, pool = (op for _, op in found)
    if tuple(map(tuple, pad.padding)) != ((3, 3), (3, 3)):
        fail(where, f"ZeroPadding2D pads {pad.padding}, expected (3, 3).")
    if conv_settings(conv) != (64, (7, 7), (2, 2), "valid"):
        fail(where, f"the stem convolution has (filters, kernel_size, strides, padding) = "
                    f"{conv_settings(conv)}, expected (64, (7, 7), (2, 2), 'valid').")
    if bn.axis not in (3, -1):
        fail(where, f"the stem BatchNormalization normalizes axis {bn.axis}; use axis=3.")
    if (tuple(pool.pool_size), tuple(pool.strides)) != ((3, 3), (2, 2)):
        fail(where, f"MaxPooling2D has pool_size {pool.pool_size} and strides {pool.strides}, "
                    "expected (3, 3) and (2, 2).")
    if pinned_training(steps):
        fail(where, "the stem BatchNormalization is called with training fixed; leave it out.")


def _check_head(where, outputs, last_block_output, classes):
    steps, merge = chain_back(outputs, last_block_output)
    kinds = [kind(op) for op, _ in steps]
    if merge is not None or kinds[:2] != ["AveragePooling2D", "Flatten"] or kinds[2:3] != ["Dense"]:
        fail(where, "after stage 5 expected AveragePooling2D((2, 2)) → Flatten → Dense(classes, "
                    f"softmax), found {describe(steps)}.")
    pool, dense = steps[0][0], steps[2][0]
    if tuple(pool.pool_size) != (2, 2):
        fail(where, f"AveragePooling2D has pool_size {pool.pool_size}, expected (2, 2).")
    if dense.units != classes:
        fail(where, f"the Dense layer has {dense.units} units, expected classes={classes}.")
    activations = [getattr(dense.activation, "__name__", "")] + kinds[3:]
    if "softmax" not in activations and "Softmax" not in activations:
        fail(where, "the last Dense layer has no softmax: use activation='softmax' so the "
                    "outputs are class probabilities.")
    names = [op.name for op, _ in steps[:3]]
    if names != HEAD_NAMES:
        fail(where, f"the head's layers are named {names}, expected {HEAD_NAMES} (the names "
                    "of resnet50.h5's head): section 9 finds the features by the name "
                    "'flatten'. Pass name=... when you create each layer.")


HEAD_NAMES = ["avg_pool", "flatten", "predictions"]


@names_errors
def ResNet50_test(ResNet50):
    where = "ResNet50"
    for input_shape, classes in [((64, 64, 3), 6), ((64, 64, 3), 4)]:
        calls = []
        try:
            with replaced_globals(ResNet50, **_spy_blocks(calls)):
                model = ResNet50(input_shape=input_shape, classes=classes)
        except Exception as error:
            _check_calls(where, calls)  # a wrong block call usually explains the error
            fail(where, f"ResNet50(input_shape={input_shape}, classes={classes}) raised "
                        f"{first_line(error)}, after {len(calls)} block calls.")
        if not isinstance(model, keras.Model):
            fail(where, f"returned {type(model).__name__}; return "
                        "keras.Model(inputs=..., outputs=...).")
        _check_calls(where, calls)
        if len(calls) != len(EXPECTED_BLOCKS):
            fail(where, f"called the blocks {len(calls)} times; expected 16 calls: stages of "
                        "3, 4, 6 and 3 blocks, each starting with a convolutional_block.")
        _check_stem(where, model.inputs[0], calls[0][6])
        _check_head(where, model.outputs[0], calls[-1][7], classes)
        if tuple(model.outputs[0].shape) != (None, classes):
            fail(where, f"output shape {tuple(model.outputs[0].shape)}, expected "
                        f"(None, {classes}).")
        if tuple(model.inputs[0].shape) != (None,) + input_shape:
            fail(where, f"input shape {tuple(model.inputs[0].shape)}, expected "
                        f"{(None,) + input_shape}: use Input(input_shape).")
    print(PASS)


@names_errors
def bn_behaviour_test(bn_behaviour):
    where = "bn_behaviour"
    images = tiny_images(16)  # batch sizes 1, 8 and 64: 16, 2 and 1 batches
    expectations = [  # description, pinned, frozen, spread ok, predict moves, training call moves
        ("a model whose BatchNormalization follows the mode it is called in", False, False,
         lambda spread: spread < 1e-4, False, True),
        ("a model whose BatchNormalization always uses batch statistics", True, False,
         None, True, True),  # its spread is checked below, with batch sizes 4 and 16
        ("a model whose BatchNormalization is frozen (trainable=False)", False, True,
         lambda spread: spread < 1e-4, False, False),
    ]
    for description, pinned, frozen, spread_ok, predict_moves, training_moves in expectations:
        model = tiny_bn_model(always_batch_statistics=pinned, frozen=frozen)
        if pinned:  # its spread is not 0: what predict does with batches of 4 and of 16
            p4, p16 = (np.concatenate([model(images[start:start + b]).numpy()
                                       for start in range(0, len(images), b)]) for b in (4, 16))
            want = float(np.max(np.abs(p4 - p16)))  # (those calls moved its statistics)
        before = [w.numpy() for w in model.non_trainable_weights]
        result = bn_behaviour(model, images, **({"batch_sizes": (4, 16)} if pinned else {}))
        if not isinstance(result, dict) or set(result) != {
                "batch_size_spread", "predict_changes_stats", "training_call_changes_stats"}:
            fail(where, "return a dict with exactly the keys 'batch_size_spread', "
                        "'predict_changes_stats' and 'training_call_changes_stats'.")
        after = [w.numpy() for w in model.non_trainable_weights]
        if not all(np.array_equal(b, a) for b, a in zip(before, after)):
            fail(where, "the model's moving statistics changed: save them before the first "
                        "predict, assign them back after the predict calls (a model that uses "
                        "batch statistics moves them in predict) and again after the training-"
                        "mode call.")
        spread = float(result["batch_size_spread"])
        if pinned and not np.isclose(spread, want, rtol=1e-3, atol=1e-6):
            fail(where, f"with batch_sizes=(4, 16), batch_size_spread = {spread:.4g}, expected "
                        f"{want:.4g}: predict with each batch size in the batch_sizes argument "
                        "and take the largest absolute difference between any two predictions.")
        if not pinned and not spread_ok(spread):
            fail(where, f"for {description}, batch_size_spread = {spread:.3g} looks wrong: it "
                        "is the largest absolute difference between predictions of the same "
                        "images made with batch_size 1, 8 and 64.")
        if bool(result["predict_changes_stats"]) != predict_moves:
            fail(where, f"for {description}, predict_changes_stats should be {predict_moves}: "
                        "compare the moving statistics before and after model.predict.")
        if bool(result["training_call_changes_stats"]) != training_moves:
            fail(where, f"for {description}, training_call_changes_stats should be "
                        f"{training_moves}: compare the moving statistics before and after one "
                        "call model(images, training=True); do not assume the answer.")
    print(PASS)


@names_errors
def reestimate_bn_statistics_test(reestimate_bn_statistics):
    where = "reestimate_bn_statistics"
    # (images, batch_size, the layer's momentum): 64 = 4 batches of 16; 50 = 32 + a last batch
    # of 18, which counts as one batch; a momentum other than 0.99, which must come back
    for count, batch_size, momentum in [(64, 16, 0.99), (50, 32, 0.9)]:
        images = tiny_images(count)
        model = tiny_bn_model(momentum=momentum)
        bn = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
        trainable = [w.numpy() for w in model.trainable_weights]
        # Independent reference: the BN layer's input per batch, averaged over the batches.
        features = keras.Model(model.inputs, bn.input).predict(images, verbose=0)
        batches = [features[start:start + batch_size] for start in range(0, count, batch_size)]
        want_mean = np.mean([batch.mean(axis=(0, 1, 2)) for batch in batches], axis=0)
        want_variance = np.mean([batch.var(axis=(0, 1, 2)) for batch in batches], axis=0)
        try:
            reestimate_bn_statistics(model, images, batch_size=batch_size)
        except ZeroDivisionError as error:
            fail(where, f"raised {first_line(error)}. Number the batches from k = 1 "
                        "(enumerate(..., start=1)): momentum (k - 1) / k.")
        if bn.momentum != momentum:
            fail(where, f"BatchNormalization momentum is {bn.momentum} afterwards, expected "
                        f"{momentum}, this layer's own: save each layer's momentum first and "
                        "put it back at the end.")
        if not all(np.array_equal(b, w.numpy())
                   for b, w in zip(trainable, model.trainable_weights)):
            fail(where, "trainable weights changed: use direct calls model(batch, training=True), "
                        "not fit, so that only the moving statistics change.")
        last = count - (len(batches) - 1) * batch_size
        described = (f"{count} images in batches of {batch_size}" +
                     (f" (the last one of {last}, which counts as a batch too)" if last < batch_size
                      else ""))
        for label, weight, want in [("moving_mean", bn.moving_mean, want_mean),
                                    ("moving_variance", bn.moving_variance, want_variance)]:
            if not np.allclose(weight.numpy(), want, atol=1e-4, rtol=1e-3):
                fail(where, f"with {described}, {label} is not the average of the "
                            f"{len(batches)} batches' statistics (largest difference "
                            f"{np.max(np.abs(weight.numpy() - want)):.3g}). Before the call on "
                            "batch k, set momentum to (k - 1) / k; use batch_size images a batch, "
                            "and every batch, the last one too.")
    print(PASS)


def _backbone(where, model):
    try:
        backbone = model.get_layer("backbone")
    except ValueError:
        fail(where, "the model has no layer named 'backbone': wrap the pretrained network up to "
                    "its layer 'flatten' in Model(..., name=\"backbone\") and call it on the "
                    "input.")
    if not isinstance(backbone, keras.Model):
        fail(where, f"the layer 'backbone' is a {type(backbone).__name__}, expected a keras.Model.")
    return backbone


@names_errors
def transfer_model_test(transfer_model):
    where = "transfer_model"
    pretrained = tiny_pretrained_model()
    features = keras.Model(pretrained.input, pretrained.get_layer("flatten").output)
    images = tiny_images(16, size=16)
    # A backbone built on pretrained.inputs (a list) works the same but warns when called on an
    # array: not the student's mistake, so not shown.
    warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
    for classes in (4, 3):
        model = transfer_model(pretrained, classes)
        if not isinstance(model, keras.Model):
            fail(where, f"return a keras.Model, found {type(model).__name__}.")
        if tuple(model.outputs[0].shape) != (None, classes):
            fail(where, f"output shape {tuple(model.outputs[0].shape)} for classes={classes}, "
                        f"expected (None, {classes}).")
        backbone = _backbone(where, model)
        names = [layer.name for layer in backbone.layers]
        if "predictions" in names:
            fail(where, "the backbone still holds the old classifier 'predictions': end it at the "
                        "output of the layer 'flatten'.")
        if tuple(backbone.outputs[0].shape) != tuple(features.outputs[0].shape):
            fail(where, f"the backbone's output has shape {tuple(backbone.outputs[0].shape)}, "
                        f"expected {tuple(features.outputs[0].shape)}: the output of the "
                        "pretrained network's layer 'flatten'.")
        if backbone.trainable:
            fail(where, "the backbone is trainable: set backbone.trainable = False.")
        head = model.layers[-1]
        if not isinstance(head, layers.Dense) or head.name != "new_predictions":
            fail(where, f"the last layer is {type(head).__name__} '{head.name}', expected "
                        "Dense(classes, activation=\"softmax\", name=\"new_predictions\").")
        activation = getattr(head.activation, "__name__", str(head.activation))
        if activation != "softmax":
            fail(where, f"the new head has activation '{activation}', expected 'softmax'.")
        trainable = sorted(weight.path for weight in model.trainable_weights)
        if sorted(weight.path for weight in head.weights) != trainable:
            fail(where, f"the trainable weights are {trainable}; only the new head's kernel and "
                        "bias should be trainable.")
        before = [weight.numpy() for weight in backbone.weights]
        inference = np.asarray(model(images))
        training = np.asarray(model(images, training=True))
        if any(not np.array_equal(b, w.numpy()) for b, w in zip(before, backbone.weights)):
            fail(where, "a training-mode call changed the backbone's BatchNorm statistics: the "
                        "frozen backbone must keep them.")
        if not np.allclose(inference, training, atol=1e-5):
            fail(where, "the output in training mode differs from inference mode: a frozen "
                        "backbone normalizes with its moving statistics in both.")
        if not np.allclose(np.asarray(backbone(images)), np.asarray(features(images)), atol=1e-5):
            fail(where, "the backbone's output differs from the pretrained network's 'flatten' "
                        "output on the same images: reuse the pretrained layers (Model("
                        "pretrained.input, ...)), do not build or initialize new ones.")
    print(PASS)


@names_errors
def unfreeze_last_stage_test(unfreeze_last_stage):
    where = "unfreeze_last_stage"
    model = tiny_transfer_model()  # what transfer_model builds, so this tests your function alone
    backbone = model.get_layer("backbone")
    images = tiny_images(32, size=16)
    labels = np.eye(4, dtype="float32")[np.random.default_rng(0).integers(0, 4, 32)]
    # eagerly: a few steps of a small model, where tracing fit's functions took most of the time
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  run_eagerly=True)
    model.fit(images, labels, batch_size=16, epochs=1, shuffle=False, verbose=0)  # head only
    unfreeze_last_stage(model, prefix="conv5_", learning_rate=1e-2)
    if not backbone.trainable:
        fail(where, "the backbone's own flag is still False: set backbone.trainable = True first "
                    "(it sets every layer inside to trainable), then each layer's flag. A model "
                    "whose flag is False reports no trainable weights (backbone.trainable_weights "
                    "is empty), and tf.keras 2 trains none of its layers.")
    for layer in backbone.layers:
        if not layer.weights:
            continue
        is_bn = isinstance(layer, layers.BatchNormalization)
        want = layer.name.startswith("conv5_") and not is_bn
        if layer.trainable and is_bn:
            fail(where, f"BatchNormalization layer '{layer.name}' is trainable: set trainable = "
                        "False on every BatchNormalization layer, so that it keeps normalizing "
                        "with the pretrained statistics.")
        if layer.trainable != want:
            fail(where, f"layer '{layer.name}' is {'trainable' if layer.trainable else 'frozen'}"
                        ": only the layers whose names start with prefix ('conv5_' here), "
                        "BatchNormalization excepted, should be trainable.")
    if not model.get_layer("new_predictions").trainable:
        fail(where, "the new head 'new_predictions' is frozen: it keeps training.")
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, keras.optimizers.Adam):
        fail(where, f"the model is compiled with {type(optimizer).__name__}, expected "
                    "keras.optimizers.Adam(learning_rate=learning_rate).")
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if not np.isclose(rate, 1e-2):
        fail(where, f"the optimizer's learning rate is {rate:g}, expected learning_rate=0.01 as "
                    "passed: recompile with keras.optimizers.Adam(learning_rate=learning_rate).")
    trainable = {id(weight) for weight in model.trainable_weights}
    before = [weight.numpy() for weight in model.weights]
    model.run_eagerly = True  # as above, after your compile
    try:
        history = model.fit(images, labels, batch_size=16, epochs=2, shuffle=False, verbose=0)
    except ValueError as error:
        fail(where, f"fit failed after unfreeze_last_stage ({str(error)[:120]}...): recompile the "
                    "model after changing trainable flags.")
    if "accuracy" not in history.history:
        fail(where, "fit reports no accuracy after unfreeze_last_stage: compile with "
                    "metrics=[\"accuracy\"], as the specification says (the notebook's "
                    "fine-tuning reads it).")
    for weight, value in zip(model.weights, before):
        changed = not np.array_equal(value, weight.numpy())
        if id(weight) in trainable and not changed:
            fail(where, f"fine-tuning did not change '{weight.path}', which is trainable: "
                        "recompile the model after changing trainable flags (model.compile): "
                        "fit keeps training what was trainable at the last compile.")
        if changed and id(weight) not in trainable:
            fail(where, f"fine-tuning changed the frozen weight '{weight.path}'.")
    print(PASS)
