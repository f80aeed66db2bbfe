"""Autograde the submissions in submitted/, write feedback and grades, print the grade table.

    python -m course.grade [STUDENT ...]

Runs nbgrader from the course folder, one submission at a time so each gets its own timing:
`nbgrader autograde`, then `nbgrader generate_feedback` (feedback/) and `nbgrader export`
(reports/grades.csv). Also writes reports/grades_by_cell.csv: one row per submission and graded
cell, which is what the instructor needs to see which block a student got wrong.
"""
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course.submissions import POINTS

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "resnets"
NOTEBOOK = "Residual_Networks"
REPORTS = ROOT / "reports"


def nbgrader(*args):
    """Run one nbgrader command in the course folder; its log goes to reports/nbgrader.log."""
    REPORTS.mkdir(exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",  # nbgrader runs alembic from PATH
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with open(REPORTS / "nbgrader.log", "a") as log:
        log.write(f"$ nbgrader {' '.join(args)}\n")
        log.flush()
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT).returncode


def cell_scores(students):
    """{student: {grade cell: (score, max score)}} from the gradebook."""
    scores = {}
    with Gradebook(f"sqlite:///{ROOT / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            except MissingEntry:  # not graded: nbgrader could not run it
                scores[student] = {}
                continue
            scores[student] = {grade.name: (grade.score, grade.max_score)
                               for grade in notebook.grades}
    return scores


def assignment_in_gradebook():
    if not (ROOT / "gradebook.db").exists():
        return False
    with Gradebook(f"sqlite:///{ROOT / 'gradebook.db'}") as gradebook:
        return any(a.name == ASSIGNMENT for a in gradebook.assignments)


def autograde(students):
    """Autograde each student; returns ({student: seconds}, {student: nbgrader exit code})."""
    seconds, codes = {}, {}
    for number, student in enumerate(students, start=1):
        start = time.perf_counter()
        code = nbgrader("autograde", ASSIGNMENT, "--student", student, "--force")
        seconds[student], codes[student] = time.perf_counter() - start, code
        status = "ok" if code == 0 else f"nbgrader exit code {code}, see reports/nbgrader.log"
        print(f"[{number}/{len(students)}] autograded {student:34s} {seconds[student]:5.1f} s  "
              f"{status}", flush=True)
    return seconds, codes


def write_table(scores, seconds):
    cells = list(POINTS)  # notebook order
    with open(REPORTS / "grades_by_cell.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *cells, "total", "max", "seconds"])
        for student, per_cell in scores.items():
            total = sum(score for score, _ in per_cell.values())
            maximum = sum(top for _, top in per_cell.values())
            writer.writerow([student, *(per_cell.get(c, ("", ""))[0] for c in cells), total,
                             maximum, f"{seconds.get(student, 0):.1f}"])
    short = [c.replace("_tests", "") for c in cells]
    width = max(len(name) for name in short) + 2
    print("\n" + f"{'student':34s}" + "".join(f"{c:>{width}s}" for c in short) + f"{'total':>8s}")
    for student, per_cell in scores.items():
        row = "".join(f"{f'{per_cell[c][0]:g} / {per_cell[c][1]:g}':>{width}s}" if c in per_cell
                      else f"{'not graded':>{width}s}" for c in cells)
        total = sum(score for score, _ in per_cell.values())
        print(f"{student:34s}{row}{total:>8g}")


def main(argv=None):
    students = argv or sorted(p.name for p in (ROOT / "submitted").iterdir() if p.is_dir())
    if not students:
        print("error: submitted/ has no submissions. Fix: run `make submissions`.", file=sys.stderr)
        return 2
    if not assignment_in_gradebook():
        print(f"error: gradebook.db has no assignment '{ASSIGNMENT}'. Fix: run `make release` "
              "(nbgrader generate_assignment records it) first.", file=sys.stderr)
        return 2
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "nbgrader.log").write_text("")
    started = time.perf_counter()
    seconds, codes = autograde(students)
    elapsed = time.perf_counter() - started
    print(f"autograded {len(students)} submissions in {elapsed:.0f} s "
          f"({elapsed / len(students):.1f} s per submission)")
    for step in (["generate_feedback", ASSIGNMENT, "--force"],
                 ["export", "--to", str(REPORTS / "grades.csv")]):
        if nbgrader(*step) != 0:
            print(f"error: nbgrader {step[0]} failed; see reports/nbgrader.log", file=sys.stderr)
            return 1
    write_table(cell_scores(students), seconds)
    print("\nfeedback in feedback/<student>/resnets/, grades in reports/grades.csv and "
          "reports/grades_by_cell.csv")
    failed = [student for student, code in codes.items() if code != 0]
    if failed:
        print(f"error: nbgrader could not autograde {', '.join(failed)}; see "
              "reports/nbgrader.log", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
