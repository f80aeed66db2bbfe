"""Audit the autograder: every cataloged mistake loses its cell's points with feedback that names
the cell, every correct variant keeps them, every hostile submission is contained.

    python -m course.audit [--jobs N]     # through nbgrader, in build/grade-audit/ (make grade-audit)
    python -m course.audit --in-process   # the catalog only, each cell's checks called here

Through nbgrader, the course is copied to build/grade-audit/, the assignment generated there, and
these submissions are made from its release notebook and graded with `python -m course.grade`:
the bundled ones (course/submissions.py), the catalog's mistakes packed one per graded function
per submission (the functions are graded independently: the bundled single-mistake submissions
show that a mistake costs only its own cell), the correct variants in one submission, and the
attacks of course/adversarial.py. Writes reports/grade_audit.csv and prints the kill rate.
"""
import argparse
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stdout

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nbformat  # noqa: E402

from course.adversarial import ATTACKS, build_all  # noqa: E402
from course.catalog import MUTANTS, VARIANTS  # noqa: E402
from course.notebook import ASSIGNMENT, NOTEBOOK, ROOT, run_answers, solution_sources  # noqa: E402
from course.grade import HIDDEN_COMMENT, nbgrader_environment  # noqa: E402
from course.submissions import (CELLS, MISTAKES, POINTS, apply, submissions,  # noqa: E402
                                with_answers)

AUDIT = ROOT / "build" / "grade-audit"


def grade_cell(cell, function):
    """(passed, message) of the grade cell for answer cell `cell`, run on `function`, with its
    hidden test, all in this process."""
    for folder in (ROOT / "source" / "resnets", ROOT / "hidden" / "resnets"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import hidden_checks
    import public_tests

    try:
        with redirect_stdout(io.StringIO()):
            getattr(public_tests, f"{cell}_test")(function)
            hidden_checks.check(cell, function)
    except Exception as error:  # a grade cell fails on any exception, so the audit does too
        return False, f"{type(error).__name__}: {error}".splitlines()[0]
    return True, ""


def audit(entries):
    """In this process: one row per catalog entry: student, cell, why, passed, message, seconds."""
    answers = solution_sources()
    rows = []
    for entry in entries:
        start = time.perf_counter()
        namespace = run_answers(apply(entry, answers))
        passed, message = grade_cell(entry.cell, namespace[entry.cell])
        rows.append({"student": entry.student, "cell": entry.cell, "why": entry.why,
                     "passed": passed, "message": message,
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def packs():
    """The catalog's mistakes (the bundled ones excepted) as lists with at most one per cell."""
    bundled = {mistake.student for mistake in MISTAKES}
    by_cell = {cell: [m for m in MUTANTS if m.cell == cell and m.student not in bundled]
               for cell in CELLS}
    return [[mistakes[i] for mistakes in by_cell.values() if i < len(mistakes)]
            for i in range(max(len(mistakes) for mistakes in by_cell.values()))]


def notebook_bytes(answers, entries):
    """The release notebook with every entry (one per cell) made in `answers`, as a file."""
    for entry in entries:
        answers = apply(entry, answers)
    return NOTEBOOK, nbformat.writes(with_answers(answers)).encode()


def audit_submissions():
    """{student: (file name, bytes)} and {student: expectation} of the whole audit."""
    answers = solution_sources()
    files, expected = {}, {}
    for student, notebook in submissions().items():
        files[student] = (NOTEBOOK, nbformat.writes(notebook).encode())
        wrong = next((m for m in MISTAKES if m.student == student), None)
        zero = CELLS if student == "untouched-release" else [wrong.cell] if wrong else []
        expected[student] = {"zero": zero, "mistakes": [wrong] if wrong else [], "variants": []}
    for number, pack in enumerate(packs(), start=1):
        student = f"catalog-mistakes-{number:02d}"
        files[student] = notebook_bytes(answers, pack)
        expected[student] = {"zero": [m.cell for m in pack], "mistakes": pack, "variants": []}
    files["catalog-variants"] = notebook_bytes(answers, VARIANTS)
    expected["catalog-variants"] = {"zero": [], "mistakes": [], "variants": VARIANTS}
    files.update(build_all())
    for attack in ATTACKS:
        expected[attack.student] = {"zero": attack.zero, "mistakes": [], "variants": [],
                                    "attack": attack}
    return files, expected


def prepare(files):
    """A fresh copy of the course in AUDIT with the assignment generated and `files` submitted."""
    shutil.rmtree(AUDIT, ignore_errors=True)
    AUDIT.mkdir(parents=True)
    for name in ("course", "source", "hidden"):
        shutil.copytree(ROOT / name, AUDIT / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", AUDIT)
    (AUDIT / "datasets").symlink_to((ROOT / "datasets").resolve())
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                    "--log-level=ERROR"], cwd=AUDIT, check=True, env=nbgrader_environment())
    for student, (name, data) in files.items():
        folder = AUDIT / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)


def named_failures(student, report):
    """{graded function: message} of the failures the student's feedback shows: its grade cell's
    error, or the hidden test's comment under its answer (found in `report`, the text of
    reports/grading_report.txt)."""
    path = AUDIT / "autograded" / student / ASSIGNMENT / NOTEBOOK
    named = {}
    if not path.exists():
        return named
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        function = grade_id.removesuffix("_tests")
        for output in cell.get("outputs", []):
            if (output.output_type == "error" and grade_id.endswith("_tests")
                    and output.evalue.startswith(f"{function}: ")):
                named[function] = output.evalue.splitlines()[0]
    feedback = AUDIT / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    html = feedback.read_text() if feedback.exists() else ""
    for line in report.splitlines():
        for function in CELLS:
            prefix = f"{student}: {function}: hidden tests failed: "
            if line.startswith(prefix) and HIDDEN_COMMENT in html:
                named.setdefault(function, line[len(prefix):])
    return named


def check(expected, output):
    """Rows of reports/grade_audit.csv: one per mistake, variant, attack and bundled submission."""
    with open(AUDIT / "reports" / "grades_by_cell.csv") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    report = (AUDIT / "reports" / "grading_report.txt").read_text()
    rows = []
    for student, want in expected.items():
        row = grades.get(student, {})
        graded = row.get("status") == "graded"
        scores = {c: float(row[c]) if graded and row.get(c) not in (None, "") else None
                  for c in CELLS}
        zero = want["zero"]
        if zero is None:
            right = not graded
        else:
            right = graded and all(scores[c] == (0 if c in zero else POINTS[f"{c}_tests"])
                                   for c in CELLS)
        named = named_failures(student, report)
        for mistake in want["mistakes"]:
            rows.append({"kind": "mistake", "name": mistake.student, "student": student,
                         "cell": mistake.cell, "ok": right and mistake.cell in named,
                         "detail": named.get(mistake.cell, "no failure named in the feedback")})
        for variant in want["variants"]:
            rows.append({"kind": "variant", "name": variant.student, "student": student,
                         "cell": variant.cell, "ok": right and scores[variant.cell] == 3,
                         "detail": "" if scores[variant.cell] == 3 else named.get(variant.cell, "")})
        if "attack" in want:
            attack = want["attack"]
            rows.append({"kind": "attack", "name": student, "student": student,
                         "cell": " ".join(zero) if zero else "not graded",
                         "ok": right and attack.report in report, "detail": attack.why})
        elif not want["mistakes"] and not want["variants"]:
            rows.append({"kind": "bundled", "name": student, "student": student, "cell": "",
                         "ok": right, "detail": ""})
    graded = sum(1 for want in expected.values() if want["zero"] is not None)
    recorded = re.search(r"gradebook.db: integrity ok, (\d+) of (\d+) submissions recorded", report)
    rows.append({"kind": "batch", "name": "course files and gradebook", "student": "", "cell": "",
                 "ok": "course files: unchanged" in report and recorded is not None and
                       int(recorded.group(1)) >= graded and int(recorded.group(2)) == len(expected),
                 "detail": " / ".join(line for line in report.splitlines()
                                      if line.startswith(("course files", "gradebook.db")))})
    return rows


def summary(rows, output):
    count = {kind: (sum(r["ok"] for r in rows if r["kind"] == kind),
                    sum(1 for r in rows if r["kind"] == kind))
             for kind in ("mistake", "variant", "attack", "bundled", "batch")}
    speed = next((line for line in output.splitlines() if line.startswith("graded ")), "")
    return (f"kill rate: {count['mistake'][0]}/{count['mistake'][1]} mistakes lost their cell's "
            f"points with feedback naming it; correct variants accepted: "
            f"{count['variant'][0]}/{count['variant'][1]}; attacks contained: "
            f"{count['attack'][0]}/{count['attack'][1]}; bundled submissions as expected: "
            f"{count['bundled'][0]}/{count['bundled'][1]}; course files and gradebook intact: "
            f"{'yes' if count['batch'][0] == count['batch'][1] else 'NO'}\n{speed}")


def through_nbgrader(jobs):
    files, expected = audit_submissions()
    prepare(files)
    print(f"grading {len(files)} submissions in {AUDIT.relative_to(ROOT)}/ through nbgrader",
          flush=True)
    run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", str(jobs)], cwd=AUDIT,
                         capture_output=True, text=True)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "grade_audit_output.txt").write_text(run.stdout + run.stderr)
    if run.returncode not in (0, 1) or not (AUDIT / "reports" / "grades_by_cell.csv").exists():
        print(run.stdout[-3000:] + run.stderr[-3000:], file=sys.stderr)
        print("error: grading the audit submissions failed; see reports/grade_audit_output.txt",
              file=sys.stderr)
        return 2
    rows = check(expected, run.stdout)
    with open(ROOT / "reports" / "grade_audit.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["kind", "name", "student", "cell", "ok", "detail"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['kind']:8s} {row['name']:42s} {'ok' if row['ok'] else 'FAILED':7s} "
              f"{row['detail'][:100]}")
    print("\n" + summary(rows, run.stdout))
    print("written to reports/grade_audit.csv; the graded course (feedback, gradebook) is in "
          f"{AUDIT.relative_to(ROOT)}/")
    return 0 if all(row["ok"] for row in rows) else 1


def in_process():
    mutants, variants = audit(MUTANTS), audit(VARIANTS)
    for kind, rows in (("mistake", mutants), ("variant", variants)):
        for row in rows:
            verdict = ("caught" if not row["passed"] else "MISSED") if kind == "mistake" else (
                "accepted" if row["passed"] else "REJECTED")
            print(f"{kind:8s} {row['student']:40s} {verdict:9s} {row['message'][:110]}")
    killed = sum(not row["passed"] for row in mutants)
    accepted = sum(row["passed"] for row in variants)
    print(f"\nkill rate {killed}/{len(mutants)} mistakes caught; {accepted}/{len(variants)} "
          "correct variants accepted (in this process).")
    return 0 if killed == len(mutants) and accepted == len(variants) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--in-process", action="store_true",
                        help="only the catalog, graded in this process (about a minute)")
    args = parser.parse_args(argv)
    return in_process() if args.in_process else through_nbgrader(args.jobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
