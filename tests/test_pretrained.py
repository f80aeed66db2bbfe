"""The pretrained-model builder (its validation split and its all-or-nothing save), and
fine-tuning the real resnet50.h5 on the real new task."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ASSIGNMENTS, ROOT, namespace

from course.authoring import data, pretrained
from course.core import use_folder

ASSIGNMENT_DIR = ASSIGNMENTS["resnets"].source().parent
use_folder(ASSIGNMENT_DIR)
from resnets_utils import load_digits_dataset, load_signs_dataset, one_hot  # noqa: E402


def test_validation_split_is_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(6), 180)
    train, validation = pretrained.split(labels, 0.2, seed=0)
    assert len(train) == 864 and len(validation) == 216
    assert not set(train) & set(validation)
    assert np.bincount(labels[validation]).tolist() == [36] * 6
    assert np.array_equal(validation, pretrained.split(labels, 0.2, seed=0)[1])
    assert not np.array_equal(validation, pretrained.split(labels, 0.2, seed=1)[1])


def test_augmentation_choices_and_an_unknown_one():
    config = pretrained.Config()
    assert (config.augmentation, config.warmup_epochs) == ("geometric", 0)
    names = [type(layer).__name__ for layer in pretrained.augmenter(config, None).layers]
    assert names == ["RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom"]
    with pytest.raises(ValueError, match="augmentation 'colour': expected one of"):
        pretrained.augmenter(pretrained.Config(augmentation="colour"), None)
    with pytest.raises(SystemExit):
        pretrained.main(["--augmentation", "colour"])


def test_save_writes_a_loadable_model_and_its_report(tmp_path):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    out = tmp_path / "resnet50.h5"
    pretrained.save(model, {"test_accuracy": 0.5}, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resnet50.h5", "resnet50.json"]
    x = np.ones((1, 4, 4, 3), "float32")
    np.testing.assert_allclose(keras.models.load_model(out).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    report = json.loads((tmp_path / "resnet50.json").read_text())
    assert len(report["sha256"]) == 64 and report["test_accuracy"] == 0.5


def test_the_builder_on_a_small_budget_keeps_its_best_validation_epoch(tmp_path, datasets_dir):
    """The whole recipe's code path (`make pretrained` at 2 epochs on 96 images): the file and
    its report, and the kept weights are the best scored epoch's."""
    out = tmp_path / "resnet50.h5"
    done = subprocess.run([sys.executable, "-m", "course.authoring.pretrained", "--epochs", "2",
                           "--limit", "96", "--batch-size", "16", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resnet50.h5", "resnet50.json"]
    report = json.loads((tmp_path / "resnet50.json").read_text())
    assert report["config"]["epochs"] == 2 and report["config"]["limit"] == 96
    assert (report["train_images"], report["validation_images"]) == (77, 19)  # 80/20 per class
    assert [r["epoch"] for r in report["validation"]] == [1, 2]  # from the middle: epoch 1 on
    best = max(r["val_accuracy"] for r in report["validation"])
    assert report["best_validation_accuracy"] == best
    assert report["sha256"] == data.sha256(out) and 0 <= report["test_accuracy"] <= 1
    assert f"wrote {out}: validation accuracy {best:.3f}" in done.stdout

    X, Y, *_ = load_signs_dataset(datasets_dir)
    _, validation = pretrained.split(Y[:96], 0.2, seed=0)
    model = keras.models.load_model(out, compile=False)
    predicted = model.predict(X[validation].astype("float32") / 255, verbose=0).argmax(1)
    assert np.mean(predicted == Y[validation]) == pytest.approx(best, abs=1e-6)


def test_fine_tuning_resnet50_h5_changes_only_conv5_convolutions_and_the_head(datasets_dir):
    solution = namespace("resnets")
    path = datasets_dir / "resnet50.h5"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make pretrained`")
    X_train, Y_train, *_ = load_digits_dataset(datasets_dir)
    X, Y = X_train[:64].astype("float32") / 255, one_hot(Y_train[:64], 4)
    keras.utils.set_random_seed(0)
    model = solution["transfer_model"](keras.models.load_model(path, compile=False), 4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
    model.fit(X, Y, batch_size=32, epochs=1, verbose=0)
    solution["unfreeze_last_stage"](model, prefix="conv5_", learning_rate=3e-4)
    model.fit(X, Y, batch_size=32, epochs=1, verbose=0)

    original = keras.models.load_model(path, compile=False)
    changed = {}
    for layer in model.get_layer("backbone").layers:
        for before, after in zip(original.get_layer(layer.name).weights, layer.weights):
            changed[after.path] = not np.array_equal(before.numpy(), after.numpy())
    tuned = {path for path, moved in changed.items() if moved}
    # the 10 convolutions of conv5_ (3 blocks of 3, one shortcut), kernels and biases, and
    # nothing else: no other weight, no BatchNorm gamma, beta or statistic
    assert len(changed) == 53 * 2 + 53 * 4  # 53 convolutions, 53 BatchNorm layers
    assert tuned == {path for path in changed
                     if path.startswith("conv5_") and path.split("/")[0].endswith("_conv")}
    assert len(tuned) == 20
