"""Regenerate the hidden reference tensors from the instructor solution.

    python -m course.references        # writes hidden/resnets/references.npz

Run it after changing a solution cell, a hidden check's cases or its weight scheme.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hidden", "resnets"))

import numpy as np  # noqa: E402

import hidden_checks  # noqa: E402


def main():
    references = hidden_checks.compute_references()
    temporary = hidden_checks.REFERENCES.with_suffix(".tmp.npz")
    np.savez_compressed(temporary, **references)
    temporary.replace(hidden_checks.REFERENCES)  # never leave a half-written reference file
    for key, value in references.items():
        value = np.asarray(value)
        print(f"{key:45s} shape {str(value.shape):16s} mean |x| {np.mean(np.abs(value)):.3g}  "
              f"std {np.std(value):.3g}")
    print(f"wrote {hidden_checks.REFERENCES} ({hidden_checks.REFERENCES.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
