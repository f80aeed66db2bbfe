"""Autograde the submissions in submitted/: nbgrader for the notebook and its public tests, then
the hidden tests outside the student's process; feedback, grades and a report.

    python -m course.grade [--jobs N] [--shard K/N] [STUDENT ...]

For each submission, in parallel (N at a time, default: one per CPU core):
1. the submission is checked (notebook present under its name, valid JSON), else not graded;
2. `nbgrader autograde` runs it, the kernel sandboxed (course/sandbox.py);
3. course.untrusted computes the hidden tests' outputs beside the student's code (sandboxed);
   this process compares them with references it read before any student code ran. A cell whose
   hidden test fails gets 0 points in the gradebook (nbgrader's manual score) and a comment under
   the student's answer, which the feedback shows.
Then `nbgrader generate_feedback` (feedback/) and `nbgrader export` (reports/grades.csv).
--shard K/N grades only the K-th of N equal shares of the class (every N-th student in sorted
order): the same command on N machines, started by a job array (docs/grading.md).
Writes reports/grades_by_cell.csv and reports/grading_report.txt (one line per finding: cells
that failed or timed out, submissions not graded, course files or gradebook touched).
"""
import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from course import sandbox
from course.submissions import CELLS, POINTS

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "resnets"
NOTEBOOK = "Residual_Networks"
REPORTS = ROOT / "reports"
HIDDEN = ROOT / "hidden" / ASSIGNMENT
SUBMISSION_SECONDS = 30 * 60  # a whole submission, on top of nbgrader's per-cell timeout
# Folders that hold solutions, references, other students' work or grades: closed to the sandbox
# user (the grader itself runs as root, which needs no permission bits).
PRIVATE = ["source", "hidden", "submitted", "autograded", "feedback", "reports", "release"]
PROTECTED = ["source", "hidden", "release", "nbgrader_config.py", "course"]  # must not change


def nbgrader_environment():
    """os.environ with this environment's bin/ first: nbgrader runs `alembic` from PATH."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_logged(command, log, timeout, note, **popen):
    """Run `command` in its own process group, output appended to `log` after a `note` line;
    the group is killed after `timeout` seconds. Returns the exit code, or "timeout"."""
    with open(log, "a") as handle:
        handle.write(f"$ {note}\n")
        handle.flush()
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True, **popen)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            return "timeout"


def course_files_digest():
    """{path: SHA-256} of the files that grading must not change."""
    digests = {}
    for name in PROTECTED:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digests[str(file.relative_to(ROOT))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return digests


def shard(students, spec):
    """The K-th of N shares of `students` (sorted) for --shard K/N."""
    try:
        k, n = (int(part) for part in spec.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise SystemExit(f"error: --shard {spec}: expected K/N with 1 <= K <= N, e.g. 2/8.")
    return sorted(students)[k - 1::n]


def check_submission(student):
    """None if submitted/STUDENT holds a readable notebook, else why it cannot be graded."""
    folder = ROOT / "submitted" / student / ASSIGNMENT
    path = folder / f"{NOTEBOOK}.ipynb"
    if not path.exists():
        found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
        return (f"no {NOTEBOOK}.ipynb in submitted/{student}/{ASSIGNMENT}/ (found: "
                f"{', '.join(found) or 'no notebook'}). Fix: submit the notebook under its "
                "original name.")
    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as error:  # JSON or schema errors: nbformat raises several kinds
        return (f"submitted/{student}/{ASSIGNMENT}/{NOTEBOOK}.ipynb is not a valid notebook "
                f"({type(error).__name__}: {str(error).splitlines()[0][:120]}). Fix: open it in "
                "Jupyter, save it, and submit again.")
    return None


def last_error(log):
    """The last exception line of an nbgrader log ("DeadKernelError: Kernel died")."""
    found = re.findall(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception): .*)$", log.read_text(), re.M)
    return found[-1].strip()[:200] if found else "no exception in the log"


def _read_regular_file(path, limit):
    """Bytes of a file the sandbox wrote: never through a link, at most `limit` bytes."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is over {limit} bytes")
    return data


class Grader:
    """One batch: the sandbox set up once, then submissions graded in parallel."""

    def __init__(self, jobs):
        self.jobs = jobs
        self.lock = threading.Lock()
        sys.path.insert(0, str(HIDDEN))
        import hidden_checks

        self.hidden_checks = hidden_checks
        self.references = hidden_checks.load_references()  # before any student code runs
        self.scratch = Path(tempfile.mkdtemp(prefix="resnets-grading-"))
        os.environ[sandbox.SCRATCH_PARENT] = str(self.scratch)  # the sandbox's scratch folders
        self.checks = self.scratch / "checks"  # the hidden test code, without references
        self.checks.mkdir()
        shutil.copy(HIDDEN / "hidden_checks.py", self.checks)
        self.jupyter_path = sandbox.kernel_spec(str(self.scratch / "jupyter"))
        for path in (self.scratch, *self.scratch.rglob("*")):  # readable by the sandbox user
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        if sandbox.isolated():
            for name in PRIVATE:
                (ROOT / name).mkdir(exist_ok=True)
                os.chmod(ROOT / name, 0o700)
            os.chmod(ROOT / "autograded", 0o711)  # the kernel's own folder is under it
            if (ROOT / "gradebook.db").exists():
                os.chmod(ROOT / "gradebook.db", 0o600)
        self.digest = course_files_digest()

    def nbgrader(self, log, *args, timeout=None):
        """Run one nbgrader command in the course folder, its output appended to `log`."""
        return run_logged([sys.executable, "-m", "nbgrader", *args], log, timeout,
                          f"nbgrader {' '.join(args)}", cwd=ROOT,
                          env={**nbgrader_environment(), "JUPYTER_PATH": self.jupyter_path})

    def hidden_outputs(self, student, log):
        """({key: array}, {cell: error}) computed beside the student's code, in the sandbox."""
        notebook = ROOT / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        out = Path(sandbox.scratch_folder())
        env = {**sandbox.environment(str(out)), "PYTHONPATH": str(ROOT),
               "TF_CPP_MIN_LOG_LEVEL": "3"}
        run_logged([sys.executable, "-m", "course.untrusted", str(notebook), str(self.checks),
                    str(out)], log, SUBMISSION_SECONDS, "python -m course.untrusted (sandboxed)",
                   cwd=out, env=env, preexec_fn=sandbox.enter)
        try:
            import numpy as np

            errors = json.loads(_read_regular_file(out / "errors.json", 2**20))
            with np.load(io.BytesIO(_read_regular_file(out / "outputs.npz", 2**28)),
                         allow_pickle=False) as stored:
                outputs = {key: stored[key] for key in stored.files}
            if not isinstance(errors, dict):
                raise ValueError("errors.json is not an object")
        except Exception as error:  # no result, or a result the student's code tampered with
            message = f"the hidden tests gave no usable result ({type(error).__name__})"
            return {}, {cell: message for cell in CELLS}
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return outputs, {str(cell): str(message)[:300] for cell, message in errors.items()}

    def hidden_verdicts(self, student, log):
        """{cell: None if the hidden test passed, else its message}."""
        outputs, errors = self.hidden_outputs(student, log)
        verdicts = {}
        for cell in CELLS:
            if cell in errors:
                verdicts[cell] = f"{cell}: {errors[cell]}"
                continue
            try:
                self.hidden_checks.compare(cell, outputs, self.references)
                verdicts[cell] = None
            except AssertionError as error:
                verdicts[cell] = str(error)
        return verdicts

    def grade(self, student):
        """Autograde one submission; returns a result dict."""
        start = time.perf_counter()
        log = REPORTS / "logs" / f"{student}.log"
        log.write_text("")
        problem = check_submission(student)
        result = {"student": student, "problem": problem, "hidden": {}, "code": None}
        if problem is None:
            code = self.nbgrader(log, "autograde", ASSIGNMENT, "--student", student, "--force",
                                 f"--Execute.kernel_name={sandbox.KERNEL_NAME}",
                                 timeout=SUBMISSION_SECONDS)
            result["code"] = code
            if code == "timeout":
                result["problem"] = f"nbgrader autograde ran over {SUBMISSION_SECONDS} s"
            elif code != 0:
                result["problem"] = (f"nbgrader autograde failed (exit {code}): "
                                     f"{last_error(log)}; see reports/logs/{log.name}")
            else:
                result["hidden"] = self.hidden_verdicts(student, log)
        result["seconds"] = time.perf_counter() - start
        return result

    def run(self, students):
        (REPORTS / "logs").mkdir(parents=True, exist_ok=True)
        results, done = {}, 0

        def task(student):
            nonlocal done
            result = self.grade(student)
            with self.lock:
                done += 1
                results[student] = result
                status = result["problem"] or "ok"
                print(f"[{done}/{len(students)}] graded {student:40s} {result['seconds']:5.1f} s  "
                      f"{status}", flush=True)

        with ThreadPoolExecutor(self.jobs) as pool:
            list(pool.map(task, students))
        return {student: results[student] for student in students}


HIDDEN_COMMENT = "Hidden tests (run by the grader, outside your notebook) failed, so this " \
    "function scores 0: "


def apply_hidden_verdicts(results):
    """0 points, with the hidden test's message as a comment, where a hidden test failed; a
    0 that an earlier batch set this way is lifted when the hidden test now passes."""
    with Gradebook(f"sqlite:///{ROOT / 'gradebook.db'}") as gradebook:
        for student, result in results.items():
            for cell, message in result["hidden"].items():
                grade = gradebook.find_grade(f"{cell}_tests", NOTEBOOK, ASSIGNMENT, student)
                comment = gradebook.find_comment(cell, NOTEBOOK, ASSIGNMENT, student)
                ours = (comment.manual_comment or "").startswith(HIDDEN_COMMENT)
                if message is not None and ((grade.auto_score or 0) > 0 or ours):
                    grade.manual_score = 0.0
                    comment.manual_comment = HIDDEN_COMMENT + message
                elif message is None and ours:
                    grade.manual_score = None
                    comment.manual_comment = None
        gradebook.db.commit()


def cell_scores(students):
    """{student: {graded function: (score, max score)}} from the gradebook."""
    scores = {}
    with Gradebook(f"sqlite:///{ROOT / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            except MissingEntry:  # not graded
                scores[student] = {}
                continue
            scores[student] = {grade.name.removesuffix("_tests"): (grade.score, grade.max_score)
                               for grade in notebook.grades}
    return scores


def findings(results):
    """Report lines: what went wrong in each submission, in the instructor's terms."""
    lines = []
    for student, result in results.items():
        if result["problem"]:
            lines.append(f"{student}: NOT GRADED: {result['problem']}")
            continue
        notebook = nbformat.read(ROOT / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                                 as_version=4)
        present = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell
                   for cell in notebook.cells}
        for test in POINTS:
            if test not in present:
                lines.append(f"{student}: {test}: the test cell is missing (deleted from the "
                             "submission): nbgrader scores it 0")
            elif present[test].source.startswith("# This cell (id:"):  # OverwriteCells' note
                lines.append(f"{student}: {test}: the test cell was deleted from the submission; "
                             "nbgrader put it back and ran it")
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "a cell the student added")
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    lines.append(f"{student}: {grade_id}: {output.ename}: "
                                 f"{output.evalue.splitlines()[0][:200] if output.evalue else ''}")
        for cell, message in result["hidden"].items():
            if message is not None:
                lines.append(f"{student}: {cell}: hidden tests failed: {message[:200]}")
    return lines


def gradebook_check(students):
    """One line on the gradebook's state after the batch."""
    path = ROOT / "gradebook.db"
    with sqlite3.connect(path) as connection:
        status = connection.execute("PRAGMA integrity_check").fetchone()[0]
    with Gradebook(f"sqlite:///{path}") as gradebook:
        graded = sum(1 for s in students if _has_submission(gradebook, s))
    return f"gradebook.db: integrity {status}, {graded} of {len(students)} submissions recorded"


def _has_submission(gradebook, student):
    try:
        gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return True
    except MissingEntry:
        return False


def write_table(results, scores):
    with open(REPORTS / "grades_by_cell.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *CELLS, "total", "max", "seconds", "status"])
        for student, per_cell in scores.items():
            total = sum(score for score, _ in per_cell.values())
            maximum = sum(top for _, top in per_cell.values())
            writer.writerow([student, *(per_cell.get(c, ("", ""))[0] for c in CELLS), total,
                             maximum, f"{results[student]['seconds']:.1f}",
                             results[student]["problem"] or "graded"])
    width = max(len(name) for name in CELLS) + 2
    print("\n" + f"{'student':40s}" + "".join(f"{c:>{width}s}" for c in CELLS) + f"{'total':>8s}")
    for student, per_cell in scores.items():
        row = "".join(f"{f'{per_cell[c][0]:g} / {per_cell[c][1]:g}':>{width}s}" if c in per_cell
                      else f"{'not graded':>{width}s}" for c in CELLS)
        total = sum(score for score, _ in per_cell.values())
        print(f"{student:40s}{row}{total:>8g}")


def assignment_in_gradebook():
    if not (ROOT / "gradebook.db").exists():
        return False
    with Gradebook(f"sqlite:///{ROOT / 'gradebook.db'}") as gradebook:
        return any(a.name == ASSIGNMENT for a in gradebook.assignments)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: one per CPU core)")
    parser.add_argument("--shard", metavar="K/N", help="grade only the K-th of N shares")
    parser.add_argument("students", nargs="*", help="default: every folder in submitted/")
    args = parser.parse_args(argv)
    submitted = ROOT / "submitted"
    students = args.students
    if not students and submitted.is_dir():
        students = sorted(p.name for p in submitted.iterdir() if p.is_dir())
    if args.shard:
        students = shard(students, args.shard)
    if not students:
        print("error: submitted/ has no submissions. Fix: run `make submissions`.", file=sys.stderr)
        return 2
    if not assignment_in_gradebook():
        print(f"error: gradebook.db has no assignment '{ASSIGNMENT}'. Fix: run `make release` "
              "(nbgrader generate_assignment records it) first.", file=sys.stderr)
        return 2
    problem = sandbox.probe(str(ROOT))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    REPORTS.mkdir(exist_ok=True)
    grader = Grader(max(1, args.jobs))
    isolation = (f"student code runs as '{sandbox.SANDBOX_USER}'" if sandbox.isolated() else
                 "student code runs as this user (not root): limits only, no isolation")
    print(f"grading {len(students)} submissions, {grader.jobs} at a time; sandbox: {isolation}, "
          f"{sandbox.MEMORY_BYTES / 2**30:g} GiB memory", flush=True)
    started = time.perf_counter()
    results = grader.run(students)
    elapsed = time.perf_counter() - started
    apply_hidden_verdicts({s: r for s, r in results.items() if not r["problem"]})
    log = REPORTS / "logs" / "batch.log"
    log.write_text("")
    for step in (["generate_feedback", ASSIGNMENT, "--force"],
                 ["export", "--to", str(REPORTS / "grades.csv")]):
        if grader.nbgrader(log, *step) != 0:
            print(f"error: nbgrader {step[0]} failed; see {log}", file=sys.stderr)
            return 1
    scores = cell_scores(students)
    write_table(results, scores)
    changed = sorted(path for path, digest in course_files_digest().items()
                     if grader.digest.get(path) != digest)
    report = findings(results) + [
        f"course files: {'unchanged' if not changed else 'CHANGED: ' + ', '.join(changed)}",
        gradebook_check(students)]
    (REPORTS / "grading_report.txt").write_text("\n".join(report) + "\n")
    print("\n" + "\n".join(report))
    per = elapsed / len(students)
    print(f"\ngraded {len(students)} submissions in {elapsed:.0f} s with {grader.jobs} jobs: "
          f"{per:.1f} s per submission, {60 / per:.1f} submissions per minute")
    print("feedback in feedback/<student>/resnets/, grades in reports/grades.csv and "
          "reports/grades_by_cell.csv, findings in reports/grading_report.txt")
    shutil.rmtree(grader.scratch, ignore_errors=True)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
