"""Regenerate the hidden tests' reference tensors from the instructor solutions.

    python -m course.authoring.references [--root COURSE] [ASSIGNMENT ...]

For every assignment with hidden tests (hidden/ASSIGNMENT/hidden_checks.py), runs the answer
cells of source/ASSIGNMENT/'s notebook and writes the outputs of its hidden checks to
hidden/ASSIGNMENT/references.npz, computed as the grading kernel computes them
(course/hidden/untrusted.py). Run it after changing a solution cell, a hidden check's cases or its
weight scheme.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from course import ROOT
from course.core import AssignmentError, find, run_answers, solution_sources, use_folder
from course.hidden import ROLES_SOURCE, untrusted


def compute(root, assignment):
    """{key: array} of the hidden checks of `assignment` on its instructor solution."""
    notebook = find(assignment, root).source()  # one notebook per folder, or one error line
    use_folder(notebook.parent)  # its checks may import the assignment's modules
    checks = untrusted.load_checks((Path(root) / "hidden" / assignment / "hidden_checks.py")
                                   .read_text(), ROLES_SOURCE)
    namespace = run_answers(solution_sources(notebook), notebook)
    return {key: value for name in checks.OUTPUTS
            for key, value in untrusted.outputs(checks, name, namespace[name]).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder")
    parser.add_argument("assignments", nargs="*",
                        help="default: every folder of hidden/ with a hidden_checks.py")
    args = parser.parse_args(argv)
    assignments = args.assignments or sorted(
        path.parent.name for path in (args.root / "hidden").glob("*/hidden_checks.py"))
    for assignment in assignments:
        try:
            references = compute(args.root, assignment)
        except AssignmentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        target = args.root / "hidden" / assignment / "references.npz"
        temporary = target.with_suffix(".tmp.npz")
        np.savez_compressed(temporary, **references)
        temporary.replace(target)  # never leave a half-written reference file
        for key, value in references.items():
            summary = (f"text {', '.join(map(str, np.ravel(value)[:3]))[:60]}"
                       if value.dtype.kind == "U" else
                       f"mean |x| {np.mean(np.abs(value)):.3g}  std {np.std(value):.3g}")
            print(f"{key:55s} shape {str(value.shape):16s} {summary}")
        print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
