"""Grade the sample submissions in a demo copy of the course, never in the real class.

    python -m course.demo [--jobs N] [STUDENT ...]      # make demo

Copies the course to build/demo/ (its code, source/, hidden/ and nbgrader_config.py, the
datasets linked), generates the assignments there, writes every assignment's sample submissions
(course/audit/submissions.py) into its submitted/, each with a training run of its own printed,
and a copier's (a sample's notebook with names changed, lines reordered and comments added, its
run as it was: course/audit/classes.py), grades them there
with course.grade, then makes each assignment's reports (`python -m course.term report`: what the
class got wrong, whose work may not be their own). The real class (gradebook.db, submitted/,
autograded/, feedback/, reports/) is never touched; the audit and the tests make their copies
the same way (`copy_course`).
"""
import argparse
import random
import subprocess
import sys

import nbformat

from course import ROOT
from course.audit import catalog, classes, expected_scores, submissions
from course.core import SUFFIX, Course, Results, SubmissionResult, assignments, copy_course

DEMO = ROOT / "build" / "demo"
COPIER = "copier-of-{}"  # the demo's copier of an assignment's first sample mistake


def with_copier(assignment, students):
    """`students` ({student: notebook}), each with a training run of its own printed as a
    student's would be (grading runs none of it), and a copier of the first sample mistake's
    notebook, its run as it was; and the scores every one of them must get."""
    rng = random.Random(0)
    students = {student: classes.with_run(notebook, rng) for student, notebook in students.items()}
    original = catalog.of(assignment).samples[0].student
    copier = COPIER.format(original)
    expected = expected_scores(assignment)
    return ({**students, copier: classes.copied(assignment, students[original], rng,
                                                rerun=False)},
            {**expected, copier: expected[original]})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, help="submissions graded at once (default: one per "
                        "CPU core)")
    parser.add_argument("students", nargs="*", help="default: every sample submission")
    args = parser.parse_args(argv)
    found = assignments(ROOT)
    samples, expected = {}, {}
    for name, assignment in found.items():
        samples[name], expected[name] = with_copier(assignment, submissions(assignment))
    names = {student for students in samples.values() for student in students}
    unknown = sorted(set(args.students) - names)
    if unknown:
        print(f"error: no sample submission {', '.join(unknown)}. Fix: choose among "
              f"{', '.join(sorted(names))}.", file=sys.stderr)
        return 2
    print(f"copying the course to {DEMO.relative_to(ROOT)}/ (the real class is not touched)",
          flush=True)
    demo = Course(copy_course(DEMO))
    for name, students in samples.items():
        for student, notebook in students.items():
            if student in args.students or not args.students:
                path = demo.path("submitted", student, name) / found[name].notebook
                path.parent.mkdir(parents=True)
                nbformat.write(notebook, path)
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    code = subprocess.run([sys.executable, "-m", "course.grade", *jobs], cwd=DEMO).returncode
    for name in found:  # what the class got wrong, whose work may not be their own
        if args.students and not set(args.students) & set(samples[name]):
            continue
        print(f"\n{name}: the instructor's reports", flush=True)
        code = code or subprocess.run([sys.executable, "-m", "course.term", "report", name],
                                      cwd=DEMO).returncode
    print(f"\nthe demo class is in {DEMO.relative_to(ROOT)}/: feedback/STUDENT/ASSIGNMENT/, "
          "reports/ (grades.csv; ASSIGNMENT/grading_report.txt, grading_results.json, "
          "misconceptions.csv and a chart per function, similarity.html)")
    wrong = [line for name, students in samples.items()
             for line in unexpected(DEMO, found[name], students, args.students, expected[name])]
    for line in wrong:
        print(f"error: {line}", file=sys.stderr)
    graded = sum(not args.students or s in args.students for v in samples.values() for s in v)
    if code == 0 and not wrong:
        print(f"every sample scored what its catalog says ({graded} submissions)")
    return code or (1 if wrong else 0)


def unexpected(course, assignment, students, chosen=(), expected=None):
    """A line for each sample submission of `assignment` graded in `course` that did not score
    what its catalog says (`expected`, default course.audit.submissions.expected_scores): name,
    expected, actual."""
    path = course / "reports" / assignment.name / "grading_results.json"
    records = Results.read(path).submissions if path.exists() else {}
    lines = []
    for student, wanted in (expected or expected_scores(assignment)).items():
        if student not in students or (chosen and student not in chosen):
            continue
        record = records.get(student) or SubmissionResult(student, assignment.name)
        got = {cell: record.scores.get(cell.removesuffix(SUFFIX), [None])[0]
               for cell in wanted}
        if not record.graded or got != wanted:
            actual = (f"{record.status}: {record.problem}" if not record.graded else
                      f"{sum(v or 0 for v in got.values()):g}")
            cells = [cell.removesuffix(SUFFIX) for cell in wanted if got[cell] != wanted[cell]]
            lines.append(f"sample {student} ({assignment.name}) expected "
                         f"{sum(wanted.values()):g} of {assignment.total:g}, got {actual}"
                         f" (cells: {', '.join(cells)})")
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
