"""Hidden checks for the Residual Networks assignment (instructor only; never released).

Each check builds the student's function on fixed inputs, sets every weight from NumPy with seeds
derived from the layer's role (never from Keras' initializer streams, which changed between Keras
versions), and compares the outputs with references.npz, made from the instructor solution by
`python -m course.authoring.references`.

The `*_outputs` functions (OUTPUTS) run in the student's kernel after their notebook, beside
code that may be hostile, so they need nothing secret: no references, no instructor solution.
The grader compares what they publish with references.npz (course/hidden/judge.py), which it read
before any student code ran. This file imports nothing of the course's.

Tolerance: atol=1e-4 (plus rtol=1e-3) on outputs of order 1. A correct block written
differently (ReLU layers, keras.ops.add, no conv bias, a loop: tests/test_checks.py) matched the
references exactly on this machine; the headroom is for other CPUs, oneDNN kernels and summation
orders (float32 epsilon 1.2e-7 times a few hundred accumulated terms is about 1e-5). The bundled
block mistakes move outputs by 0.08 to 0.7 in the cases that expose them.

What fixed weights cannot show is published as text, compared exactly: the initializers the
specification gives (the convolutions' initializer(seed=0), BatchNormalization's defaults), and
ResNet50's shapes at input sizes other than 64×64, where its head is another network if its
pooling differs from AveragePooling2D((2, 2)).
"""
import functools
import numbers

import keras
import numpy as np
from keras import layers

# Shapes chosen so that every convolution of a block has a distinct kernel shape: the weights of a
# layer then follow from its role alone, whatever order the student created the layers in.
BLOCK_CASES = {
    "identity_block": [dict(shape=(4, 5, 5, 12), f=3, filters=[3, 5, 12]),
                       dict(shape=(3, 4, 4, 6), f=2, filters=[4, 2, 6])],
    "convolutional_block": [dict(shape=(4, 6, 6, 5), f=3, filters=[3, 4, 7], s=2),
                            dict(shape=(3, 5, 5, 6), f=2, filters=[2, 3, 5], s=1),
                            dict(shape=(3, 7, 7, 4), f=3, filters=[5, 3, 6], s=3)],
}
RESNET_CASE = dict(shape=(4, 64, 64, 3), classes=5)  # not 6: a hard-coded Dense(6) shows
# Other input sizes, shapes only: at 64×64 the last map is 2×2 and any pooling window over it
# gives 1×1; at 128×128 (4×4) strides=1 or a whole-map window shows, at 96×96 (3×3) padding="same"
OTHER_SIZES = ((128, 128, 3), (96, 96, 3))


# course/hidden/roles.py, given to this module by course.hidden.untrusted.load_checks
roles = globals()["roles"]
# weights by role (course/hidden/roles.py says why the assignments' settings differ)
ROLES = roles.Roles(conv_kernel="uniform", conv_bias="zero", dense_scale=0.3)
set_role_weights, set_layer_role_weights = ROLES.set_model, ROLES.set_layer
_seed, _role, _inputs, _moving_statistics = (roles.seed, roles.role, roles.inputs,
                                             roles.moving_statistics)


def _block_outputs(block, case):
    inputs = keras.Input(case["shape"][1:])
    kwargs = {"s": case["s"]} if "s" in case else {}
    model = keras.Model(inputs, block(inputs, case["f"], list(case["filters"]), **kwargs))
    return _modes(model, _inputs(case["shape"]))


def _modes(model, x):
    """Inference output of a plain call (a pinned training=True shows here), then training mode,
    then the moving statistics that training call left (a changed momentum shows here)."""
    set_role_weights(model)
    return {"inference": np.asarray(model(x)), "training": np.asarray(model(x, training=True)),
            "moving statistics after a training call": _moving_statistics(model)}


def _initializer(initializer):
    """An initializer as the specification gives it, as text: a random one by its class and seed
    ("GlorotUniform seed=0" for initializer(seed=0); the class passed uncalled is Keras'
    unseeded one, seed=None), a constant one by its value ("ones", Ones() and Keras' default
    gamma are all "constant 1")."""
    config = initializer.get_config() if hasattr(initializer, "get_config") else {}  # a function
    if "seed" in config:
        seed = config["seed"]
        return (f"{type(initializer).__name__} seed="
                f"{int(seed) if isinstance(seed, numbers.Integral) else seed!r}")
    values = np.unique(np.asarray(initializer((2,), dtype="float32")))
    return f"constant {values[0]:g}" if values.size == 1 else type(initializer).__name__


INITIALIZERS = {layers.Conv2D: ("kernel_initializer",),
                layers.BatchNormalization: ("gamma_initializer", "beta_initializer",
                                            "moving_mean_initializer",
                                            "moving_variance_initializer")}


def _initializers(block, case):
    """The initializers of the block's named convolutions and BatchNormalization layers
    ("b_3_bn gamma constant 1"): set_role_weights replaces the weights they draw, so the outputs
    never show them, and the notebook's training results depend on them."""
    inputs = keras.Input(case["shape"][1:])
    kwargs = {"s": case["s"]} if "s" in case else {}
    model = keras.Model(inputs, block(inputs, case["f"], list(case["filters"]), name="b",
                                      **kwargs))
    return np.array(sorted(
        f"{layer.name} {attribute.removesuffix('_initializer')} "
        f"{_initializer(getattr(layer, attribute))}"
        for layer in model.layers for kind, attributes in INITIALIZERS.items()
        if isinstance(layer, kind) for attribute in attributes))


def block_outputs(name, block):
    results = {f"{name}/{i}/{mode}": value for i, case in enumerate(BLOCK_CASES[name])
               for mode, value in _block_outputs(block, case).items()}
    results[f"{name}/initializers"] = _initializers(block, BLOCK_CASES[name][0])
    return results


def stand_in_blocks():
    """Blocks without BatchNormalization, built from their arguments: ResNet50 is graded alone
    (the student's blocks are graded in their own cells), with no instructor code. The main path
    is scaled by 0.3 so that 16 residual additions keep the outputs of order 1."""
    # zeros: Keras would draw 23 million random weights that set_role_weights replaces anyway
    conv = functools.partial(layers.Conv2D, kernel_initializer="zeros")

    def main_path(X, f, filters, s):
        X = layers.Activation("relu")(conv(filters[0], 1, strides=s)(X))
        X = layers.Activation("relu")(conv(filters[1], f, padding="same")(X))
        return layers.Rescaling(0.3)(conv(filters[2], 1)(X))

    def convolutional_block(X, f, filters, s=2, training=None, initializer=None, name=None):
        shortcut = conv(filters[2], 1, strides=s)(X)
        return layers.Activation("relu")(layers.Add()([main_path(X, f, filters, s), shortcut]))

    def identity_block(X, f, filters, training=None, initializer=None, name=None):
        return layers.Activation("relu")(layers.Add()([main_path(X, f, filters, 1), X]))

    return {"convolutional_block": convolutional_block, "identity_block": identity_block}


def resnet_outputs(ResNet50):
    """ResNet50's outputs when built on stand-in blocks: grades ResNet50 alone."""
    with _test_utils().replaced_globals(ResNet50, **stand_in_blocks()):
        model = ResNet50(input_shape=RESNET_CASE["shape"][1:], classes=RESNET_CASE["classes"])
    names = {layer.name for layer in model.layers}
    if not {"avg_pool", "flatten", "predictions"} <= names:
        raise AssertionError("ResNet50: the head's layers are not named avg_pool, flatten and "
                             "predictions, as the specification says.")
    x = np.random.default_rng(_seed("images")).uniform(0, 1, RESNET_CASE["shape"]).astype("float32")
    results = {f"ResNet50/{mode}": value for mode, value in _modes(model, x).items()}
    for shape in OTHER_SIZES:
        results[f"ResNet50/input {shape[0]}x{shape[1]}/output shapes"] = _shapes(ResNet50, shape)
    return results


def shape_blocks():
    """Stand-ins without weights that give each block's output shape, (ceil(H / s),
    ceil(W / s), F3): a ResNet50 built on them in 0.03 s, against 0.5 s with convolutions."""
    def shaped(X, filters, s):
        X = layers.MaxPooling2D(1, strides=s)(X)
        return keras.ops.repeat(X[..., :1], filters[2], axis=-1)

    def convolutional_block(X, f, filters, s=2, training=None, initializer=None, name=None):
        return shaped(X, filters, s)

    def identity_block(X, f, filters, training=None, initializer=None, name=None):
        return shaped(X, filters, 1)

    return {"convolutional_block": convolutional_block, "identity_block": identity_block}


def _shapes(ResNet50, input_shape):
    """The shapes of ResNet50's input and head ("avg_pool (2, 2, 2048)") at `input_shape`."""
    with _test_utils().replaced_globals(ResNet50, **shape_blocks()):
        model = ResNet50(input_shape=input_shape, classes=RESNET_CASE["classes"])

    def shape(name):
        try:  # resnet_outputs checked that the names are there
            return tuple(model.get_layer(name).output.shape[1:])
        except (ValueError, AttributeError):  # not there, or a layer called twice
            return "not found once"

    return np.array([f"input {tuple(model.inputs[0].shape[1:])}"]
                    + [f"{name} {shape(name)}" for name in ("avg_pool", "flatten", "predictions")])


def _test_utils():
    """The assignment's test_utils (the notebook's folder is on the path in the kernel; the
    source folder is for course.authoring.references)."""
    import test_utils

    return test_utils


def bn_outputs(bn_behaviour):
    utils = _test_utils()
    results = {}
    # case: (pinned, frozen, batch sizes): each model once (every call to bn_behaviour costs
    # its predict calls' set-up, about 0.15 s each), each flag True in one case and False in
    # another, and where the spread is not 0, three batch sizes other than the default whose
    # largest difference is not between the first two
    cases = {"0": (False, False, (1, 8, 64)), "frozen": (False, True, (1, 8, 64)),
             "pinned, batch sizes 16, 4 and 2": (True, False, (16, 4, 2))}
    for case, (pinned, frozen, batch_sizes) in cases.items():
        model = utils.tiny_bn_model(always_batch_statistics=pinned, frozen=frozen)
        before = [w.numpy() for w in model.non_trainable_weights]
        report = bn_behaviour(model, utils.tiny_images(16), batch_sizes=batch_sizes)
        if any(not np.array_equal(b, w.numpy())
               for b, w in zip(before, model.non_trainable_weights)):
            raise AssertionError("bn_behaviour: the model's moving statistics changed; it must "
                                 "leave the model as it found it.")
        for key in ("batch_size_spread", "predict_changes_stats", "training_call_changes_stats"):
            results[f"bn_behaviour/{case}/{key}"] = np.float64(report[key])
    return results


def reestimate_outputs(reestimate_bn_statistics):
    """Moving statistics of a model with three BatchNorm layers of three momentums after
    re-estimation over 40 images in batches of 16 (the last batch has 8)."""
    inputs = keras.Input((6, 6, 8))
    x = layers.Conv2D(5, 3, padding="same")(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization(axis=3, momentum=0.99)(x))
    x = layers.Conv2D(3, 1)(x)
    x = layers.Activation("relu")(layers.BatchNormalization(axis=3, momentum=0.9)(x))
    x = layers.BatchNormalization(axis=3, momentum=0.95)(layers.Conv2D(4, 2, strides=2)(x))
    model = keras.Model(inputs, x)
    set_role_weights(model)
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    reestimate_bn_statistics(model, _inputs((40, 6, 6, 8)), batch_size=16)
    momentums = [layer.momentum for layer in norms]
    if momentums != [0.99, 0.9, 0.95]:
        raise AssertionError(f"reestimate_bn_statistics: momentums left at {momentums}, expected "
                             "each layer's own, [0.99, 0.9, 0.95].")
    return {f"reestimate_bn_statistics/{number}/moving statistics": weight.numpy()
            for number, weight in enumerate(model.non_trainable_weights)}


def _with_role_head(model):
    """`model` with its new head's weights set by role; the stand-in backbone keeps its own."""
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            set_layer_role_weights(layer)
    return model


def _fine_tuning_data(classes=4):
    rng = np.random.default_rng(_seed("fine-tuning"))
    images = rng.uniform(0, 1, (32, 16, 16, 3)).astype("float32")
    return images, np.eye(classes, dtype="float32")[rng.integers(0, classes, 32)]


def transfer_outputs(transfer_model):
    """Outputs of the transfer model in both modes, and after one SGD step on fixed data (a
    backbone that is not frozen, or that updates its BatchNorm statistics, changes them)."""
    # 3 classes, not the notebook's 4: a hard-coded Dense(4) shows
    model = _with_role_head(transfer_model(_test_utils().tiny_pretrained_model(), 3))
    x = _inputs((8, 16, 16, 3))
    results = {"transfer_model/0/inference": np.asarray(model(x)),
               "transfer_model/0/training": np.asarray(model(x, training=True)),
               # the names the specification gives (the public tests check): backbone, new head
               "transfer_model/0/named layers": np.array(sorted(
                   f"{layer.name} {type(layer).__name__}" for layer in model.layers
                   if layer.name in ("backbone", "new_predictions")))}
    images, labels = _fine_tuning_data(classes=3)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    model.fit(images, labels, batch_size=32, epochs=1, shuffle=False, verbose=0)
    results["transfer_model/0/after one training step"] = np.asarray(model(x))
    return results


FLAGS = "trainable flags of the backbone, its layers and the head"  # integers: compared exactly
REPORTS_ACCURACY = "fit reports accuracy"  # 1 or 0: compiled with metrics=["accuracy"]


def unfreeze_outputs(unfreeze_last_stage):
    """Trainable flags of the backbone's layers after unfreezing with a prefix other than the
    default, and the outputs after fine-tuning, on the model that transfer_model builds
    (test_utils)."""
    images, labels = _fine_tuning_data()
    x = _inputs((8, 16, 16, 3))
    results = {}
    for prefix in ("conv4_",):  # not the default: an answer that ignores prefix shows
        model = _with_role_head(_test_utils().tiny_transfer_model())
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
        model.fit(images, labels, batch_size=32, epochs=1, shuffle=False, verbose=0)
        unfreeze_last_stage(model, prefix=prefix, learning_rate=1e-3)
        backbone = model.get_layer("backbone")
        results[f"unfreeze_last_stage/prefix={prefix}/{FLAGS}"] = np.array(
            [backbone.trainable] + [layer.trainable for layer in backbone.layers if layer.weights]
            + [model.get_layer("new_predictions").trainable], dtype=np.int64)
        try:
            history = model.fit(images, labels, batch_size=16, epochs=1, shuffle=False, verbose=0)
        except ValueError as error:
            raise AssertionError(f"unfreeze_last_stage: fit failed afterwards ({str(error)[:120]}"
                                 "...): recompile the model after changing trainable "
                                 "flags.") from None
        results[f"unfreeze_last_stage/prefix={prefix}/{REPORTS_ACCURACY}"] = np.array(
            int("accuracy" in history.history), dtype=np.int64)
        results[f"unfreeze_last_stage/prefix={prefix}/inference after fine-tuning"] = (
            np.asarray(model(x)))
    return results


# The outputs of each graded function; the keys of references.npz start with its name.
OUTPUTS = {"identity_block": functools.partial(block_outputs, "identity_block"),
           "convolutional_block": functools.partial(block_outputs, "convolutional_block"),
           "ResNet50": resnet_outputs, "bn_behaviour": bn_outputs,
           "reestimate_bn_statistics": reestimate_outputs, "transfer_model": transfer_outputs,
           "unfreeze_last_stage": unfreeze_outputs}
# Run without tf.function: a few training steps of small models, where tracing `fit`'s functions
# took most of the time (4.4 s against 1.8 s for unfreeze_last_stage here).
EAGER = {"transfer_model", "unfreeze_last_stage"}
