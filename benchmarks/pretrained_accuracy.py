"""The pretrained model's accuracy check: a build of `make pretrained` scores at least 0.97 on the
SIGNS test set.

    python benchmarks/pretrained_accuracy.py [FILE]          # default: datasets/resnet50.h5
    python benchmarks/pretrained_accuracy.py --build [--out reports/pretrained-check.h5]

With --build, first builds a model with every default of `python -m course.authoring.pretrained`
(the recipe of `make pretrained`: 12-14 minutes on a 2-core AVX-512 CPU, about 46 on a 2-core AVX2
one) into --out. Then, for the file: its SHA-256 against its .json (the builder's record), and
its accuracy on the 120 photos of test_signs.h5, computed here from the file itself (not read
from the record). Prints one line and exits 1 when the accuracy is under --minimum (0.97) or the
record does not match the file.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "source" / "resnets")]

from course.authoring import data  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ROOT / "datasets" / "resnet50.h5"))
    parser.add_argument("--build", action="store_true", help="build a model first (--out)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "pretrained-check.h5"))
    parser.add_argument("--minimum", type=float, default=0.97)
    args = parser.parse_args(argv)
    path = Path(args.out if args.build else args.file)
    if args.build:
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "course.authoring.pretrained", "--out", str(path)],
                       cwd=ROOT, check=True)
        print(f"built {path} in {time.perf_counter() - started:.0f} s")
    if not path.is_file():
        print(f"error: {path} not found: expected a resnet50.h5 built by `make pretrained`. "
              "Fix: pass its path, or --build", file=sys.stderr)
        return 2
    import keras
    import numpy as np
    from resnets_utils import load_signs_dataset

    record_path = path.with_suffix(".json")
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    digest = data.sha256(path)
    _, _, X_test, Y_test, _ = load_signs_dataset(ROOT / "datasets")
    model = keras.models.load_model(path, compile=False)
    predicted = model.predict(X_test.astype("float32") / 255, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == Y_test))
    matches = record.get("sha256") == digest
    ok = accuracy >= args.minimum and matches
    print(f"{'ok' if ok else 'FAILED'}: {path}: test accuracy {accuracy:.3f} "
          f"({int(np.sum(predicted == Y_test))} of {len(Y_test)}; at least {args.minimum} wanted), "
          f"sha256 {digest[:16]}… {'matches' if matches else 'does not match'} its record "
          f"(recorded test accuracy {record.get('test_accuracy')}, "
          f"{record.get('train_seconds')} s of training); "
          f"{'the recorded course build' if digest == data.PRETRAINED_SHA256 else 'another build'}"
          f"; TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
