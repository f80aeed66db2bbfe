"""Helpers for the Beyond ResNet50 assignment. Everything here is given to students; nothing here
is graded. The data helpers are assignment 1's (resnets_utils.py, the same file)."""
import keras
import numpy as np

from resnets_utils import (GRADING, check_range, find_pretrained, layer_name, load_signs_dataset,
                           one_hot)

__all__ = ["GRADING", "SHIFTS", "StepSchedule", "block_gradient_norms", "check_range",
           "find_pretrained", "first_steps", "layer_name", "load_signs_dataset", "one_hot",
           "plot_confusion", "plot_grad_cam", "shift_photo", "shifted_test_set"]

# The shifted test set: one kind of change at a time, its strength drawn per photo from a range
# (in the spirit of ImageNet-C, Hendrycks and Dietterich, 2019): what another camera, light or
# framing does to a photo of a hand.
SHIFTS = {
    "brightness": (0.55, 1.45),  # PIL ImageEnhance.Brightness factor (1: unchanged)
    "contrast": (0.5, 1.5),      # ImageEnhance.Contrast factor
    "colour": (0.0, 2.0),        # ImageEnhance.Color factor: 0 grey, 2 twice as saturated
    "scale": (0.75, 1.25),       # zoom about the centre (below 1: the hand smaller, edges repeated)
    "blur": (0.8, 1.6),          # Gaussian blur radius, in pixels
    "rotation": (-25.0, 25.0),   # degrees
}


def shift_photo(photo, kind, value):
    """One uint8 photo (64, 64, 3) changed by `kind` (a key of SHIFTS) with strength `value`."""
    from PIL import Image, ImageEnhance, ImageFilter

    image = Image.fromarray(photo)
    size = photo.shape[0]
    if kind == "brightness":
        image = ImageEnhance.Brightness(image).enhance(value)
    elif kind == "contrast":
        image = ImageEnhance.Contrast(image).enhance(value)
    elif kind == "colour":
        image = ImageEnhance.Color(image).enhance(value)
    elif kind == "blur":
        image = image.filter(ImageFilter.GaussianBlur(value))
    elif kind in ("rotation", "scale"):
        # the photo on a canvas of its own edge pixels, three times as wide: rotating or
        # shrinking it then shows more background, not black corners
        canvas = Image.fromarray(np.pad(photo, [(size, size), (size, size), (0, 0)], mode="edge"))
        if kind == "rotation":
            canvas = canvas.rotate(value, resample=Image.Resampling.BILINEAR)
            side = size
        else:
            side = size / value  # the part of the scene that fills the frame
        low, high = 1.5 * size - side / 2, 1.5 * size + side / 2
        image = canvas.resize((size, size), Image.Resampling.BILINEAR, box=(low, low, high, high))
    else:
        raise ValueError(f"unknown shift {kind!r}: expected one of {', '.join(SHIFTS)}")
    return np.asarray(image)


def shifted_test_set(X, seed=0):
    """{kind: photos}: every photo of X (uint8, (m, 64, 64, 3)) changed by each kind of SHIFTS,
    with a strength drawn per photo from its range; the same photos for the same seed."""
    rng = np.random.default_rng(seed)
    return {kind: np.stack([shift_photo(photo, kind, rng.uniform(low, high)) for photo in X])
            for kind, (low, high) in SHIFTS.items()}


class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning-rate schedule from a function of the step: what a Keras optimizer takes.
    StepSchedule(warmup_cosine, peak=1e-3, warmup_steps=34, total_steps=340)."""

    def __init__(self, function, **arguments):
        self.function, self.arguments = function, arguments

    def __call__(self, step):
        return self.function(step, **self.arguments)

    def get_config(self):
        return dict(self.arguments)


def block_gradient_norms(model, X, Y):
    """{block: L2 norm of the gradient of the loss by the block's output x_l}, for every layer
    named like keras.applications' block outputs (conv2_block1_out ... conv5_block3_out), in
    training mode (BatchNorm on the batch's statistics, as in a training step). The loss is the
    mean categorical cross-entropy of `model` on the images X and one-hot labels Y."""
    import tensorflow as tf

    blocks = [layer.name for layer in model.layers
              if layer.name.startswith("conv") and layer.name.endswith("_out")]
    probe = keras.Model(model.input, [model.get_layer(block).output for block in blocks]
                        + [model.output])
    with tf.GradientTape() as tape:
        *outputs, predictions = probe(X, training=True)
        loss = keras.ops.mean(keras.losses.categorical_crossentropy(Y, predictions))
    return {block: float(tf.norm(gradient))
            for block, gradient in zip(blocks, tape.gradient(loss, outputs))}


def first_steps(model, X, Y, learning_rates, steps, batch_size=32, seed=0):
    """{label: the training loss of each of the first `steps` steps of Adam} for each schedule of
    `learning_rates` ({label: function from the step 0, 1, ... to a learning rate}), each run
    from `model`'s present weights, with a fresh Adam and the same batches (drawn from X, Y with
    `seed`). The loss of a step is the batch's, before that step's update. `model` is left with
    the weights it had."""
    import tensorflow as tf

    start = [weight.numpy() for weight in model.weights]
    optimizer = keras.optimizers.Adam(learning_rate=0.0)
    optimizer.build(model.trainable_variables)

    @tf.function  # traced once: the learning rate is a variable the loop sets before each step
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.losses.categorical_crossentropy(
                labels, model(images, training=True)))
        optimizer.apply(tape.gradient(loss, model.trainable_variables),
                        model.trainable_variables)
        return loss

    # the photos in one random order, repeated if the steps need more than one pass
    batches = np.resize(np.random.default_rng(seed).permutation(len(X)), (steps, batch_size))
    losses = {}
    for label, rate in learning_rates.items():
        for weight, value in zip(model.weights, start):
            weight.assign(value)
        for variable in optimizer.variables:  # Adam's moments and step count back to 0
            variable.assign(keras.ops.zeros_like(variable))
        losses[label] = []
        for number, batch in enumerate(batches):
            optimizer.learning_rate = float(rate(number))
            losses[label].append(float(step(X[batch], Y[batch])))
    for weight, value in zip(model.weights, start):
        weight.assign(value)
    return losses


def plot_confusion(matrix, labels, title="", ax=None):
    """The confusion matrix (rows: true class, columns: predicted class), counts in the cells."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    ax = ax or plt.subplots(figsize=(4.2, 3.8))[1]
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(xticks=range(len(labels)), yticks=range(len(labels)), xticklabels=labels,
           yticklabels=labels, xlabel="predicted", ylabel="true", title=title)
    return ax


def plot_grad_cam(image, heatmap, title="", ax=None):
    """A photo (values in [0, 1]) with its Grad-CAM heatmap laid over it."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(3, 3))[1]
    ax.imshow(image)
    ax.imshow(heatmap, cmap="jet", alpha=0.4, vmin=0, vmax=1)
    ax.set(title=title, xticks=[], yticks=[])
    return ax
