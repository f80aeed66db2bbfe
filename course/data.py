"""Put the SIGNS dataset and the sign-language digits 6-9 into datasets/ (git-ignored), checked.

    python -m course.data [--source DIR] [--digits-source DIR] [--copy]

The SIGNS folder defaults to $SIGNS_SOURCE, else ../shared/datasets/signs beside the project; the
digits folder (6/ 7/ 8/ 9/ of JPEGs, for the transfer-learning exercise) to $DIGITS_SOURCE, else
../shared/datasets/sign-language-digits-6to9. Everything is linked (or copied with --copy) only
after all of it passes the same checks the notebook makes.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "source" / "resnets"))

from resnets_utils import (DIGITS_FOLDER, SIGNS_FILES, read_digits_folder,  # noqa: E402
                           read_signs_file)

DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "signs"
DEFAULT_DIGITS_SOURCE = ROOT.parent / "shared" / "datasets" / DIGITS_FOLDER
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get("SIGNS_SOURCE", DEFAULT_SOURCE))
    parser.add_argument("--digits-source",
                        default=os.environ.get("DIGITS_SOURCE", DEFAULT_DIGITS_SOURCE))
    parser.add_argument("--copy", action="store_true", help="copy instead of linking")
    args = parser.parse_args(argv)
    try:
        for line in install(args.source, args.copy, digits_source=args.digits_source):
            print(line)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
