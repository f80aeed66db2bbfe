"""Grade the sample submissions in a demo copy of the course, never in the real class.

    python -m course.demo [--jobs N] [STUDENT ...]      # make demo

Copies the course to build/demo/ (its code, source/, hidden/ and nbgrader_config.py, the
datasets linked), generates the assignments there, writes every assignment's sample submissions
(course/submissions.py) into its submitted/ and grades them there with course.grade. The real
class (gradebook.db, submitted/, autograded/, feedback/, reports/) is never touched; the audit
and the tests make their copies the same way (`copy_course`).
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from course.assignments import assignments
from course.grade import nbgrader_environment
from course.submissions import submissions

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "build" / "demo"


def copy_course(folder, environment=None):
    """A fresh copy of the course in `folder`, its assignments generated (into the gradebook
    that `environment`'s COURSE_DB_URL names, if it does), nothing submitted."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("course", "source", "hidden"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    (folder / "datasets").symlink_to((ROOT / "datasets").resolve())
    for assignment in assignments(ROOT):
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                        "--log-level=ERROR"], cwd=folder, check=True,
                       env={**nbgrader_environment(), **(environment or {})})
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, help="submissions graded at once (default: one per "
                        "CPU core)")
    parser.add_argument("students", nargs="*", help="default: every sample submission")
    args = parser.parse_args(argv)
    found = assignments(ROOT)
    samples = {name: submissions(assignment) for name, assignment in found.items()}
    names = {student for students in samples.values() for student in students}
    unknown = sorted(set(args.students) - names)
    if unknown:
        print(f"error: no sample submission {', '.join(unknown)}. Fix: choose among "
              f"{', '.join(sorted(names))}.", file=sys.stderr)
        return 2
    print(f"copying the course to {DEMO.relative_to(ROOT)}/ (the real class is not touched)",
          flush=True)
    copy_course(DEMO)
    for name, students in samples.items():
        for student, notebook in students.items():
            if student in args.students or not args.students:
                path = DEMO / "submitted" / student / name / found[name].notebook
                path.parent.mkdir(parents=True)
                nbformat.write(notebook, path)
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    code = subprocess.run([sys.executable, "-m", "course.grade", *jobs], cwd=DEMO).returncode
    print(f"\nthe demo class is in {DEMO.relative_to(ROOT)}/: feedback/STUDENT/ASSIGNMENT/, "
          "reports/ (grades.csv; ASSIGNMENT/grading_report.txt, grading_results.json)")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
