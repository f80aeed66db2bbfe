"""The pretrained-model builder: its validation split and its all-or-nothing save."""
import json

import keras
import numpy as np

from course import pretrained


def test_validation_split_is_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(6), 180)
    train, validation = pretrained.split(labels, 0.2, seed=0)
    assert len(train) == 864 and len(validation) == 216
    assert not set(train) & set(validation)
    assert np.bincount(labels[validation]).tolist() == [36] * 6
    assert np.array_equal(validation, pretrained.split(labels, 0.2, seed=0)[1])
    assert not np.array_equal(validation, pretrained.split(labels, 0.2, seed=1)[1])


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
