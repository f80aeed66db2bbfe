"""Public tests and hidden checks, run directly on the solution, the bundled mistakes and variants."""
import functools

import keras
import numpy as np
import pytest
from keras import layers

import public_tests
from course import references
from course.hidden import ATOL, HiddenTests
from course.submissions import MISTAKES

HIDDEN_TESTS = HiddenTests(references.ROOT / "hidden" / "resnets")

PUBLIC = {"identity_block_tests": ("identity_block", public_tests.identity_block_test),
          "convolutional_block_tests": ("convolutional_block", public_tests.convolutional_block_test),
          "ResNet50_tests": ("ResNet50", public_tests.ResNet50_test),
          "bn_behaviour_tests": ("bn_behaviour", public_tests.bn_behaviour_test),
          "reestimate_bn_statistics_tests": ("reestimate_bn_statistics",
                                             public_tests.reestimate_bn_statistics_test),
          "transfer_model_tests": ("transfer_model", public_tests.transfer_model_test),
          "unfreeze_last_stage_tests": ("unfreeze_last_stage",
                                        public_tests.unfreeze_last_stage_test)}
HIDDEN = {f"{cell}_tests": functools.partial(HIDDEN_TESTS.check, cell)
          for cell in HIDDEN_TESTS.functions}
# What the public test must say for each bundled mistake: the feedback a student acts on.
MESSAGES = {
    "wrong-identity-relu-before-add": "main path ends with a ReLU before the addition",
    "wrong-conv-stride-on-second": "stride is on the wrong convolution",
    "wrong-conv-shortcut-no-bn": "the shortcut has no BatchNormalization",
    "wrong-resnet-no-softmax": "the last Dense layer has no softmax",
    "wrong-bn-no-restore": "moving statistics changed",
    "wrong-reestimate-momentum": "moving_mean is not the average of the 4 batches",
    "wrong-transfer-not-frozen": "the backbone is trainable: set backbone.trainable = False",
    "wrong-unfreeze-bn-trainable": "BatchNormalization layer 'conv5_block1_1_bn' is trainable",
}


@pytest.mark.parametrize("cell", PUBLIC)
def test_solution_passes_public_and_hidden_checks(solution, cell, capsys):
    name, public = PUBLIC[cell]
    public(solution[name])
    HIDDEN[cell](solution[name])
    assert "All tests passed!" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.student)
def test_each_mistake_fails_its_own_cell_with_a_message_that_names_it(make_namespace, mistake):
    namespace = make_namespace(mistake)
    name, public = PUBLIC[mistake.loses]
    with pytest.raises(AssertionError, match=MESSAGES[mistake.student]):
        public(namespace[name])
    with pytest.raises(AssertionError,
                       match="differs from the reference|moving statistics|trainable flags"):
        HIDDEN[mistake.loses](namespace[name])


def test_resnet_is_graded_on_its_own_code_with_a_wrong_block(make_namespace):
    namespace = make_namespace(MISTAKES[0])  # identity block with a ReLU before the addition
    public_tests.ResNet50_test(namespace["ResNet50"])
    HIDDEN_TESTS.check("ResNet50", namespace["ResNet50"])


def _identity_variant(X, f, filters, training=None, initializer=None, name=None):
    """Correct but written differently: ReLU layers, keras.ops.add, no conv bias, loop."""
    shortcut = X
    for number, (width, size) in enumerate(zip(filters, (1, f, 1)), start=1):
        X = layers.Conv2D(width, size, padding="valid" if size == 1 else "same", use_bias=False,
                          name=None if name is None else f"{name}_{number}_conv")(X)
        X = layers.BatchNormalization(axis=-1, name=None if name is None else f"{name}_{number}_bn")(
            X, training=training)
        if number < 3:
            X = layers.ReLU()(X)
    return keras.ops.relu(keras.ops.add(X, shortcut))


def test_correct_variant_passes_and_shows_the_tolerance_margin():
    public_tests.identity_block_test(_identity_variant)
    HIDDEN_TESTS.check("identity_block", _identity_variant)
    with np.load(HIDDEN_TESTS.folder / "references.npz") as stored:
        outputs = HIDDEN_TESTS.checks.block_outputs("identity_block", _identity_variant)
        worst = max(float(np.max(np.abs(outputs[k] - stored[k]))) for k in outputs)
    assert worst < ATOL / 10  # measured 0.0 here: the tolerance is headroom


def test_transfer_model_written_the_keras_guide_way_passes(solution):
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


def test_committed_references_match_the_current_solution():
    fresh = references.compute(references.ROOT, "resnets")
    with np.load(HIDDEN_TESTS.folder / "references.npz") as stored:
        assert sorted(stored.files) == sorted(fresh)
        for key, value in fresh.items():
            np.testing.assert_allclose(value, stored[key], atol=1e-6, err_msg=key)
