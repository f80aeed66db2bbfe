"""Hidden checks for the Beyond ResNet50 assignment (instructor only; never released).

Each check runs the student's function on fixed inputs, with every weight set from NumPy with
seeds derived from the layer's role (never from Keras' initializer streams), and the grader
compares the outputs with references.npz, made from the instructor solution by
`python -m course.authoring.references`. Random augmentation is checked by its properties, never by
one Keras version's random numbers.

The `*_outputs` functions (OUTPUTS) run in the student's kernel after their notebook, beside
code that may be hostile, so they need nothing secret. This file imports nothing of the course's.
Tolerance: course/hidden/judge.py's (atol 1e-4, rtol 1e-3), on outputs of order 1.
"""

import keras
import numpy as np
from keras import layers

# (input shape, filters, stride, conv_shortcut): the identity shortcut, a projection with a
# stride, the 1×1 max pooling shortcut, a projection at stride 1. Every convolution of a case has
# a kernel shape of its own, so its weights follow from its role alone.
BLOCK_CASES = [((3, 6, 6, 8), 2, 1, False), ((2, 7, 7, 5), 3, 2, True),
               ((3, 6, 6, 12), 3, 2, False), ((2, 5, 5, 6), 4, 1, True)]
HEAD_CASES = [((2, 2, 2, 6), 4), ((2, 3, 5, 6), 4)]  # two map sizes, one head
RESNET_CASE = dict(shape=(2, 64, 64, 3), classes=5)  # not 6: a hard-coded Dense(6) shows
# peak, warm-up, total, last step
SCHEDULE_CASES = [(1e-3, 10, 100, 130), (0.5, 1, 4, 7), (2.0, 7, 8, 12)]
METRIC_CASES = [(7, 60), (4, 9)]  # classes, photos (seeded by the case's number)
CAM_LAYERS = ["features", "block"]


# course/hidden/roles.py, given to this module by course.hidden.untrusted.load_checks
roles = globals()["roles"]
# weights by role (course/hidden/roles.py says why the assignments' settings differ)
ROLES = roles.Roles(conv_kernel="uniform", conv_bias="normal", dense_scale=0.5)
set_role_weights, set_layer_role_weights = ROLES.set_model, ROLES.set_layer
_seed, _role, _inputs, _moving_statistics = (roles.seed, roles.role, roles.inputs,
                                             roles.moving_statistics)


def _modes(name, model, x):
    """Inference output, training-mode output, the moving statistics the training call left,
    and the number of weights (a missing or extra bias shows there)."""
    set_role_weights(model)
    return {f"{name}/inference": np.asarray(model(x)),
            f"{name}/training": np.asarray(model(x, training=True)),
            f"{name}/moving statistics after a training call": _moving_statistics(model),
            f"{name}/weights": np.array(model.count_params(), dtype=np.int64)}


def preact_outputs(preact_block):
    results = {}
    for number, (shape, filters, stride, conv_shortcut) in enumerate(BLOCK_CASES):
        inputs = keras.Input(shape[1:])
        model = keras.Model(inputs, preact_block(inputs, filters, stride=stride,
                                                 conv_shortcut=conv_shortcut,
                                                 name=f"case{number}"))
        results.update(_modes(f"preact_block/{number}", model, _inputs(shape)))
    return results


def head_outputs(gap_head):
    results = {}
    for number, (shape, classes) in enumerate(HEAD_CASES):
        inputs = keras.Input(shape[1:])
        model = keras.Model(inputs, gap_head(inputs, classes))
        set_role_weights(model)
        results[f"gap_head/{number}/inference"] = np.asarray(model(_inputs(shape)))
        # in training mode too: a Dropout (or anything else that trains differently) shows
        results[f"gap_head/{number}/training"] = np.asarray(model(_inputs(shape), training=True))
        results[f"gap_head/{number}/weights"] = np.array(model.count_params(), dtype=np.int64)
        results[f"gap_head/{number}/named layers"] = np.array(sorted(
            f"{layer.name} {type(layer).__name__}" for layer in model.layers
            if layer.name in ("avg_pool", "predictions")))
    return results


def stand_ins():
    """A preact_block without BatchNormalization and a head, built from their arguments:
    ResNet50V2 is graded alone, with no instructor code. The main path is scaled by 0.3 so that
    16 additions keep the outputs of order 1; zero initial weights (set_role_weights sets them)."""
    def conv(*args, **kwargs):
        return layers.Conv2D(*args, kernel_initializer="zeros", **kwargs)

    def preact_block(X, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
        Y = layers.Activation("relu")(conv(filters, 1)(X))
        Y = layers.Activation("relu")(conv(filters, kernel_size, strides=stride,
                                           padding="same")(Y))
        Y = layers.Rescaling(0.3)(conv(4 * filters, 1)(Y))
        if conv_shortcut:
            shortcut = conv(4 * filters, 1, strides=stride)(X)
        elif stride > 1:
            shortcut = layers.MaxPooling2D(1, strides=stride)(X)
        else:
            shortcut = X
        return layers.Add()([shortcut, Y])

    def gap_head(X, classes):
        return layers.Dense(classes, activation="softmax", name="predictions")(
            layers.GlobalAveragePooling2D(name="avg_pool")(X))

    return {"preact_block": preact_block, "gap_head": gap_head}


def _test_utils():
    import test_utils  # the notebook's folder is on the path in the kernel

    return test_utils


def resnet_outputs(ResNet50V2):
    blocks = stand_ins()
    block_names, block = [], blocks["preact_block"]

    def recording_block(X, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
        block_names.append(str(name))
        return block(X, filters, kernel_size, stride, conv_shortcut, name)

    with _test_utils().replaced_globals(ResNet50V2, **{**blocks,
                                                       "preact_block": recording_block}):
        model = ResNet50V2(input_shape=RESNET_CASE["shape"][1:], classes=RESNET_CASE["classes"])
    names = {layer.name for layer in model.layers}
    missing = {"conv1_conv", "pool1_pool", "post_bn", "post_relu"} - names
    if missing:
        raise AssertionError(f"ResNet50V2: no layer named {', '.join(sorted(missing))}, as the "
                             "specification says.")
    x = np.random.default_rng(_seed("images")).uniform(0, 1, RESNET_CASE["shape"]).astype(
        "float32")
    return {**_modes("ResNet50V2", model, x), "ResNet50V2/block names": np.array(block_names),
            "ResNet50V2/model name": np.array([str(model.name)])}


def schedule_outputs(warmup_cosine):
    results = {}
    for number, (peak, warmup, total, last) in enumerate(SCHEDULE_CASES):
        results[f"warmup_cosine/{number}/rates"] = np.array(
            [float(warmup_cosine(step, peak, warmup, total)) for step in range(last + 1)])
    import tensorflow as tf

    results["warmup_cosine/tensor step"] = np.array(
        float(warmup_cosine(tf.constant(13, dtype="int64"), 1e-3, 10, 100)))
    compiled = tf.function(lambda step: warmup_cosine(step, 0.5, 3, 9))  # as in fit
    results["warmup_cosine/compiled"] = np.array(
        [float(compiled(tf.constant(step, dtype="int64"))) for step in (0, 2, 3, 6, 9, 11)])
    return results


AUGMENTATION = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
                "RandomBrightness", "RandomContrast"]


def augmenter_outputs(augmenter):
    """Properties, as integers (1: holds): the layers in order, no vertical flip, inference is
    the identity, training keeps shape and range and changes the images, a seed reproduces them,
    another seed does not; and the settings that bound the transforms."""
    model = augmenter(seed=11)
    kinds = [AUGMENTATION.index(type(layer).__name__) if type(layer).__name__ in AUGMENTATION
             else -1 for layer in getattr(model, "layers", [])]
    configs = [layer.get_config() for layer in getattr(model, "layers", [])]

    def bound(value):  # a range's largest magnitude
        if isinstance(value, (list, tuple)):
            return max(abs(float(v)) for v in value)
        return abs(float(value)) if value is not None else -1.0

    settings = [bound(c.get(key)) for c in configs
                for key in ("factor", "height_factor", "width_factor") if key in c]
    images = _inputs((5, 20, 20, 3), low=0.0)
    inference = np.asarray(model(images, training=False))
    changed = np.asarray(model(images, training=True))
    twin = np.asarray(augmenter(seed=11)(images, training=True))
    other = np.asarray(augmenter(seed=12)(images, training=True))
    properties = [
        int(getattr(model, "name", "") == "augmentation"),
        int(all(c.get("mode", "horizontal") == "horizontal" for c in configs)),
        int(all(c.get("fill_mode", "nearest") == "nearest" for c in configs)),
        int(all(tuple(c.get("value_range", (0, 1))) == (0, 1) for c in configs)),
        int(np.array_equal(inference, images)),
        int(changed.shape == images.shape),
        int(changed.shape == images.shape and changed.min() >= -1e-6 and changed.max() <= 1 + 1e-6),
        int(changed.shape == images.shape and not np.allclose(changed, images)),
        int(twin.shape == changed.shape and np.allclose(twin, changed, atol=1e-6)),
        int(other.shape != changed.shape or not np.allclose(other, changed, atol=1e-6)),
    ]
    return {"augmenter/layers": np.array(kinds, dtype=np.int64),
            "augmenter/properties": np.array(properties, dtype=np.int64),
            "augmenter/settings": np.array(settings, dtype=np.float64)}


def metric_outputs(class_metrics):
    import warnings

    results = {}
    for number, (classes, count) in enumerate(METRIC_CASES):
        rng = np.random.default_rng(_seed("metrics", number))
        labels = rng.integers(0, classes - 1, count)  # the last class has no photos
        predictions = np.where(rng.random(count) < 0.6, labels,
                               rng.integers(0, classes, count))
        predictions[predictions == 1] = 0  # class 1 is never predicted
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            result = class_metrics(labels, predictions, classes)
        results[f"class_metrics/{number}/warnings"] = np.array(len(caught), dtype=np.int64)
        results[f"class_metrics/{number}/confusion"] = np.asarray(result["confusion"]).astype(
            np.int64)
        integers = np.issubdtype(np.asarray(result["confusion"]).dtype, np.integer)
        results[f"class_metrics/{number}/flags (1: the confusion matrix holds integers)"] = (
            np.array(int(integers), dtype=np.int64))
        for key in ("precision", "recall", "f1"):
            results[f"class_metrics/{number}/{key}"] = np.asarray(result[key], dtype=np.float64)
    # the last two classes in neither the labels nor the predictions: the size is `classes`
    labels, predictions = np.array([0, 1, 2, 1, 0, 2]), np.array([0, 2, 2, 1, 1, 2])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = class_metrics(labels, predictions, 5)
    results["class_metrics/classes never seen/confusion"] = np.asarray(
        result["confusion"]).astype(np.int64)
    return results


def cam_model(shape=(16, 16, 3)):
    """conv (stride 2) → BatchNorm → ReLU ("features") → a residual block ("block") → GAP → Dense
    softmax, on images of `shape` (16×16 by default)."""
    inputs = keras.Input(shape)
    x = layers.Conv2D(6, 3, strides=2, padding="same")(inputs)
    x = layers.Activation("relu", name="features")(layers.BatchNormalization()(x))
    y = layers.Conv2D(6, 3, padding="same", use_bias=False)(x)
    x = layers.Add(name="block")([x, layers.Activation("relu")(y)])
    outputs = layers.Dense(5, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    set_role_weights(model)
    return model


def cam_images():
    """Two 16×16 images in [0, 1]: faint noise with a bright patch, in a different place each."""
    images = 0.3 * _inputs((2, 16, 16, 3), low=0.0)
    images[0, 2:7, 3:8] += 0.7 * np.array([1.0, 0.6, 0.2], dtype="float32")
    images[1, 9:15, 8:14] += 0.7 * np.array([0.2, 0.5, 1.0], dtype="float32")
    return images


def cam_outputs(grad_cam):
    model = cam_model()
    images = cam_images()
    results = {}
    for layer in CAM_LAYERS:
        for number, class_index in enumerate([None, 4]):  # the predicted class, and one whose map
            # has negative parts before the ReLU (the ReLU shows)
            results[f"grad_cam/{layer}/{number}/heatmap"] = np.asarray(
                grad_cam(model, images[number], layer, class_index), dtype=np.float64)
    # grad_cam leaves the model as it was (no softmax removed from its head in place)
    results["grad_cam/the model after the calls/outputs"] = np.asarray(model(images),
                                                                       dtype=np.float64)
    dead = cam_model()  # a class whose score does not depend on the features: zero gradient
    dense = dead.layers[-1]
    kernel = dense.kernel.numpy()
    kernel[:, :] = 0.0
    dense.kernel.assign(kernel)
    results["grad_cam/zero gradient/heatmap"] = np.asarray(
        grad_cam(dead, images[0], "features", 2), dtype=np.float64)
    # an image that is not square (12 rows, 20 columns): a map resized to (width, height) shows
    wide = cam_model((12, 20, 3))
    image = 0.3 * _inputs((1, 12, 20, 3), low=0.0)[0]
    image[2:7, 11:18] += 0.7 * np.array([1.0, 0.6, 0.2], dtype="float32")
    results["grad_cam/not square/heatmap"] = np.asarray(grad_cam(wide, image, "features", None),
                                                        dtype=np.float64)
    return results


# The outputs of each graded function; the keys of references.npz start with its name.
OUTPUTS = {"preact_block": preact_outputs, "gap_head": head_outputs,
           "ResNet50V2": resnet_outputs, "warmup_cosine": schedule_outputs,
           "augmenter": augmenter_outputs, "class_metrics": metric_outputs,
           "grad_cam": cam_outputs}
