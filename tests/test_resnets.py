"""The Residual Networks assignment's own checks, on answers written by hand here: a ResNet50
graded apart from its blocks, correct answers written differently, mistakes the catalog's text
edits cannot express, and outputs no degenerate block can match."""
import keras
import numpy as np
import pytest
from conftest import ASSIGNMENTS, namespace
from keras import layers

from course.audit import catalog
from course.hidden import ATOL, HiddenTests

RESNETS = ASSIGNMENTS["resnets"]
HIDDEN_TESTS = HiddenTests(RESNETS.hidden())
namespace("resnets")  # its folder first on sys.path
import public_tests  # noqa: E402  (the assignment's)


def test_resnet_is_graded_on_its_own_code_with_a_wrong_block():
    wrong = namespace("resnets", catalog.of(RESNETS).sample("identity_block"))
    public_tests.ResNet50_test(wrong["ResNet50"])
    HIDDEN_TESTS.check("ResNet50", wrong["ResNet50"])


def _identity_variant(X, f, filters, training=None, initializer=keras.initializers.GlorotUniform,
                      name=None):
    """Correct but written differently: ReLU layers, keras.ops.add, no conv bias, loop, the
    initializer class by its Keras 3 name."""
    shortcut = X
    for number, (width, size) in enumerate(zip(filters, (1, f, 1)), start=1):
        X = layers.Conv2D(width, size, padding="valid" if size == 1 else "same", use_bias=False,
                          kernel_initializer=initializer(seed=0),
                          name=None if name is None else f"{name}_{number}_conv")(X)
        X = layers.BatchNormalization(
            axis=-1, name=None if name is None else f"{name}_{number}_bn")(X, training=training)
        if number < 3:
            X = layers.ReLU()(X)
    return keras.ops.relu(keras.ops.add(X, shortcut))


def test_correct_variant_passes_and_shows_the_tolerance_margin():
    public_tests.identity_block_test(_identity_variant)
    HIDDEN_TESTS.check("identity_block", _identity_variant)
    with np.load(HIDDEN_TESTS.folder / "references.npz") as stored:
        outputs = HIDDEN_TESTS.checks.block_outputs("identity_block", _identity_variant)
        worst = max(float(np.max(np.abs(outputs[k] - stored[k]))) for k in outputs
                    if stored[k].dtype.kind == "f")  # the numbers, not the layers' text
    assert worst < ATOL / 10  # measured 0.0 here: the tolerance is headroom


def test_transfer_model_written_the_keras_guide_way_passes():
    # backbone(x, training=False), as in the Keras transfer-learning guide: redundant once the
    # backbone is frozen, and harmless.
    def guide_variant(pretrained, classes=4):
        backbone = keras.Model(pretrained.input, pretrained.get_layer("flatten").output,
                               name="backbone")
        backbone.trainable = False
        inputs = keras.Input((16, 16, 3))
        outputs = layers.Dense(classes, activation="softmax", name="new_predictions")(
            backbone(inputs, training=False))
        return keras.Model(inputs, outputs)
    public_tests.transfer_model_test(guide_variant)
    HIDDEN_TESTS.check("transfer_model", guide_variant)


def test_unfreeze_without_the_backbone_flag_fails_on_the_flags():
    # Keras 3 trains such a model like the solution (the outer model gathers trainable
    # variables itself), but its backbone reports no trainable weights: graded on the flags.
    def forgets_backbone_flag(model, prefix="conv5_", learning_rate=3e-4):
        for layer in model.get_layer("backbone").layers:
            layer.trainable = (layer.name.startswith(prefix)
                               and not isinstance(layer, layers.BatchNormalization))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(AssertionError, match="the backbone's own flag is still False"):
        public_tests.unfreeze_last_stage_test(forgets_backbone_flag)
    with pytest.raises(AssertionError, match="trainable flags .* differ"):
        HIDDEN_TESTS.check("unfreeze_last_stage", forgets_backbone_flag)


def test_unfreeze_that_does_not_recompile_is_caught():
    def no_recompile(model, prefix="conv5_", learning_rate=3e-4):
        backbone = model.get_layer("backbone")
        backbone.trainable = True
        for layer in backbone.layers:
            layer.trainable = (layer.name.startswith(prefix)
                               and not isinstance(layer, layers.BatchNormalization))
    with pytest.raises(AssertionError, match="recompile"):
        public_tests.unfreeze_last_stage_test(no_recompile)
    with pytest.raises(AssertionError, match="recompile"):
        HIDDEN_TESTS.check("unfreeze_last_stage", no_recompile)


@pytest.mark.parametrize("degenerate", [
    lambda X, f, filters, **kw: X,  # returns its input
    lambda X, f, filters, **kw: keras.ops.zeros_like(X),  # all zeros
    lambda X, f, filters, **kw: layers.ReLU()(X),  # shortcut alone
])
def test_hidden_check_cannot_pass_by_accident(degenerate):
    with pytest.raises(AssertionError, match="differs from the reference"):
        HIDDEN_TESTS.check("identity_block", degenerate)
