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
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nbformat  # noqa: E402

from course import grade  # noqa: E402
from course.adversarial import ANY, ATTACKS, FORGED, Fifo, HardLink, Link  # noqa: E402
from course.catalog import MUTANTS, VARIANTS  # noqa: E402
from course.demo import copy_course  # noqa: E402
from course.hidden import HiddenTests  # noqa: E402
from course.notebook import ASSIGNMENT, NOTEBOOK, ROOT, run_answers, solution_sources  # noqa: E402
from course.preprocessors import ExecuteWithHiddenTests  # noqa: E402
from course.submissions import (CELLS, MISTAKES, POINTS, apply, submissions,  # noqa: E402
                                with_answers)

# The audit's copy of the course (COURSE_AUDIT_DIR: another folder, e.g. to run two at once)
AUDIT = Path(os.environ.get("COURSE_AUDIT_DIR") or ROOT / "build" / "grade-audit")
HIDDEN = HiddenTests(ROOT / "hidden" / ASSIGNMENT)


def grade_cell(cell, function):
    """(passed, message) of the grade cell for answer cell `cell`, run on `function`, with its
    hidden test, all in this process."""
    import public_tests

    try:
        with redirect_stdout(io.StringIO()):
            getattr(public_tests, f"{cell}_test")(function)
            HIDDEN.check(cell, function)
    except Exception as error:  # a grade cell fails on any exception, so the audit does too
        return False, f"{type(error).__name__}: {error}".splitlines()[0]
    return True, ""


def audit(entries):
    """In this process: one row per catalog entry: student, cell, why, passed, message, seconds."""
    for folder in (ROOT / "source" / "resnets", ROOT / "hidden" / "resnets"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
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


def packs(entries):
    """`entries` (catalog mistakes or variants) as lists with at most one per cell, so each list
    fits one submission."""
    by_cell = {cell: [entry for entry in entries if entry.cell == cell] for cell in CELLS}
    return [[found[i] for found in by_cell.values() if i < len(found)]
            for i in range(max(len(found) for found in by_cell.values()))]


def notebook_files(answers, entries):
    """The release notebook with every entry (one per cell) made in `answers`, as files."""
    for entry in entries:
        answers = apply(entry, answers)
    return {NOTEBOOK: nbformat.writes(with_answers(answers)).encode()}


def audit_submissions(context, attacks=ATTACKS):
    """{student: {file name: content}} and {student: expectation} of the whole audit."""
    answers = solution_sources()
    files, expected = {}, {}
    for student, notebook in submissions().items():
        files[student] = {NOTEBOOK: nbformat.writes(notebook).encode()}
        wrong = next((m for m in MISTAKES if m.student == student), None)
        zero = CELLS if student == "untouched-release" else [wrong.cell] if wrong else []
        expected[student] = {"zero": zero, "mistakes": [wrong] if wrong else [], "variants": []}
    bundled = {mistake.student for mistake in MISTAKES}
    for number, pack in enumerate(packs([m for m in MUTANTS if m.student not in bundled]), 1):
        student = f"catalog-mistakes-{number:02d}"
        files[student] = notebook_files(answers, pack)
        expected[student] = {"zero": [m.cell for m in pack], "mistakes": pack, "variants": []}
    for number, pack in enumerate(packs(VARIANTS), 1):
        student = f"catalog-variants-{number:02d}"
        files[student] = notebook_files(answers, pack)
        expected[student] = {"zero": [], "mistakes": [], "variants": pack}
    for attack in attacks:
        files[attack.student] = attack.build(answers, context)
        expected[attack.student] = {"zero": attack.zero, "mistakes": [], "variants": [],
                                    "attack": attack}
    return files, expected


def _write(folder, name, content):
    path = folder / name
    if isinstance(content, Link):
        if name == ".":  # the assignment folder itself
            folder.rmdir()
            path = folder
        os.symlink(content.target, path)
    elif isinstance(content, HardLink):
        os.link(AUDIT / content.target, path)
    elif isinstance(content, Fifo):
        os.mkfifo(path)
    else:
        path.write_bytes(content)


def prepare(files, course=None, environment=None):
    """A fresh copy of the course in `course` (default AUDIT) with the assignment generated (in
    the gradebook that `environment`'s COURSE_DB_URL names, if any) and `files` submitted."""
    course = copy_course(course or AUDIT, environment)
    for student, contents in files.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, content in contents.items():
            _write(folder, name, content)


def named_failures(student, results):
    """{graded function: message} of the failures the student's feedback shows: the errors under
    its test cell (a public test's, or the hidden tests' where the feedback HTML shows it)."""
    path = AUDIT / "autograded" / student / ASSIGNMENT / NOTEBOOK
    named = {}
    if not path.exists():
        return named
    feedback = AUDIT / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    html = feedback.read_text() if feedback.exists() else ""
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        function = grade_id.removesuffix("_tests")
        for output in cell.get("outputs", []):
            if output.output_type != "error" or not grade_id.endswith("_tests"):
                continue
            if output.evalue.startswith(f"{function}: "):  # a public test's
                named[function] = output.evalue.splitlines()[0]
            elif (output.ename == ExecuteWithHiddenTests.ERROR_NAME
                  and ExecuteWithHiddenTests.ERROR_NAME in html):  # the feedback shows it
                named.setdefault(function, output.evalue.splitlines()[0])
    return named


def check(expected, results):
    """Rows of reports/grade_audit.csv: one per mistake, variant, attack and bundled submission,
    and one for the batch (course files, gradebook, processes, report)."""
    records = results["submissions"]
    rows = []
    for student, want in expected.items():
        record = records.get(student, {})
        graded = record.get("status") == "graded"
        scores = {c: record["scores"][c][0] if graded and c in record.get("scores", {}) else None
                  for c in CELLS}
        zero = want["zero"]
        if zero == ANY:
            right = True
        elif zero is None:
            right = not graded
        else:
            right = graded and all(scores[c] == (0 if c in zero else POINTS[f"{c}_tests"])
                                   for c in CELLS)
        named = named_failures(student, results)
        for mistake in want["mistakes"]:
            rows.append({"kind": "mistake", "name": mistake.student, "student": student,
                         "cell": mistake.cell, "ok": right and mistake.cell in named,
                         "detail": named.get(mistake.cell, "no failure named in the feedback")})
        for variant in want["variants"]:
            full = scores[variant.cell] == POINTS[f"{variant.cell}_tests"]
            rows.append({"kind": "variant", "name": variant.student, "student": student,
                         "cell": variant.cell, "ok": right and full,
                         "detail": "" if full else named.get(variant.cell, "")})
        if "attack" in want:
            attack = want["attack"]
            cell, text = attack.expect or (None, "")
            reported = attack.expect is None or any(
                f["student"] == student and cell in (None, f["cell"]) and text in f["message"]
                for f in results["findings"])
            got = ", ".join(f"{c} {scores[c]:g}" for c in CELLS if scores[c] is not None)
            rows.append({"kind": "attack", "name": grade.escape(student), "student": student,
                         "cell": {None: "not graded", ANY: "any"}.get(zero) if zero in (None, ANY)
                         else " ".join(zero),
                         "ok": right and reported,
                         "detail": attack.why if right and reported else
                         f"{'' if reported else 'no finding ' + repr(attack.expect) + '; '}"
                         f"{'scores ' + got if graded else record.get('problem') or 'not graded'}"})
        elif not want["mistakes"] and not want["variants"]:
            rows.append({"kind": "bundled", "name": student, "student": student, "cell": "",
                         "ok": right, "detail": ""})
    return rows


def batch_row(batches, expected):
    """The row on what grading left: course files, gradebook, processes, the report's lines."""
    batch = batches[-1]["batch"]
    graded = sum(1 for want in expected.values() if want["zero"] not in (None, ANY))
    forged = [line for b in batches for line in b["report"] if line.startswith(FORGED)]
    problems = [
        *(f"course files changed: {b['batch']['course_files_changed']}" for b in batches
          if b["batch"]["course_files_changed"]),
        *(f"gradebook integrity {b['batch']['gradebook_integrity']}" for b in batches
          if b["batch"]["gradebook_integrity"] != "ok"),
        *(f"{b['batch']['processes_left']} sandbox processes left" for b in batches
          if b["batch"]["processes_left"]),
        *(["forged report lines: " + " / ".join(forged)] if forged else []),
        *(f"{len(b['report'])} report lines for {len(b['findings'])} findings" for b in batches
          if len(b["report"]) != len(b["findings"]) + 3)]
    recorded = sum(b["batch"]["submissions_recorded"] for b in batches)
    if recorded < graded:
        problems.append(f"{recorded} submissions recorded, {graded} graded")
    processes = ("no process left" if batch["processes_left"] == 0
                 else "processes not counted (no sandbox)")
    return {"kind": "batch", "name": "course files, gradebook, processes, report", "student": "",
            "cell": "", "ok": not problems,
            "detail": "; ".join(problems) or (
                f"course files unchanged, gradebook integrity ok, {recorded} submissions "
                f"recorded, {processes}, no forged line; last batch {batch['seconds']} s")}


def summary(rows, batches):
    count = {kind: (sum(r["ok"] for r in rows if r["kind"] == kind),
                    sum(1 for r in rows if r["kind"] == kind))
             for kind in ("mistake", "variant", "attack", "bundled", "batch")}
    graded = sum(b["batch"]["submissions"] for b in batches)
    seconds = sum(b["batch"]["seconds"] for b in batches)
    return (f"kill rate: {count['mistake'][0]}/{count['mistake'][1]} mistakes lost their cell's "
            f"points with feedback naming it; correct variants accepted: "
            f"{count['variant'][0]}/{count['variant'][1]}; attacks contained: "
            f"{count['attack'][0]}/{count['attack'][1]}; bundled submissions as expected: "
            f"{count['bundled'][0]}/{count['bundled'][1]}; course files, gradebook, processes "
            f"and report intact: {'yes' if count['batch'][0] == count['batch'][1] else 'NO'}\n"
            f"graded {graded} submissions in {len(batches)} batches, {seconds:.0f} s")


class _Answers(http.server.BaseHTTPRequestHandler):
    """The instructor's answer cells, served on the loopback: the network attack's target."""
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def answer_server():
    _Answers.body = "\n\n".join(solution_sources().values()).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def grade_batch(students, jobs, unsafe):
    """Grade `students` in AUDIT with course.grade; its grading_results.json, or None."""
    command = [sys.executable, "-m", "course.grade", "--jobs", str(jobs),
               *(["--unsafe-no-sandbox"] if unsafe else []), "--", *students]
    run = subprocess.run(command, cwd=AUDIT, capture_output=True, text=True)
    with open(ROOT / "reports" / "grade_audit_output.txt", "a") as handle:
        handle.write(run.stdout + run.stderr)
    results = AUDIT / "reports" / ASSIGNMENT / "grading_results.json"
    if run.returncode not in (0, 1) or not results.exists():
        print(run.stdout[-3000:] + run.stderr[-3000:], file=sys.stderr)
        return None
    results = json.loads(results.read_text())
    results["report"] = (AUDIT / "reports" / ASSIGNMENT / "grading_report.txt").read_text(
    ).splitlines()
    return results


def through_nbgrader(jobs, unsafe=False, only=()):
    server = answer_server()
    attacks = [a for a in ATTACKS if a.unsafe] if unsafe else ATTACKS
    files, expected = audit_submissions({"port": server.server_address[1]}, attacks)
    if unsafe:  # the attacks alone, to show what the sandbox contains
        only = [*only, *(s for s in files if "attack" in expected[s]), "instructor-solution"]
    if only:
        files = {s: f for s, f in files.items() if s in only}
        expected = {s: expected[s] for s in files}
    prepare(files)
    later = [a.student for a in attacks if a.later]
    order = [batch for batch in ([s for s in sorted(files) if s not in later],
                                 [s for s in later if s in files]) if batch]
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "grade_audit_output.txt").write_text("")
    batches = []
    for students in order:
        print(f"grading {len(students)} submissions in {AUDIT.relative_to(ROOT)}/ through "
              f"nbgrader{' WITHOUT the sandbox' if unsafe else ''}", flush=True)
        results = grade_batch(students, jobs, unsafe)
        if results is None:
            print("error: grading the audit submissions failed; see "
                  "reports/grade_audit_output.txt", file=sys.stderr)
            return 2
        batches.append(results)
    server.shutdown()
    merged = {"submissions": {s: r for b in batches for s, r in b["submissions"].items()},
              "findings": [f for b in batches for f in b["findings"]]}
    rows = check(expected, merged) + [batch_row(batches, expected)]
    (ROOT / "reports" / "grade_audit_results.json").write_text(json.dumps(
        {**merged, "batches": [b["batch"] for b in batches]}, indent=1) + "\n")
    with open(ROOT / "reports" / "grade_audit.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["kind", "name", "student", "cell", "ok", "detail"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['kind']:8s} {row['name'][:42]:42s} {'ok' if row['ok'] else 'FAILED':7s} "
              f"{row['detail'][:110]}")
    print("\n" + summary(rows, batches))
    if unsafe:
        print("(graded WITHOUT the sandbox: an attack row FAILED is an attack that worked)")
    print("written to reports/grade_audit.csv and reports/grade_audit_results.json; the graded "
          "course (feedback, gradebook) is in "
          f"{AUDIT.relative_to(ROOT)}/")
    return 0 if unsafe or all(row["ok"] for row in rows) else 1


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
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade the attacks without the sandbox, to see which ones the "
                             "sandbox is what stops (never on a machine you care about)")
    parser.add_argument("--only", nargs="+", default=(), metavar="STUDENT",
                        help="grade only these of the audit's submissions (while debugging)")
    args = parser.parse_args(argv)
    if args.in_process:
        return in_process()
    return through_nbgrader(args.jobs, args.unsafe_no_sandbox, args.only)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
