"""Weights by role: the hidden checks' way of giving a student's network known weights, the same
whatever order the student created the layers in and whatever Keras' initializers draw (their
random streams changed between Keras versions).

Every weight is drawn from NumPy with a seed made of the layer's role: a convolution's or a
Dense layer's kernel shape, a BatchNormalization's input (the kernel shape of the convolution
feeding it). The assignments' checks choose shapes so that no two convolutions of a case share
one.

Kernel-side, like course/hidden/untrusted.py: course/hidden/judge.py sends this file's text to the
grading kernel, where course.hidden.untrusted.load_checks gives it to hidden_checks.py as the module
`roles`; it imports nothing of the course's and holds nothing secret. The assignments differ in
three named settings (Roles); each difference is kept because its references were made with it, and
changing one means `make references`.
"""
import zlib
from dataclasses import dataclass


def seed(*parts):
    """A seed for NumPy made of `parts` (their repr): the same on every machine and version."""
    return zlib.crc32(repr(parts).encode())


def inputs(shape, low=None):
    """Float32 inputs of `shape` seeded by it: standard normal, or uniform in [low, 1)."""
    import numpy as np

    rng = np.random.default_rng(seed("inputs", shape))
    if low is not None:
        return rng.uniform(low, 1, shape).astype("float32")
    return rng.normal(0, 1, shape).astype("float32")


def role(layer):
    """What a BatchNormalization normalizes: the kernel shape of the convolution feeding it, or
    the kind of layer that does (a block's input)."""
    producer = layer._inbound_nodes[0].input_tensors[0]._keras_history[0]
    kernel = getattr(producer, "kernel", None)
    return tuple(kernel.shape) if kernel is not None else type(producer).__name__


def moving_statistics(model):
    """Every BatchNormalization layer's moving mean and variance, in the order of their roles
    (whatever order the layers were created in), as one array."""
    import numpy as np
    from keras import layers

    norms = sorted((layer for layer in model.layers
                    if isinstance(layer, layers.BatchNormalization)),
                   key=lambda layer: repr(role(layer)))
    return np.concatenate([np.ravel(weight.numpy()) for layer in norms
                           for weight in (layer.moving_mean, layer.moving_variance)]
                          or [np.zeros(0, "float32")])


@dataclass(frozen=True)
class Roles:
    """How one assignment's checks draw weights (each setting's values, and why they differ).

    conv_kernel: "uniform" (float32 values of mean 0 and standard deviation 1/sqrt(fan_in),
        about 3 times faster to draw than normal ones: resnets' and beyond's ResNet50s have 23
        million weights) or "normal" (float64 draws of that deviation: degradation's small
        networks, where speed does not matter).
    conv_bias: "zero" (with or without use_bias is then the same layer: resnets' and
        degradation's specifications leave the bias free) or "normal" (N(0, 0.1), drawn after
        the kernel: beyond's specification fixes which convolutions have one, and a missing or
        extra bias must move the outputs).
    dense_scale: a Dense kernel's standard deviation times sqrt(fan_in), small so that the
        softmax stays far from saturation (0.3; beyond's heads were set at 0.5).
    """
    conv_kernel: str = "uniform"
    conv_bias: str = "zero"
    dense_scale: float = 0.3

    def set_model(self, model):
        """Set every weight of `model`."""
        for layer in model.layers:
            self.set_layer(layer)

    def set_layer(self, layer):
        """Set the weights of one layer from NumPy, seeded by its role and the weight's shape;
        refuse a kind of layer with weights that the checks do not expect."""
        import numpy as np
        from keras import layers

        if isinstance(layer, layers.Conv2D):
            shape = tuple(layer.kernel.shape)
            fan_in = int(np.prod(shape[:-1]))
            rng = np.random.default_rng(seed("conv", shape))
            if self.conv_kernel == "uniform":  # the deviation of U(-1/2, 1/2) is sqrt(1/12)
                layer.kernel.assign((rng.random(shape, dtype=np.float32) - np.float32(0.5))
                                    * np.float32(np.sqrt(1.0 / fan_in) * np.sqrt(12)))
            else:
                layer.kernel.assign(rng.normal(0, np.sqrt(1.0 / fan_in), shape))
            if layer.bias is not None:
                layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape)
                                  if self.conv_bias == "normal" else np.zeros(layer.bias.shape))
        elif isinstance(layer, layers.BatchNormalization):
            size = layer.moving_mean.shape
            rng = np.random.default_rng(seed("bn", role(layer), tuple(size)))
            values = {"gamma": rng.uniform(0.5, 1.5, size), "beta": rng.normal(0, 0.2, size),
                      "moving_mean": rng.normal(0, 0.3, size),
                      "moving_variance": rng.uniform(0.5, 2.0, size)}
            for weight in layer.weights:
                weight.assign(values[weight.name])
        elif isinstance(layer, layers.Dense):
            rng = np.random.default_rng(seed("dense", tuple(layer.kernel.shape)))
            layer.kernel.assign(rng.normal(0, self.dense_scale / np.sqrt(layer.kernel.shape[0]),
                                           layer.kernel.shape))
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape))
        elif layer.weights:
            raise AssertionError(f"unexpected layer with weights: {layer.name} "
                                 f"({type(layer).__name__})")
