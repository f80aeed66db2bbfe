"""The SIGNS loader and the data set-up on the real files, and their errors on bad ones."""
import os

import h5py
import numpy as np
import pytest
from conftest import ASSIGNMENTS
from PIL import Image

from course.authoring import data
from course.core import use_folder

use_folder(ASSIGNMENTS["resnets"].source().parent)  # resnets_utils, the data loaders
import resnets_utils  # noqa: E402
from resnets_utils import (  # noqa: E402
    load_digits_dataset,
    load_signs_dataset,
    one_hot,
    read_digits_folder,
    read_signs_file,
)


def test_real_signs_dataset_has_the_course_shapes_and_balanced_classes(datasets_dir):
    X_train, Y_train, X_test, Y_test, classes = load_signs_dataset(datasets_dir)
    assert X_train.shape == (1080, 64, 64, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (120, 64, 64, 3)
    assert np.bincount(Y_train).tolist() == [180] * 6  # 180 per class (datasets README)
    assert np.bincount(Y_test).tolist() == [20] * 6
    assert classes.tolist() == [0, 1, 2, 3, 4, 5]


def test_real_digits_dataset_is_split_stratified_with_stratified_prefixes(datasets_dir):
    X_train, Y_train, X_test, Y_test, classes = load_digits_dataset(datasets_dir)
    # 207, 206, 208 and 204 photos of the signs 6..9 (datasets README: 825 in all); 20% held out
    assert X_train.shape == (660, 64, 64, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (165, 64, 64, 3)
    assert np.bincount(Y_test).tolist() == [41, 41, 42, 41]
    assert np.bincount(Y_train).tolist() == [166, 165, 166, 163]
    assert np.bincount(Y_train[:66]).tolist() == [17, 16, 17, 16]  # the 10% subset
    assert np.bincount(Y_train[:165]).tolist() == [42, 41, 41, 41]  # the 25% subset
    assert classes.tolist() == [6, 7, 8, 9]
    # the held-out images are not among the training images
    train_keys = {image.tobytes() for image in X_train}
    assert not any(image.tobytes() in train_keys for image in X_test)
    # box downscaling keeps the mean brightness of the 100×100 originals
    folder = datasets_dir / "sign-language-digits-6to9" / "6"
    original = np.asarray(Image.open(sorted(folder.glob("*.JPG"))[0]).convert("RGB"), np.float64)
    first, _ = read_digits_folder(datasets_dir / "sign-language-digits-6to9")
    assert abs(first[0].mean() - original.mean()) < 1.0


def test_digits_folder_errors_name_the_folder_or_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"6 has no JPEG images: expected folders 6/ 7/ "
                                                r"8/ 9/.*Fix: set SIGNS_DATA_DIR"):
        read_digits_folder(tmp_path)
    for sign in "6789":
        (tmp_path / sign).mkdir()
        Image.new("RGB", (100, 100)).save(tmp_path / sign / "a.jpg")
    (tmp_path / "8" / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"8/b.jpg is not a readable image"):
        read_digits_folder(tmp_path)


def test_one_hot_rows():
    assert one_hot([2, 0], 3).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r"train_signs.h5 not found.*Fix: set SIGNS_DATA_DIR"):
        read_signs_file(tmp_path / "train_signs.h5")


def _data_folder(folder, without=()):
    folder.mkdir(parents=True)
    for name in resnets_utils.DATA_FILES:
        if name not in without:
            (folder / name).mkdir() if "." not in name else (folder / name).write_bytes(b"")
    return folder


def test_the_hub_variable_finds_the_data_from_any_working_folder(tmp_path, monkeypatch):
    shared = _data_folder(tmp_path / "srv" / "data")
    monkeypatch.setenv("SIGNS_DATA_DIR", str(shared))
    monkeypatch.chdir(_data_folder(tmp_path / "home" / "student" / "work"))
    assert resnets_utils.find_datasets_dir() == shared
    monkeypatch.delenv("SIGNS_DATA_DIR")
    course = tmp_path / "course"
    _data_folder(course / "datasets")
    (course / "release" / "resnets").mkdir(parents=True)
    monkeypatch.chdir(course / "release" / "resnets")
    assert resnets_utils.find_datasets_dir() == course / "datasets"


def test_missing_data_is_one_message_listing_every_file_and_every_folder_looked_in(
        tmp_path, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    _data_folder(tmp_path / "datasets", without=["example_hand.jpg"])
    (tmp_path / "work").mkdir()
    with pytest.raises(FileNotFoundError) as error:
        resnets_utils.find_datasets_dir(tmp_path / "work")
    message = str(error.value)
    assert "\n" not in message
    for name in resnets_utils.DATA_FILES:
        assert name in message
    assert f"{tmp_path / 'work' / 'datasets'} (no such folder)" in message
    assert f"{tmp_path / 'datasets'} (missing: example_hand.jpg)" in message
    assert "Fix: on JupyterHub, ask your instructor to set SIGNS_DATA_DIR" in message
    monkeypatch.setenv("SIGNS_DATA_DIR", str(tmp_path / "datasets"))
    with pytest.raises(FileNotFoundError, match=r"Looked in \$SIGNS_DATA_DIR: .* \(missing: "
                                                r"example_hand.jpg\)\. Fix"):
        resnets_utils.find_datasets_dir()


def test_file_that_is_not_hdf5_is_reported(tmp_path):
    path = tmp_path / "train_signs.h5"
    path.write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match=r"not a SIGNS file: expected an HDF5 file with datasets "
                                         r"'train_set_x' and 'train_set_y'"):
        read_signs_file(path)


def test_wrong_image_shape_is_reported(tmp_path):
    path = tmp_path / "test_signs.h5"
    with h5py.File(path, "w") as f:
        f["test_set_x"] = np.zeros((3, 32, 32, 3), np.uint8)
        f["test_set_y"] = np.zeros(3, np.int64)
    with pytest.raises(ValueError, match=r"expected 'test_set_x' of shape \(m, 64, 64, 3\)"):
        read_signs_file(path)


def test_setup_refuses_a_bad_source_without_touching_the_destination(tmp_path, capsys):
    source = tmp_path / "source"
    source.mkdir()
    (source / "train_signs.h5").write_bytes(b"broken")
    dest = tmp_path / "datasets"
    with pytest.raises(ValueError, match="train_signs.h5 is not a SIGNS file"):
        data.install(source, dest=dest)
    (source / "train_signs.h5").unlink()
    with pytest.raises(FileNotFoundError, match="train_signs.h5 not found"):
        data.install(source, dest=dest)
    assert not dest.exists()
    assert data.main(["--source", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    signs = os.environ.get("SIGNS_SOURCE", data.DEFAULT_SOURCE)
    with pytest.raises(FileNotFoundError, match="digits source folder .*nowhere does not exist"):
        data.install(signs, dest=dest, digits_source=tmp_path / "nowhere")
    assert not dest.exists()


def test_setup_links_checked_files(tmp_path, datasets_dir):
    dest = tmp_path / "datasets"
    data.install(os.environ.get("SIGNS_SOURCE", data.DEFAULT_SOURCE), dest=dest)
    X_train, *_ = load_signs_dataset(dest)
    assert X_train.shape == (1080, 64, 64, 3)
    assert (dest / data.EXAMPLE).stat().st_size > 0
    assert load_digits_dataset(dest)[0].shape == (660, 64, 64, 3)


def test_the_pretrained_model_is_linked_only_when_it_is_the_recorded_build(tmp_path):
    source, dest = tmp_path / "pretrained", tmp_path / "datasets"
    assert data.install_pretrained(source, dest=dest) == (
        f"no pretrained model in {source}: `make test` builds one (make pretrained)")
    source.mkdir()
    (source / "resnet50.h5").write_bytes(b"a model")
    (source / "resnet50.json").write_text('{"test_accuracy": 0.975}')
    line = data.install_pretrained(source, dest=dest, expected="0" * 64)
    assert line.startswith(f"not linked: {source / 'resnet50.h5'} has sha256 97ff8a35544dcf40…")
    assert "course/authoring/data.py PRETRAINED_SHA256" in line and not dest.exists()
    dest.mkdir()
    (dest / "resnet50.h5").symlink_to(source / "resnet50.h5")  # linked when it was recorded
    data.install_pretrained(source, dest=dest, expected="0" * 64)
    assert not (dest / "resnet50.h5").is_symlink()  # a link to an unrecorded build is removed
    dest.rmdir()
    recorded = "97ff8a35544dcf40ad84047074439dd6aa3a0be469ea578a1b1c017d939ec61c"  # sha256sum
    assert data.sha256(source / "resnet50.h5") == recorded
    assert data.install_pretrained(source, dest=dest, expected=recorded).startswith("linked ")
    assert (dest / "resnet50.h5").resolve() == source / "resnet50.h5"
    assert (dest / "resnet50.json").read_text() == '{"test_accuracy": 0.975}'
    (dest / "resnet50.h5").unlink()
    (dest / "resnet50.h5").write_bytes(b"built here")
    assert data.install_pretrained(source, dest=dest, expected=recorded).startswith("kept ")
    assert (dest / "resnet50.h5").read_bytes() == b"built here"


def test_the_recorded_pretrained_build_is_the_shared_one():
    shared = data.DEFAULT_PRETRAINED_SOURCE / "resnet50.h5"
    if not shared.exists():
        pytest.skip(f"{shared} is not here: `make test` builds the model instead")
    assert data.sha256(shared) == data.PRETRAINED_SHA256
