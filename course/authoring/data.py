"""Put the SIGNS dataset, the sign-language digits 6-9 and the pretrained resnet50.h5 into
datasets/ (git-ignored), checked.

    python -m course.authoring.data [--source DIR] [--digits-source DIR] [--pretrained-source DIR]
    [--copy]

The SIGNS folder defaults to $SIGNS_SOURCE, else ../shared/datasets/signs beside the project; the
digits folder (6/ 7/ 8/ 9/ of JPEGs, for the transfer-learning exercise) to $DIGITS_SOURCE, else
../shared/datasets/sign-language-digits-6to9. Everything is linked (or copied with --copy) only
after all of it passes the same checks the notebook makes.

The pretrained model is course data, as the original course's resnet50.h5 is: the folder
$PRETRAINED_SOURCE, else ../shared/datasets/pretrained, may hold the build this project
records (`resnet50.h5` whose SHA-256 is PRETRAINED_SHA256, with its `resnet50.json`); it is
linked beside the data then. Any other file there is not used (one line says why), nor is a
missing one an error: `make test` then builds the model (`make pretrained`,
course/authoring/pretrained.py).
"""
import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path

from course import ROOT
from course.core import assignment_module

_utils = assignment_module(ROOT / "source" / "resnets", "resnets_utils")
DIGITS_FOLDER, SIGNS_FILES = _utils.DIGITS_FOLDER, _utils.SIGNS_FILES
read_digits_folder, read_signs_file = _utils.read_digits_folder, _utils.read_signs_file

DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "signs"
DEFAULT_DIGITS_SOURCE = ROOT.parent / "shared" / "datasets" / DIGITS_FOLDER
DEFAULT_PRETRAINED_SOURCE = ROOT.parent / "shared" / "datasets" / "pretrained"
PRETRAINED = "resnet50.h5"
# The build of resnet50.h5 this project uses as data: `make pretrained` at commit bbc5ce3, test
# accuracy 0.975 (its resnet50.json; docs/results.md, "The pretrained model as course data")
PRETRAINED_SHA256 = "01dd648232427e588198c64f2fd58ff580152d6d0797720b68723eb7606da58e"
DATASETS = ROOT / "datasets"
EXAMPLE = "example_hand.jpg"  # one test photo, for the notebook's "try your own image" cell


def install(source, copy=False, dest=DATASETS, digits_source=DEFAULT_DIGITS_SOURCE):
    """Check, then link (or copy) the SIGNS files from `source` and the digits folder from
    `digits_source` into `dest`; returns what it did. Nothing is written unless all checks pass."""
    source, digits_source = Path(source).resolve(), Path(digits_source).resolve()
    if not source.is_dir():
        raise FileNotFoundError(f"SIGNS source folder {source} does not exist. Fix: pass --source "
                                "DIR or set SIGNS_SOURCE to the folder with train_signs.h5.")
    for name in SIGNS_FILES:
        if not (source / name).exists():
            raise FileNotFoundError(f"{source / name} not found: the SIGNS source folder must hold "
                                    "train_signs.h5 and test_signs.h5. Fix: pass --source DIR or "
                                    "set SIGNS_SOURCE.")
        read_signs_file(source / name)  # raises one clear error for a malformed file
    photos = sorted((source / "64x64_SIGNS" / "test_signs").glob("*.jpg"))
    if not photos:
        raise FileNotFoundError(f"{source / '64x64_SIGNS' / 'test_signs'} has no JPEG photos. "
                                "Fix: point --source at the full SIGNS folder.")
    if not digits_source.is_dir():
        raise FileNotFoundError(f"digits source folder {digits_source} does not exist. Fix: pass "
                                "--digits-source DIR or set DIGITS_SOURCE to the folder with "
                                "6/ 7/ 8/ 9/.")
    read_digits_folder(digits_source)  # raises one clear error for a missing class or bad JPEG
    dest.mkdir(exist_ok=True)
    done = []
    for name, origin in ([(n, source / n) for n in SIGNS_FILES] + [(EXAMPLE, photos[0])]
                         + [(DIGITS_FOLDER, digits_source)]):
        target = dest / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        if copy and origin.is_dir():
            shutil.copytree(origin, target)
        elif copy:
            shutil.copyfile(origin, target)
        else:
            target.symlink_to(origin)
        done.append(f"{'copied' if copy else 'linked'} {target} <- {origin}")
    return done


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_pretrained(source, copy=False, dest=DATASETS, expected=PRETRAINED_SHA256):
    """Link (or copy) `source`/resnet50.h5 and its .json into `dest` when the file is the build
    this project records (`expected` SHA-256); returns one line saying what it did. A model
    built here (a file, not a link) is kept; a missing or different one is left for
    `make pretrained` to build."""
    source, dest = Path(source), Path(dest)
    model, target = source / PRETRAINED, dest / PRETRAINED
    if target.is_file() and not target.is_symlink():
        return f"kept {target} (built here: `make pretrained` rebuilds it)"
    for name in (PRETRAINED, Path(PRETRAINED).with_suffix(".json").name):
        if (dest / name).is_symlink():  # an earlier link: made again below only if it checks
            (dest / name).unlink()
    if not model.is_file():
        return f"no pretrained model in {source}: `make test` builds one (make pretrained)"
    found = sha256(model)
    if found != expected:
        return (f"not linked: {model} has sha256 {found[:16]}…, this project records "
                f"{expected[:16]}… (course/authoring/data.py PRETRAINED_SHA256): `make test` "
                "builds one "
                "(make pretrained); or record the new build's sha256 there")
    dest.mkdir(exist_ok=True)
    for name in (PRETRAINED, Path(PRETRAINED).with_suffix(".json").name):
        origin, target = source / name, dest / name
        if not origin.is_file():
            continue
        if target.exists():
            target.unlink()
        if copy:
            shutil.copyfile(origin, target)
        else:
            target.symlink_to(origin.resolve())
    return f"{'copied' if copy else 'linked'} {dest / PRETRAINED} <- {model} (sha256 checked)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get("SIGNS_SOURCE", DEFAULT_SOURCE))
    parser.add_argument("--digits-source",
                        default=os.environ.get("DIGITS_SOURCE", DEFAULT_DIGITS_SOURCE))
    parser.add_argument("--pretrained-source",
                        default=os.environ.get("PRETRAINED_SOURCE", DEFAULT_PRETRAINED_SOURCE))
    parser.add_argument("--copy", action="store_true", help="copy instead of linking")
    args = parser.parse_args(argv)
    try:
        for line in install(args.source, args.copy, digits_source=args.digits_source):
            print(line)
        print(install_pretrained(args.pretrained_source, args.copy))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
