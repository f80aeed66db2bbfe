"""Autograde the submissions in submitted/ with nbgrader, in parallel; feedback, grades and a
report.

    python -m course.grade [--root COURSE] [--assignment NAME ...] [--jobs N] [--shard K/N]
                           [--queue BROKER] [--unsafe-no-sandbox] [STUDENT ...]

For each assignment (default: every one of source/ with a submission; course/assignments.py)
and each of its submissions, in parallel (N at a time, default: one per CPU core):
1. the submission is checked: a safe student id, nothing but regular files and folders (no
   links, hard links or special files), the notebook under its name and valid; else not graded;
2. `nbgrader autograde` runs it as nbgrader_config.py says, whoever starts it: its kernel in a
   sandbox of its own (course/sandbox.py), its public tests, then the hidden tests in the same
   kernel, judged outside it (course/hidden.py): a test cell whose hidden tests fail gets an
   error under it, so nbgrader scores it 0 and the feedback says why;
3. `nbgrader generate_feedback` writes its feedback (feedback/).
Both through nbgrader's API in one course.worker process per job. Then `nbgrader export`
(reports/grades.csv).
The gradebook is the one nbgrader_config.py names (COURSE_DB_URL: PostgreSQL for a class graded
on several machines), else gradebook.db.
--shard K/N grades only the K-th of N equal shares of the class (every N-th student in sorted
order): the same command on N machines, started by a job array (docs/grading.md).
Writes reports/ASSIGNMENT/grading_results.json (the batch as data: a record per submission, the
findings, the batch's checks), and from it grades_by_cell.csv and grading_report.txt (one
escaped line per finding: cells that failed or timed out, submissions not graded, stderr kept,
course files or gradebook touched, processes left).
Without root or bubblewrap it refuses to grade, unless told --unsafe-no-sandbox.
--queue [BROKER] sends each submission to the Celery workers of BROKER (default:
COURSE_BROKER_URL) instead (course/queue.py:
each grades in a sandbox on its own machine) and writes what they return here, with the same
reports, lines and exit codes; this machine then runs no student code and needs no root.
"""
import argparse
import dataclasses
import hashlib
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from course import ROOT, sandbox, spreadsheet
from course.assignments import SUFFIX, AssignmentError, assignments
from course.preprocessors import (ExecuteWithHiddenTests, KeepHandGrades, KeepPointsForStderr,
                                 OnlyVerdictsScore, extra_paths, release_paths)
from course.records import (GRADED, NOT_GRADED, Autograded, Batch, Finding, Results,
                            SubmissionResult)

SUBMISSION_SECONDS = sandbox.SETTINGS.submission_seconds  # course.sandbox.Settings says what
PROTECTED = ["source", "hidden", "release", "nbgrader_config.py", "course"]  # must not change


# nbgrader's command line, in an interpreter that imports `course` first (which spares it an
# import nbgrader does not need: course/__init__.py); run in the course folder, whose course/
# it imports, as the workers and nbgrader_config.py do
NBGRADER = [sys.executable, "-c", "import sys, course\nfrom nbgrader.apps.nbgraderapp import main\n"
            "sys.exit(main())"]


def nbgrader_environment():
    """os.environ with this environment's bin/ first: nbgrader runs `alembic` from PATH."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_logged(command, log, note, **popen):
    """Run `command`, its output appended to `log` after a `note` line; its exit code."""
    with open(log, "a") as handle:
        handle.write(f"$ {note}\n")
        handle.flush()
        return subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, **popen).returncode


class Course:
    """A course folder as nbgrader sees it: nbgrader's CourseDirectory configured by the
    folder's nbgrader_config.py answers where each step's files are (`path`) and the gradebook's
    URL (`db_url`: CourseDirectory.db_url, whose default is the folder's gradebook.db); the
    course's own reports go in reports/."""

    def __init__(self, root):
        from nbgrader.coursedir import CourseDirectory

        self.root = Path(root).resolve()
        self.config = nbgrader_config(self.root)
        self.coursedir = CourseDirectory(config=self.config, root=str(self.root))
        default = CourseDirectory.class_traits()["directory_structure"].default_value
        if self.coursedir.directory_structure != default:  # course.grade reads a student's id
            raise SystemExit(  # and finds its submissions by that layout
                f"error: {self.root}/nbgrader_config.py sets CourseDirectory.directory_structure "
                f"to {self.coursedir.directory_structure!r}; the course's tools need nbgrader's "
                f"default {default!r}. Fix: remove that setting.")
        self.db_url = self.coursedir.db_url
        self.reports = self.root / "reports"

    def path(self, step, student="", assignment=""):
        """The folder of nbgrader's `step` ("submitted", "autograded", "feedback", "source",
        "release"), of `student` and `assignment` when given: CourseDirectory.format_path."""
        folder = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(folder, student, assignment))

    def files_digest(self):
        """{path: SHA-256} of the files that grading must not change."""
        return {str(file.relative_to(self.root)): hashlib.sha256(file.read_bytes()).hexdigest()
                for name in PROTECTED for file in files_under(self.root / name)}


def files_under(path):
    """The file `path`, or the files under the folder `path` (sorted, no __pycache__); none if
    it is missing."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def nbgrader_config(root):
    """The configuration nbgrader reads from `root`/nbgrader_config.py (empty without one)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(root) / "nbgrader_config.py").exists():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


# What a student with an account on the grading machine must not read (docs/instructor.md).
PRIVATE = ("source", "hidden", ".git", "gradebook.db", "submitted", "autograded", "feedback",
           "reports", "nbgrader_config.py")


def readable_by_others(root):
    """The course's private entries that accounts other than the owner and group can read:
    [] when the folder, or a folder above it, lets no other account through."""
    root = Path(root).resolve()
    if any(not os.stat(folder).st_mode & stat.S_IXOTH for folder in (root, *root.parents)):
        return []
    found = []
    for name in PRIVATE:
        path = root / name
        if path.exists() and os.stat(path).st_mode & stat.S_IROTH:
            found.append(name + ("/" if path.is_dir() else ""))
    return found


def permissions_warning(root):
    """One line when other accounts can read the course, else None."""
    found = readable_by_others(root)
    if not found:
        return None
    return (f"warning: other accounts of this machine can read the course folder {root} "
            f"({', '.join(found)}): a student with a shell account here reads the solutions, "
            f"the hidden references and every grade. Fix: `make protect` (chmod 700 {root}).")


def shard(students, spec):
    """The K-th of N shares of `students` (sorted) for --shard K/N."""
    try:
        k, n = (int(part) for part in spec.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise SystemExit(f"error: --shard {spec}: expected K/N with 1 <= K <= N, "
                         "e.g. 2/8.") from None
    return sorted(students)[k - 1::n]


ID_PUNCTUATION = "._@+-"  # besides letters and digits of any script, in a student id


def safe_id(student):
    """Whether `student` is a safe path component to grade under: 1 to 64 characters, letters
    and digits of any script (with their combining marks: "ü" written as u + ¨) and . _ @ + -,
    starting with a letter or digit (so never "." or ".."). nbgrader and JupyterHub accept such
    names; separators, control characters, spaces and leading dots stay out."""
    return (isinstance(student, str) and 0 < len(student) <= 64 and student[0].isalnum()
            and all(c.isalnum() or c in ID_PUNCTUATION or unicodedata.category(c) in ("Mn", "Mc")
                    for c in student))


def escape(text, limit=300):
    """`text` on one line, at most `limit` characters: control and other unprintable characters
    become escapes, so nothing a submission chose can start a line of a report."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(text))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def unsafe_files(folder, root):
    """Paths under `folder` (itself included), relative to `root`, that grading must not take
    in: links, hard links and anything but regular files and folders. Nothing is followed."""
    found = []

    def judge(path):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            found.append(f"{path.relative_to(root)} (a symbolic link)")
        elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            found.append(f"{path.relative_to(root)} (a hard link)")
        elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            found.append(f"{path.relative_to(root)} (not a regular file)")
        else:
            return stat.S_ISDIR(info.st_mode)
        return False

    if os.path.lexists(folder) and judge(folder):
        for parent, folders, files in os.walk(folder, followlinks=False):
            for name in [*folders, *files]:
                judge(Path(parent) / name)
    return found


def check_submission(assignment, student, root):
    """None if the course's submitted/STUDENT holds `assignment`'s notebook, readable, and
    nothing unsafe, else why it cannot be graded (one line, with the fix). `root`: a Course, or
    its folder."""
    if not safe_id(student):
        return (f"the student id {escape(ascii(student))} is not a safe name (letters and digits "
                "of any script, and . _ @ + -, at most 64, starting with a letter or digit). "
                "Fix: rename the folder in submitted/.")
    # a folder, or a Course (of this module, or of __main__ when run as python -m course.grade)
    course = Course(root) if isinstance(root, (str, os.PathLike)) else root
    unsafe = unsafe_files(course.path("submitted", student), course.root)
    if unsafe:
        return (f"{', '.join(escape(path, 120) for path in unsafe[:5])}"
                f"{f' and {len(unsafe) - 5} more' if len(unsafe) > 5 else ''}: grading takes in "
                "regular files and folders only. Fix: submit the notebook itself (no links, no "
                "special files).")
    name, notebook = assignment.name, assignment.notebook
    folder = course.path("submitted", student, name)
    path = folder / notebook
    if not path.exists():
        found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
        return (f"no {notebook} in submitted/{student}/{name}/ (found: "
                f"{escape(', '.join(found), 120) or 'no notebook'}). Fix: submit the notebook "
                "under its original name.")
    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as error:  # JSON or schema errors: nbformat raises several kinds
        return (f"submitted/{student}/{name}/{notebook} is not a valid notebook "
                f"({type(error).__name__}: {escape(str(error), 120)}). Fix: open "
                "it in Jupyter, save it, and submit again.")
    return None


def last_error(log):
    """The last exception line of an nbgrader log ("DeadKernelError: Kernel died"), other than
    the NbGraderException that says to look above."""
    text = log.read_text() if log.exists() else ""  # none when its process died first
    found = [line for line in re.findall(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception): .*)$",
                                         text, re.M)
             if not line.startswith("NbGraderException")]
    return found[-1].strip()[:200] if found else "no exception in the log"


# nbgrader_config.py's kernel manager, replaced with --unsafe-no-sandbox
UNSAFE_KERNELS = ("--ExecuteWithHiddenTests.kernel_manager_class="
                  "jupyter_client.manager.AsyncKernelManager")


class Worker:
    """One job's course.worker process, which autogrades submissions one after another with
    nbgrader's API; replaced after a submission that ran over SUBMISSION_SECONDS or killed it."""

    def __init__(self, grader, number):
        self.grader, self.number, self.process = grader, number, None

    def start(self):
        options = [UNSAFE_KERNELS] if self.grader.unsafe else []
        with open(self.grader.logs / f"worker-{self.number}.log", "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course.worker", self.grader.assignment.name,
                 str(self.grader.logs), *options],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                cwd=self.grader.course.root,
                env={**nbgrader_environment(), sandbox.RECORD: str(self.grader.boundaries),
                     "COURSE_SANDBOX_THREADS": str(self.grader.threads)},
                start_new_session=True)

    def autograde(self, student):
        """The Autograded of `nbgrader autograde` for `student`."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        try:
            self.process.stdin.write(student + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        if not select.select([self.process.stdout], [], [], SUBMISSION_SECONDS)[0]:
            self.stop()
            return Autograded(success=False, timed_out=True)
        line = self.process.stdout.readline()
        if not line:  # the worker died
            self.stop()
            return Autograded(success=False, error="the grading process died")
        answer = json.loads(line)
        return Autograded(success=answer["success"], error=answer["error"],
                          feedback_error=answer.get("feedback_error"))

    def stop(self):
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None
            if not self.grader.unsafe:
                sandbox.sweep_runtime_folders()  # its kernel's, which it could not remove

    def close(self):
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            self.stop()


class Grader:
    """One batch: submissions of one assignment graded in parallel by nbgrader's autograde (a
    course.worker per job), each kernel in a boundary of its own (course/sandbox.py) unless
    `unsafe`."""

    def __init__(self, course, assignment, jobs, unsafe=False):
        self.course, self.assignment, self.jobs, self.unsafe = course, assignment, jobs, unsafe
        # each kernel's share of the cores: --jobs N on N cores, one thread pool thread each
        self.threads = int(os.environ.get("COURSE_SANDBOX_THREADS") or
                           max(1, (os.cpu_count() or 1) // jobs))
        self.reports = course.reports / assignment.name
        self.logs = self.reports / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        # root only (0700); named by this process, so that a sweep can tell it was left when
        # this process was killed (sandbox.sweep_runtime_folders)
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{sandbox.GRADING_PREFIX}{os.getpid()}-"))
        self.boundaries = self.scratch / "boundaries.jsonl"  # the kernels' boundaries report here
        self.digest = course.files_digest()
        self.workers = []
        self.local = threading.local()

    def worker(self):
        """This thread's worker."""
        if not hasattr(self.local, "worker"):
            with self.lock:
                self.local.worker = Worker(self, len(self.workers) + 1)
                self.workers.append(self.local.worker)
        return self.local.worker

    def grade(self, student):
        """Autograde one submission: its SubmissionResult (without scores: the batch reads them
        from the gradebook)."""
        start = time.perf_counter()
        status, problem = NOT_GRADED, check_submission(self.assignment, student, self.course)
        feedback = None
        if problem is None:
            result = self.worker().autograde(student)
            log = self.logs / f"{student}.log"
            if result.timed_out:
                problem = f"nbgrader autograde ran over {SUBMISSION_SECONDS} s"
            elif not result.success:
                problem = (f"nbgrader autograde failed: {last_error(log)}; see "
                           f"{log.relative_to(self.course.root)}")
            else:  # its grades are in the gradebook, whatever became of its feedback
                status = GRADED
                if result.feedback_error:
                    feedback = (f"nbgrader generate_feedback failed: {result.feedback_error}; "
                                f"see {log.relative_to(self.course.root)}")
        return SubmissionResult(student, self.assignment.name, status, problem,
                                seconds=round(time.perf_counter() - start, 2),
                                feedback_problem=feedback)

    def kernel_boundaries(self):
        """What the sandboxed kernels' launchers recorded: [{folder, uid, exit, killed}]."""
        if not self.boundaries.exists():
            return []
        return [json.loads(line) for line in self.boundaries.read_text().splitlines()]

    def boundaries_by_student(self):
        """{student: [the records of the boundaries of its kernels]}."""
        found = {}
        for entry in self.kernel_boundaries():
            parts = Path(entry["folder"]).relative_to(self.course.path("autograded")).parts
            found.setdefault(parts[0], []).append(entry)
        return found

    def leftover_processes(self):
        """Processes of this batch's boundaries still running after the batch: [pid]."""
        uids = {entry["uid"] for entry in self.kernel_boundaries()}
        return [pid for pids in sandbox.leftover_processes(uids).values() for pid in pids]

    def run(self, students):
        try:
            records = graded_in_parallel(self.grade, self.assignment.name, students, self.jobs)
        finally:
            for worker in self.workers:
                worker.close()
        for student, entries in self.boundaries_by_student().items():
            if student not in records:
                continue
            peaks = [entry["peak_memory"] for entry in entries if entry.get("peak_memory")]
            records[student] = dataclasses.replace(
                records[student],
                killed=records[student].killed + sum(entry["killed"] for entry in entries),
                # the most memory its kernel's control group held (Cgroup.peak_memory)
                peak_memory_mib=round(max(peaks) / 2**20) if peaks else None)
        return records


def graded_in_parallel(grade_one, name, students, jobs):
    """{student: grade_one(student)} for `students` (in their order), `jobs` at a time, with a
    progress line as each ends: what a batch of assignment `name` prints, here or on a queue."""
    records, done, lock = {}, 0, threading.Lock()

    def task(student):
        nonlocal done
        record = grade_one(student)
        with lock:
            done += 1
            records[student] = record
            print(f"[{done}/{len(students)}] {name}: graded {escape(student, 40):40s} "
                  f"{record.seconds:5.1f} s  {escape(record.problem or 'ok', 160)}",
                  flush=True)

    with ThreadPoolExecutor(max(1, min(jobs, len(students)))) as pool:
        list(pool.map(task, students))
    return {student: records[student] for student in students}


def cell_scores(course, assignment, students):
    """{student: {graded function: [score, max score]}} from the gradebook, and {written
    answer's id: [score or None while not graded by hand, max score]}."""
    scores = {}
    with Gradebook(course.db_url) as gradebook:
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(assignment.stem, assignment.name,
                                                              student)
            except MissingEntry:  # not graded
                scores[student] = {}
                continue
            scores[student] = {}
            for grade in notebook.grades:
                if grade.name in assignment.points:
                    name, score = grade.name.removesuffix(SUFFIX), grade.score
                elif grade.name in assignment.manual:  # nbgrader says 0 until graded by hand
                    name, score = grade.name, None if grade.needs_manual_grade else grade.score
                else:
                    continue
                scores[student][name] = [score, grade.max_score]
    return scores


def _grade_ids(notebook):
    """{grade_id: cell} of a notebook's nbgrader cells."""
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}


def _stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == name)


def findings(course, assignment, record):
    """What went wrong in one submission (a SubmissionResult), in the instructor's terms: a list
    of Finding."""
    student, scores = record.student, record.scores

    def finding(cell, kind, message):
        return Finding(student, cell, kind, message)

    if not record.graded:
        return [finding(None, "not graded", record.problem)]
    found = []
    submitted = course.path("submitted", student, assignment.name)
    extra = extra_paths(submitted, release_paths(course.root / "source", assignment.name,
                                                 assignment.notebook))
    if extra:
        shown = ", ".join(escape(path, 80) for path in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        found.append(finding(None, "files", f"{shown}{more} beside the notebook: not used in "
                             "grading (the notebook runs beside the assignment's own files "
                             "alone)"))
    notebook = nbformat.read(course.path("autograded", student, assignment.name)
                             / assignment.notebook, as_version=4)
    present = _grade_ids(notebook)
    try:  # a test cell it lacks was put back by nbgrader (OverwriteCells)
        submitted_ids = _grade_ids(nbformat.read(submitted / assignment.notebook, as_version=4))
    except (OSError, ValueError):  # replaced or removed since: nothing to say
        submitted_ids = present
    for test in assignment.points:
        if test not in present:
            found.append(finding(test, "test cell", "the test cell is missing (deleted from the "
                                 "submission): nbgrader scores it 0"))
        elif test not in submitted_ids:
            found.append(finding(test, "test cell", "the test cell was deleted from the "
                                 "submission; nbgrader put it back and ran it"))
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", "a cell the student added")
        verdict = ExecuteWithHiddenTests.verdict_of(cell)
        if not verdict["passed"]:
            found.append(finding(grade_id.removesuffix(SUFFIX), "hidden",
                                 "hidden tests failed: "
                                 + (verdict["message"].splitlines() or [""])[0]))
        hidden = ExecuteWithHiddenTests.error_of(cell)  # reported above, from the verdict
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        for output in errors:
            if output is hidden:
                continue
            first = (output.evalue.splitlines() or [""])[0]
            found.append(finding(grade_id, "error", f"{output.ename}: {first}"))
        if cell.metadata.get(OnlyVerdictsScore.KEY):
            found.append(finding(grade_id, "result", "the test cell's code gave a value (Out:), "
                                 "which nbgrader would have read as the cell's score; it was "
                                 "shown, not scored"))
        cut = cell.metadata.get(ExecuteWithHiddenTests.OUTPUT_CUT)
        if cut:
            found.append(finding(grade_id, "output", f"{cut['outputs']} outputs of "
                                 f"{cut['characters']:,} characters in all were not kept (past "
                                 "the grader's limit on a cell's or a notebook's output)"))
        if cell.metadata.get(KeepHandGrades.KEY) == "cleared":
            found.append(finding(grade_id, "hand grade", "the answer changed since it was graded "
                                 "by hand: that grade and its comment were removed; grade it "
                                 "again"))
        kept = cell.metadata.get(KeepPointsForStderr.KEY)
        if kept:
            found.append(finding(grade_id, "stderr", "wrote to stderr and passed its tests: "
                                 f"points kept (nbgrader would give 0): {kept}"))
        elif meta.get("grade") and not errors and _stream_text(cell, "stderr"):
            zero = scores.get(grade_id.removesuffix(SUFFIX), [None])[0] == 0
            why = " and scores 0 for it (nbgrader counts stderr as a failure)" if zero else ""
            first = (_stream_text(cell, "stderr").strip().splitlines() or [""])[0]
            found.append(finding(grade_id, "stderr", f"wrote to stderr{why}: {first}"))
    if record.killed:
        found.append(finding(None, "processes", f"{record.killed} processes it left running "
                             "were killed when its grading ended"))
    if record.feedback_problem:
        found.append(finding(None, "feedback", "graded (its scores are in the gradebook), but "
                             f"no feedback page was made: {record.feedback_problem}. Fix: "
                             "`python -m course.term feedback` once the cause is fixed"))
    return found


def render(finding):
    """One line of reports/grading_report.txt; every field escaped."""
    cell = f"{escape(finding.cell, 60)}: " if finding.cell else ""
    kind = "NOT GRADED: " if finding.kind == "not graded" else ""
    return f"{escape(finding.student, 80)}: {cell}{kind}{escape(finding.message)}"


def gradebook_check(course, assignment, students):
    """(integrity, number of the students with a submission recorded) after the batch; the
    integrity is SQLite's own check, or "ok" when another database answers."""
    if course.db_url.startswith("sqlite:///"):
        with sqlite3.connect(course.db_url.removeprefix("sqlite:///")) as connection:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
    else:
        status = "ok"
    with Gradebook(course.db_url) as gradebook:
        graded = sum(1 for s in students if _has_submission(gradebook, assignment, s))
    return status, graded


def _has_submission(gradebook, assignment, student):
    try:
        gradebook.find_submission_notebook(assignment.stem, assignment.name, student)
        return True
    except MissingEntry:
        return False


def _shown(score):
    """A score as the tables show it: a written answer not graded by hand yet is "to grade"."""
    return "to grade" if score is None else f"{score:g}" if isinstance(score, float) else score


def write_table(folder, assignment, records):
    cells = assignment.functions + list(assignment.manual)
    with open(folder / "grades_by_cell.csv", "w", newline="") as handle:
        writer = spreadsheet.writer(handle)
        writer.writerow(["student", *cells, "total", "max", "seconds", "status"])
        for student, record in records.items():
            per_cell = record.scores
            writer.writerow([escape(student, 80),
                             *(_shown(per_cell.get(c, ("", ""))[0]) for c in cells),
                             sum(score or 0 for score, _ in per_cell.values()),
                             sum(top for _, top in per_cell.values()), f"{record.seconds:.1f}",
                             record.status])
    width = max(len(name) for name in cells) + 2
    print(f"\n{assignment.name}\n" + f"{'student':40s}" + "".join(f"{c:>{width}s}" for c in cells)
          + f"{'total':>8s}")
    for student, record in records.items():
        per_cell = record.scores
        row = "".join(f"{f'{_shown(per_cell[c][0])} / {per_cell[c][1]:g}':>{width}s}"
                      if c in per_cell else f"{'not graded':>{width}s}" for c in cells)
        total = sum(score or 0 for score, _ in per_cell.values())
        print(f"{escape(student, 40):40s}{row}{total:>8g}")


def assignment_in_gradebook(course, name):
    try:
        with Gradebook(course.db_url) as gradebook:
            return any(a.name == name for a in gradebook.assignments)
    except Exception:  # no gradebook yet, or a database that does not answer
        return False


def classes(root, names, known, students=()):
    """{assignment: [entry of root/submitted/]} to grade, for the assignments `names`: the
    `students` named (each for every one of `names` it has a folder of), else every entry with
    a folder of it; an entry with none, once, under the first (it gets a line saying what is
    missing). Links are included, so that they are refused with a line."""
    submitted = Course(root).path("submitted")
    if students:  # each for every assignment it has a folder of; one with none under the first
        found = {name: [s for s in students if os.path.lexists(submitted / s / name)]
                 for name in names}
        for student in students:
            if not any(student in entries for entries in found.values()):
                found[names[0]].append(student)
        return {name: entries for name, entries in found.items() if entries}
    entries = sorted(p.name for p in submitted.iterdir()
                     if p.is_dir() or p.is_symlink()) if submitted.is_dir() else []
    found = {name: [] for name in names}
    for entry in entries:
        has = [name for name in names if os.path.lexists(submitted / entry / name)]
        if not any(os.path.lexists(submitted / entry / other) for other in known):
            has = list(names[:1])
        for name in has:
            found[name].append(entry)
    return {name: found[name] for name in names if found[name]}


def grade_assignment(course, assignment, students, jobs, unsafe, queue=None):
    """Grade `students`' submissions of `assignment`, here or on the workers of the task queue
    `queue` (course/queue.py); write its reports; return its results."""
    if queue:
        from course.queue import QueueGrader, shown

        grader = QueueGrader(course, assignment, jobs, queue)
        boundary = f"on the queue's workers ({shown(queue)}), each submission in a sandbox there"
        isolation = boundary
    else:
        grader = Grader(course, assignment, jobs, unsafe=unsafe)
        boundary = None if grader.unsafe else sandbox.describe()
        isolation = ("NONE (--unsafe-no-sandbox): student code runs with the grader's rights"
                     if grader.unsafe else f"one per submission: {boundary}")
    print(f"{assignment.name}: grading {len(students)} submissions, {grader.jobs} at a time; "
          f"sandbox: {isolation}", flush=True)
    try:
        started = time.perf_counter()
        records = grader.run(students)
        elapsed = time.perf_counter() - started
        safe = [s for s in students if safe_id(s)]
        scores = cell_scores(course, assignment, safe)
        records = {student: dataclasses.replace(record, scores=scores.get(student, {}))
                   for student, record in records.items()}
        write_table(grader.reports, assignment, records)
        changed = sorted(path for path, digest in course.files_digest().items()
                         if grader.digest.get(path) != digest)
        integrity, recorded = gradebook_check(course, assignment, safe)
        left = None if grader.unsafe else grader.leftover_processes()
        if not grader.unsafe and not queue:
            sandbox.sweep()  # scratch of this batch's kernels whose launcher nbgrader killed
        batch = Batch(assignment.name, len(students), grader.jobs, boundary, round(elapsed, 1),
                      round(elapsed / len(students), 2), changed, integrity, recorded,
                      None if grader.unsafe else len(left))
        found = [f for record in records.values() for f in findings(course, assignment, record)]
        results = Results(batch, records, found)
        results.write(grader.reports / "grading_results.json")
        report = [render(f) for f in found] + [
            f"course files: {'unchanged' if not changed else 'CHANGED: ' + ', '.join(changed)}",
            f"gradebook: integrity {integrity}, {recorded} of {len(students)} submissions recorded",
            f"sandbox processes left after grading: {batch.processes_left}"]
        (grader.reports / "grading_report.txt").write_text("\n".join(report) + "\n")
        print("\n" + "\n".join(report))
        per = batch.seconds_per_submission
        rate = f", {60 / per:.1f} submissions per minute" if per else ""
        print(f"\n{assignment.name}: graded {len(students)} submissions in {elapsed:.0f} s with "
              f"{grader.jobs} jobs: {per:.1f} s per submission{rate}")
        where = grader.reports.relative_to(course.root)
        print(f"feedback in feedback/<student>/{assignment.name}/, grades in "
              f"reports/grades.csv and {where}/grades_by_cell.csv, findings in "
              f"{where}/grading_report.txt, all of it as data in {where}/grading_results.json",
              flush=True)
    finally:  # its kernels' reports, however the batch ends
        shutil.rmtree(grader.scratch, ignore_errors=True)
    return results


# How nbclient says a kernel never ran a cell: before any of a submission's code ran, so no
# submission can cause it
AT_START = ("before replying to kernel_info", "Kernel didn't respond", "cannot sandbox")


def broken_grader(records):
    """Why the grader, not the class, failed: nbgrader failed on every one of two or more
    submissions for one and the same reason, a kernel that never ran a cell (AT_START); else
    None. (A submission refused before nbgrader, a missing notebook, says so itself.)"""
    died = [record.problem for record in records.values()
            if not record.graded and (record.problem or "").startswith("nbgrader autograde")]
    reasons = {problem.split("; see ")[0] for problem in died}
    if len(records) < 2 or len(died) < len(records) or len(reasons) != 1:
        return None
    if not any(sign in next(iter(reasons)) for sign in AT_START):  # a submission can do that
        return None
    return (f"all {len(records)} submissions failed the same way ({escape(reasons.pop(), 200)}): "
            "the grader is broken, not the class. Fix: `python -m course.sandbox check` says "
            "what a grading kernel lacks; grade again once it passes")


def default_root():
    """The current folder when it holds nbgrader_config.py, else this code's course."""
    return Path.cwd() if (Path.cwd() / "nbgrader_config.py").exists() else ROOT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="the course folder (default: the current folder when it holds "
                             "nbgrader_config.py, else this code's)")
    parser.add_argument("--assignment", nargs="+", metavar="NAME",
                        help="grade these assignments (default: every one with a submission)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions graded at once (default: one per CPU core; with "
                             "--queue, submissions sent at once, default 64)")
    parser.add_argument("--queue", metavar="BROKER", nargs="?", const="", default=None,
                        help="grade on the workers of a Celery broker (course/queue.py): its "
                             "URL, without a password, or by default COURSE_BROKER_URL's")
    parser.add_argument("--shard", metavar="K/N", help="grade only the K-th of N shares")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run student code without its sandbox, with the grader's rights "
                             "(only for code you trust: it can read the references)")
    parser.add_argument("students", nargs="*", help="default: every folder in submitted/")
    args = parser.parse_args(argv)
    course = Course(args.root or default_root())
    warning = permissions_warning(course.root)
    if warning:
        print(warning, file=sys.stderr)
    try:
        known = assignments(course.root)
    except AssignmentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.assignment or ()) - set(known))
    if unknown:
        print(f"error: no assignment {', '.join(unknown)} in {course.root / 'source'} (there "
              f"are: {', '.join(known) or 'none'}). Fix: name one of them.", file=sys.stderr)
        return 2
    if args.queue is not None:  # the broker answers, and a worker: else no batch at all
        from course import queue

        try:
            args.queue = queue.broker_url(args.queue)
            queue.check(queue.make_app(args.queue), args.queue)
        except queue.QueueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    to_grade = classes(course.root, list(args.assignment or known), known, args.students)
    if args.shard:
        to_grade = {name: shard(students, args.shard) for name, students in to_grade.items()}
        to_grade = {name: students for name, students in to_grade.items() if students}
    if not to_grade:
        print("error: submitted/ has no submissions. Fix: collect them (`nbgrader collect "
              "ASSIGNMENT`, docs/instructor.md) or copy each to submitted/STUDENT/ASSIGNMENT/; "
              "`make demo` grades the sample submissions in a copy of the course.",
              file=sys.stderr)
        return 2
    missing = [name for name in to_grade if not assignment_in_gradebook(course, name)]
    if missing:
        print(f"error: the gradebook has no assignment {', '.join(missing)}. Fix: run `make "
              "release` (nbgrader generate_assignment records it) first.", file=sys.stderr)
        return 2
    if args.jobs is None:
        args.jobs = 64 if args.queue else os.cpu_count() or 1
    here = not (args.unsafe_no_sandbox or args.queue)  # student code runs on this machine
    problem = sandbox.unavailable() if here else None
    if problem:
        print(f"error: cannot sandbox student code: {problem} (or, for code you trust only: "
              "--unsafe-no-sandbox)", file=sys.stderr)
        return 2
    if here:  # a grader that cannot run a kernel grades nobody
        broken = [line for ok, line in sandbox.check(course.root) if not ok]
        if broken:
            print(f"error: the grader cannot run a submission: {broken[0]} "
                  "(`python -m course.sandbox check` says the same)", file=sys.stderr)
            return 2
    course.reports.mkdir(exist_ok=True)
    with Gradebook(course.db_url) as gradebook:  # before the workers (KeepHandGrades)
        KeepHandGrades.create_table(gradebook.db)
    if here:
        sandbox.sweep()  # what killed kernel launchers of earlier batches left
    failed, graded, total = False, 0, 0
    for name, students in to_grade.items():
        results = grade_assignment(course, known[name], students, max(1, args.jobs),
                                   args.unsafe_no_sandbox, args.queue)
        batch = results.batch
        failed = failed or bool(batch.course_files_changed or batch.processes_left)
        broken = broken_grader(results.submissions)
        if broken:
            print(f"error: {name}: {broken}", file=sys.stderr)
            return 2
        graded += sum(r.graded for r in results.submissions.values())
        total += len(students)
    if not graded:  # a run that graded nothing is a failure, whatever the reasons
        print(f"error: none of the {total} submissions was graded; each one's reason is in "
              "reports/ASSIGNMENT/grading_report.txt.", file=sys.stderr)
        failed = True
    log = course.reports / "export.log"
    log.write_text("")
    env = nbgrader_environment()
    if run_logged([*NBGRADER, "export", "--to", str(course.reports / "grades.csv")], log,
                  "nbgrader export", cwd=course.root, env=env) != 0:
        print(f"error: nbgrader export failed; see {log}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
