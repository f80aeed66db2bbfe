"""Put the SIGNS dataset into datasets/ (git-ignored), checked.

    python -m course.data [--source DIR] [--copy]

The source folder defaults to $SIGNS_SOURCE, else ../shared/datasets/signs beside the project.
Files are linked (or copied with --copy) only after they pass the same checks the notebook makes.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "source" / "resnets"))

from resnets_utils import SIGNS_FILES, read_signs_file  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "signs"
DATASETS = ROOT / "datasets"
EXAMPLE = "example_hand.jpg"  # one test photo, for the notebook's "try your own image" cell


def install(source, copy=False, dest=DATASETS):
    """Check and link (or copy) the SIGNS files from `source` into `dest`; returns what it did."""
    source = Path(source).resolve()
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
    dest.mkdir(exist_ok=True)
    done = []
    for name, origin in [(n, source / n) for n in SIGNS_FILES] + [(EXAMPLE, photos[0])]:
        target = dest / name
        if target.is_symlink() or target.exists():
            target.unlink()
        if copy:
            shutil.copyfile(origin, target)
        else:
            target.symlink_to(origin)
        done.append(f"{'copied' if copy else 'linked'} {target} <- {origin}")
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get("SIGNS_SOURCE", DEFAULT_SOURCE))
    parser.add_argument("--copy", action="store_true", help="copy instead of linking")
    args = parser.parse_args(argv)
    try:
        for line in install(args.source, args.copy):
            print(line)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
