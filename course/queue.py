"""Grading on a task queue (Celery): a class graded by workers on other machines, or graded as
the students submit.

    python -m course.queue copy COPY                            # a course copy for a worker
    python -m course.queue worker --root COPY                   # each grading machine, as root
    python -m course.grade --queue [...]                        # the course folder: a batch
    python -m course.queue watch ASSIGNMENT [--release-feedback] [--per-day N]

The broker's URL comes from COURSE_BROKER_URL (`redis+socket:///run/course/redis.sock`, or
`redis://:PASSWORD@host:6379/0`): a command line is readable by every account of the machine
(`ps`), so a URL with a password is refused there. Whoever can reach the broker reads every
queued submission and result and can forge a result: keep it on a root-only Unix socket, or a
password and a network only the grading machines reach (docs/grading.md).

Why Celery (docs/grading.md): the graders are root processes (the sandbox), so nothing that
reaches them may carry code. A Celery message names a task registered here and carries JSON
arguments only: the assignment, the student id, the submission's files (base64) and a digest of
the coordinator's grading files; back come the autograded folder's files and the grading record.
(Dask and Ray ship pickled functions: whoever reaches their port runs code as root.)

Each worker grades in a course copy of its own (`copy`: the course's code, source/, hidden/,
nbgrader_config.py, the data linked, the assignments generated into its own SQLite gradebook),
one submission at a time, by the path of a local run (course.grade's Grader: the submission
check, the sandboxed kernel, the hidden tests), and refuses a task whose grading files (source/,
hidden/, course/, nbgrader_config.py) differ from the coordinator's: an old copy never grades
with old tests. The coordinator (course.grade --queue, in the one course folder) checks each
submission as a local run does, sends it, and writes what comes back into that folder:
autograded/ (swapped in whole), then the one gradebook, by nbgrader's own SaveAutoGrades and the
course's KeepHandGrades and late penalty (the last steps of the autograde pipeline, on the
autograded notebook: the same scores and comments), then the feedback, made there from that
gradebook (its hand grades and due dates are there, not on the workers). Reports, progress lines
and exit codes are course.grade's.

Delivery: a message is acknowledged when its task ends (acks_late), so a worker that dies
mid-task leaves its submission to another (at once when the task's process dies; after
`visibility` seconds when the whole machine does); each worker takes one task at a time
(prefetch 1); a task runs at most `time_limit` seconds (above the sandbox's; its grading
processes are stopped a minute before). A task that ran twice (redelivered while the first run
was alive) is written once: the coordinator takes one result per submission, then deletes it
from the broker.
"""
import argparse
import base64
import dataclasses
import datetime
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from course import grade, hub, sandbox, status
from course.assignments import assignments
from course.records import NOT_GRADED, SubmissionResult

TASK = "course.grade_submission"
ROOT_VARIABLE = "COURSE_WORKER_ROOT"  # the worker's course copy, for its task
BROKER_VARIABLE = "COURSE_BROKER_URL"
COPY_MARKER = ".course-worker-copy"  # in a folder `copy` made (and may make again)


class QueueError(Exception):
    """The queue cannot be used as asked; the message says why and the fix."""


def queue_name():
    """The broker's queue this course's tasks go to: COURSE_QUEUE_NAME, else course-grading
    (two courses, or two tests, on one broker use two names)."""
    return os.environ.get("COURSE_QUEUE_NAME") or "course-grading"


def broker_url(given=None):
    """The broker's URL: `given` (from a command line: refused with a password in it), else
    COURSE_BROKER_URL."""
    from kombu.utils.url import url_to_parts

    if given:
        if url_to_parts(given).password:
            raise QueueError(f"the broker URL {shown(given)} holds a password, and every account "
                             "of this machine can read a command line. Fix: give it in "
                             f"{BROKER_VARIABLE} instead.")
        return given
    if not os.environ.get(BROKER_VARIABLE):
        raise QueueError(f"no broker: {BROKER_VARIABLE} is not set. Fix: set it to the broker's "
                         "URL, e.g. redis+socket:///run/course/redis.sock (docs/grading.md).")
    return os.environ[BROKER_VARIABLE]


def shown(url):
    """The URL as it may be printed: its password masked."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


@dataclass(frozen=True)
class Delivery:
    """How long things may take; each overridable by COURSE_QUEUE_<NAME> (seconds)."""
    time_limit: int = field(default=grade.SUBMISSION_SECONDS + 300, metadata={
        "help": "wall time of one task (a submission's grading and its packing), then its "
                "process is killed; above submission_seconds, which stops the grading first"})
    visibility: int = field(default=grade.SUBMISSION_SECONDS + 900, metadata={
        "help": "a task not acknowledged after this long (its worker's machine gone) goes back "
                "to the queue for another worker"})

    def described(self):
        return sandbox.described(self, "COURSE_QUEUE_")

    @property
    def wait(self):
        """How long the coordinator waits for one result: a redelivery, then the task again."""
        return self.visibility + self.time_limit

    @classmethod
    def from_environment(cls):
        return cls(**{name: int(os.environ[f"COURSE_QUEUE_{name.upper()}"])
                      for name in cls.__dataclass_fields__
                      if os.environ.get(f"COURSE_QUEUE_{name.upper()}")})


def make_app(broker, delivery=None):
    """The Celery application on `broker`, with the course's task registered."""
    from celery import Celery

    delivery = delivery or Delivery.from_environment()
    app = Celery("course", broker=broker, backend=broker)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"], task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1, task_time_limit=delivery.time_limit,
        task_soft_time_limit=delivery.time_limit - 60,
        # a message not acknowledged after `visibility` s goes back to the queue: looked for
        # every 10 s (kombu's default scans every 100 s)
        broker_transport_options={"visibility_timeout": delivery.visibility,
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": delivery.visibility},
        result_expires=24 * 3600, task_default_queue=queue_name(),
        worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
    app.task(name=TASK)(grade_submission)
    return app


def check(app, broker):
    """QueueError unless the broker answers and at least one worker of this queue does."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
        answers = app.control.ping(timeout=5)
    except Exception as error:  # kombu and redis raise many kinds
        raise QueueError(f"the broker {shown(broker)} does not answer ({error}). Fix: start it "
                         "(docs/grading.md), or check COURSE_BROKER_URL.") from None
    if not answers:
        raise QueueError(f"no worker answers on {shown(broker)}. Fix: start at least one "
                         "(`python -m course.queue worker --root COPY`, as root) on the queue "
                         f"{queue_name()}.")


def grading_digest(root, assignment):
    """SHA-256 of the files that decide a grade: the assignment's source/ and hidden/ folders,
    course/ and nbgrader_config.py (what a worker's copy must hold the same of)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in (root / "source" / assignment, root / "hidden" / assignment, root / "course",
                 root / "nbgrader_config.py"):
        for file in grade.files_under(path):
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


# --- files as JSON ----------------------------------------------------------------------------
def pack(folder):
    """{relative path: base64} of the regular files under `folder` (nothing followed)."""
    found = {}
    for parent, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(parent) / name
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(folder))] = base64.b64encode(
                    path.read_bytes()).decode("ascii")
    return found


def unpack(files, folder):
    """Write `files` ({relative path: base64}) as the folder `folder`, which they replace
    whole, or not at all: written beside it first. A path that is absolute or climbs out (`..`)
    is refused with ValueError before anything is written."""
    paths = {}
    for relative in files:
        parts = PurePosixPath(relative).parts
        if (not parts or PurePosixPath(relative).is_absolute()
                or any(part in ("", ".", "..") for part in parts)):
            raise ValueError(f"refused the path {relative!r}: not inside the folder")
        paths[relative] = parts
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for relative, parts in paths.items():
            path = partial.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(files[relative]))
        os.chmod(partial, 0o755)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


# --- the worker's side ------------------------------------------------------------------------
def grade_submission(assignment, student, files, digest):
    """Grade one submission in this worker's course copy; the record, the autograded files and
    nbgrader's log (JSON)."""
    root = Path(os.environ[ROOT_VARIABLE])
    course = grade.Course(root)
    found = assignments(root).get(assignment)
    problem = (f"the worker's course copy has no assignment {assignment!r}" if found is None
               else "not a safe student id" if not grade.safe_id(student)
               else f"the worker's course copy ({_me()}) differs from the coordinator's "
                    "(source/, hidden/, course/ or nbgrader_config.py). Fix: make it again "
                    "(`python -m course.queue copy`) from the course as it is now"
               if grading_digest(root, assignment) != digest else None)
    if problem:
        return {"record": SubmissionResult(student, assignment, NOT_GRADED, problem).to_json(),
                "autograded": {}, "log": "", "worker": _me()}
    unpack(files, course.path("submitted", student, assignment))
    grader = grade.Grader(course, found, 1)
    try:
        record = grader.run([student])[student]  # stops its grading process, however it ends
        left = grader.leftover_processes()
        sandbox.sweep()
    finally:
        shutil.rmtree(grader.scratch, ignore_errors=True)
    log = grader.logs / f"{student}.log"
    autograded = course.path("autograded", student, assignment)
    return {"record": dataclasses.replace(record, processes_left=len(left)).to_json(),
            "autograded": pack(autograded) if record.graded else {},
            "log": log.read_text() if log.exists() else "", "worker": _me()}


def _me():
    return f"{socket.gethostname()}:{os.getpid()}"


def own_gradebook(root):
    """The worker copy's gradebook, a file of its own: the central one is the coordinator's."""
    os.environ.pop("COURSE_DB_URL", None)  # nbgrader_config.py would take it
    url = grade.Course(root).db_url
    if url != f"sqlite:///{Path(root) / 'gradebook.db'}":
        raise QueueError(f"{root}'s gradebook is {shown(url)}, not its own gradebook.db. Fix: "
                         "a worker's copy keeps its own (`python -m course.queue copy`).")
    return url


def make_copy(folder):
    """A worker's course copy in `folder`: a new folder, or one this made before."""
    folder = Path(folder).resolve()
    if folder == grade.ROOT.resolve() or (folder / "submitted").is_dir() and not (
            folder / COPY_MARKER).exists():
        raise QueueError(f"{folder} is a course folder. Fix: name a new folder for the copy.")
    if folder.exists() and any(folder.iterdir()) and not (folder / COPY_MARKER).exists():
        raise QueueError(f"{folder} exists and is not a worker's copy. Fix: name a new folder.")
    from course.demo import copy_course

    copy_course(folder, environment={"COURSE_DB_URL": ""})  # its own gradebook.db
    (folder / COPY_MARKER).write_text(f"made {datetime.date.today()} by course.queue copy\n")
    own_gradebook(folder)
    return folder


def run_worker(broker, root, name=None):
    """Serve the queue as one worker of concurrency 1, grading in the course copy `root`."""
    root = Path(root).resolve()
    own_gradebook(root)
    problem = sandbox.unavailable() or next(
        (line for ok, line in sandbox.check(root) if not ok), None)
    if problem:
        raise QueueError(f"this worker cannot grade: {problem}")
    if not any(grade.assignment_in_gradebook(grade.Course(root), n) for n in assignments(root)):
        raise QueueError(f"{root} has no assignment in its gradebook. Fix: `python -m "
                         f"course.queue copy {root}` makes a worker's course copy.")
    os.environ[ROOT_VARIABLE] = str(root)
    os.chdir(root)
    make_app(broker).worker_main([
        "worker", "--concurrency=1", "--pool=prefork", f"--queues={queue_name()}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle",
        f"--hostname={name or 'grader'}@%h"])


# --- the coordinator's side -------------------------------------------------------------------
class QueueGrader:
    """A batch sent to the queue, with the interface course.grade uses of its local Grader:
    each submission checked here, graded by a worker, written into this course folder."""
    unsafe = False

    def __init__(self, course, assignment, jobs, broker):
        from nbgrader.apps import NbGraderAPI

        self.course, self.assignment, self.jobs = course, assignment, jobs
        self.app = make_app(broker)
        self.delivery = Delivery.from_environment()
        self.reports = course.reports / assignment.name
        self.logs = self.reports / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.digest = course.files_digest()
        self.grading = grading_digest(course.root, assignment.name)
        self.scratch = Path(tempfile.mkdtemp(prefix="course-queue-"))
        self.lock = threading.Lock()
        self.left, self.recorded = 0, {}
        self.config, self.coursedir = course.config, course.coursedir  # nbgrader's, of the course
        self.api = NbGraderAPI(coursedir=self.coursedir, config=self.config)

    def grade(self, student):
        """One submission graded on the queue and written here: its SubmissionResult (without
        scores: the batch reads them from the gradebook)."""
        start = time.perf_counter()
        problem = grade.check_submission(self.assignment, student, self.course)
        record = SubmissionResult(student, self.assignment.name, NOT_GRADED, problem)
        if problem is None:
            result = self.send(student)
            worker = SubmissionResult.from_json({**result["record"], "student": student,
                                                 "assignment": self.assignment.name})
            record = dataclasses.replace(record, status=worker.status, problem=worker.problem,
                                         killed=worker.killed,
                                         peak_memory_mib=worker.peak_memory_mib,
                                         feedback_problem=worker.feedback_problem)
            with self.lock:
                self.left += worker.processes_left or 0
            if record.graded:
                try:
                    written = time.perf_counter()
                    feedback = self.write(student, result)
                    record = dataclasses.replace(
                        record, write_seconds=round(time.perf_counter() - written, 2),
                        feedback_problem=feedback)
                except Exception as error:  # noqa: BLE001 - one submission's, reported
                    record = dataclasses.replace(
                        record, status=NOT_GRADED,
                        problem=f"its result could not be written here ({error})")
            (self.logs / f"{student}.log").write_text(
                f"graded by {result.get('worker', 'no worker')}\n{result.get('log', '')}")
        return dataclasses.replace(record, seconds=round(time.perf_counter() - start, 2))

    def send(self, student):
        """The worker's result for one submission, or a record saying why there is none."""
        files = pack(self.course.path("submitted", student, self.assignment.name))
        try:
            sent = self.app.send_task(TASK, queue=queue_name(), args=[
                self.assignment.name, student, files, self.grading])
            try:
                result = sent.get(timeout=self.delivery.wait, propagate=False)
            finally:
                sent.forget()  # the result (a whole notebook) leaves the broker once read
        except Exception as error:  # a timeout, a broker gone: this submission not graded
            result = f"no result from the queue ({type(error).__name__}: {error})"
        if not isinstance(result, dict) or not isinstance(result.get("record"), dict):
            return {"record": {"status": NOT_GRADED,
                               "problem": f"the worker's task failed: {result!s:.200}"}}
        return result

    def write(self, student, result):
        """The worker's autograded folder into this course, then the gradebook's grades and
        comments and the feedback, as nbgrader's autograde and generate_feedback would; why no
        feedback page could be made, or None (the grades are written either way)."""
        import nbformat
        from nbgrader.api import Gradebook
        from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

        from course.preprocessors import KeepHandGrades

        name = self.assignment.name
        folder = self.course.path("autograded", student, name)
        with self.lock:  # one writer of the gradebook at a time
            unpack(result["autograded"], folder)
            hub.open_to_team(folder.parent)  # the teaching team's too, where it is shared
            path = folder / self.assignment.notebook
            notebook = nbformat.read(path, as_version=4)
            timestamp = self.coursedir.get_existing_timestamp(str(folder))
            with Gradebook(self.course.db_url) as gradebook:
                gradebook.update_or_create_student(student)
                gradebook.update_or_create_submission(
                    name, student, **({"timestamp": timestamp} if timestamp else {}))
            resources = {"nbgrader": {"student": student, "assignment": name,
                                      "notebook": self.assignment.stem,
                                      "db_url": self.course.db_url}}
            for step in (SaveAutoGrades, KeepHandGrades, AssignLatePenalties):
                notebook, resources = step(config=self.config).preprocess(notebook, resources)
            nbformat.write(notebook, path)
            made = self.api.generate_feedback(name, student, force=True)
            self.recorded[student] = self.recorded.get(student, 0) + 1
        print(f"recorded {student}: {name} written into the course and the gradebook",
              flush=True)
        if made.get("success"):
            return None
        error = (made.get("error") or "").strip().splitlines()
        return f"nbgrader generate_feedback failed: {error[-1] if error else 'no error given'}"

    def run(self, students):
        return grade.graded_in_parallel(self.grade, self.assignment.name, students, self.jobs)

    def leftover_processes(self):
        return [None] * self.left  # counted on the workers


# --- grading as they submit -------------------------------------------------------------------
def exchange_inbound(course, exchange=None):
    """The exchange's inbound folder of this course, as nbgrader's configuration names it."""
    from nbgrader.exchange.default.exchange import Exchange

    config = grade.nbgrader_config(course.root)
    root = exchange or config.get("Exchange", {}).get("root") or Exchange.root.default_value
    course_id = config.get("CourseDirectory", {}).get("course_id") or ""
    return Path(root) / course_id / "inbound"


def inbound_entries(inbound, assignment, seen):
    """[(entry, student, time it reached the exchange)] of the new inbound entries of
    `assignment`, oldest first; names parsed as nbgrader's collect does (STUDENT+ASSIGNMENT+
    TIME[+RANDOM], split from the right)."""
    found = []
    for entry in inbound.iterdir() if inbound.is_dir() else []:
        parts = entry.name.rsplit("+", 3)
        if entry.name in seen or len(parts) < 3 or parts[1] != assignment:
            continue
        try:
            when = entry.lstat().st_ctime
        except OSError:  # removed meanwhile
            continue
        found.append((entry, parts[0], datetime.datetime.fromtimestamp(
            when, datetime.UTC).replace(tzinfo=None)))
    return sorted(found, key=lambda item: item[2])


def watch(broker, assignment, root=None, exchange=None, per_day=None, release=False,
          interval=30.0, once=False):
    """Grade each new submission of `assignment` as it reaches the exchange: collected by the
    course's collect step (`nbgrader collect --update --student`), graded on the queue
    (course.grade --queue), its feedback released if `release`. An entry not owned by the
    student it names is refused (SafeCollect's own check); a student's submissions past
    `per_day` in one day (UTC), an older one that a newer one supersedes in the same look, and
    any after the student's due date (their extension included) are left to the final grading
    (`nbgrader collect`, then `make autograde` or `course.grade --queue`: the last submission
    counts, as always). With `release`, the student's Fetch Feedback brings what became of each
    submission (course/status.py): the feedback page with the graded attempts left today at its
    top, or a page saying why it was not graded now and what happens to it. What was seen and
    done is kept in reports/ASSIGNMENT/watched.json, so a restarted watcher goes on where it
    stopped; a failure of the queue or the grader is not kept, and is tried again at the next
    look."""
    from nbgrader.api import Gradebook, MissingEntry

    from course.exchange import RefusedEntry, inspect
    from course.term import Term, TermError, collect_latest

    course = grade.Course(root or grade.default_root())
    term = Term(course, exchange)
    inbound = exchange_inbound(course, exchange)
    state = course.reports / assignment / "watched.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        seen = json.loads(state.read_text()) if state.exists() else {}
        with Gradebook(course.db_url) as gradebook:
            gradebook.find_assignment(assignment)
    except (ValueError, MissingEntry) as error:
        raise QueueError(f"cannot watch {assignment}: {error or 'not in the gradebook'}. Fix: "
                         f"`make release`, or remove a damaged {state}.") from None
    print(f"watching {inbound} for {assignment}"
          + (f", at most {per_day} a day per student" if per_day else "")
          + (", releasing feedback" if release else ""), flush=True)
    environment = {**os.environ, BROKER_VARIABLE: broker}
    while True:
        entries = inbound_entries(inbound, assignment, seen)
        newest = {student: entry.name for entry, student, _ in entries}
        for entry, student, when in entries:
            with Gradebook(course.db_url) as gradebook:
                try:
                    due = gradebook.find_submission(assignment, student).duedate
                except MissingEntry:
                    due = gradebook.find_assignment(assignment).duedate
            today = sum(1 for record in seen.values() if record["student"] == student
                        and record["outcome"] == "graded" and record["at"][:10] == f"{when:%F}")
            keep, told = True, None  # told: (title, explanation) of the student's page
            if newest[student] != entry.name:
                outcome = "superseded by a later submission"
                told = ("not graded: a later submission replaced it", "A later submission of "
                        "yours arrived before this one was graded: that one is graded instead.")
            elif due is not None and when > due:
                outcome = "after the due date: left to the final grading"
                told = ("after your due date", f"It arrived after your due date "
                        f"({due:%Y-%m-%d %H:%M} UTC): it is not graded now, and the final "
                        "grading grades your last submission, with the course's late policy.")
            elif per_day and today >= per_day:
                outcome = (f"over the limit of {per_day} a day: left to the final grading "
                           "(the last submission counts)")
                told = ("not graded now: today's graded attempts are used", "It is kept: the "
                        "final grading, after the due date, grades your last submission.")
            elif not grade.safe_id(student):
                outcome = "not a safe student id: left to the final grading, which reports it"
            else:
                try:
                    inspect(entry, pwd.getpwnam(student).pw_uid)  # SafeCollect's own check
                    collect_latest(term, assignment, student)
                    code = subprocess.run(
                        [sys.executable, "-m", "course.grade", "--root", str(course.root),
                         "--queue", "--assignment", assignment, "--", student], cwd=course.root,
                        env=environment, capture_output=True, text=True).returncode
                    if code != 0:
                        keep = code != 2  # 2: the queue or the grader, not this submission
                        raise TermError(f"course.grade exited {code}; see reports/"
                                        f"{assignment}/grading_report.txt")
                    if release:
                        _add_attempts(course, assignment, student, when,
                                      status.attempts_left(per_day, today + 1))
                        term.nbgrader("release_feedback", assignment, f"--student={student}")
                    outcome = "graded" + (", feedback released" if release else "")
                except (RefusedEntry, KeyError, OSError) as error:
                    outcome = f"refused: {error}"
                    told = ("refused", f"It was refused: {error}. Nothing of it was graded: "
                            "submit again from the Assignments tab.")
                except TermError as error:
                    outcome = f"not graded: {error}"
                    told = ("not graded: the grader failed", "The grader could not grade it "
                            "(the course's staff see why in the grading report). Nothing is "
                            "lost: the final grading grades your last submission.")
            if release and keep and told:
                outcome += _tell(course, inbound, entry, student, assignment, when, told,
                                 status.attempts_left(per_day, today))
            print(f"{grade.escape(entry.name, 120)}: {outcome}", flush=True)
            if not keep:
                continue
            seen[entry.name] = {"student": student, "at": when.isoformat(),
                                "outcome": outcome.split(",")[0]}
            partial = state.with_name(state.name + ".partial")
            partial.write_text(json.dumps(seen, indent=1) + "\n")
            partial.replace(state)
        if once:
            return seen
        time.sleep(interval)


def _add_attempts(course, assignment, student, when, attempts):
    """The attempts line at the top of the student's feedback page(s), before release."""
    for page in (course.root / "feedback" / student / assignment).glob("*.html"):
        page.write_text(status.with_attempts(page.read_text(), when, attempts))


def _tell(course, inbound, entry, student, assignment, when, told, attempts):
    """Put the page saying what became of `entry` where its student's Fetch Feedback finds it;
    what to add to the watcher's line."""
    try:
        secret = status.read_secret(entry, pwd.getpwnam(student).pw_uid)
        stem = assignments(course.root)[assignment].stem
        page = status.status_page(assignment, when, *told, attempts)
        status.release(inbound.parent / "feedback", course.root, secret, [stem], page)
    except (status.StatusError, KeyError, OSError) as error:
        return f" (no page for the student: {grade.escape(error, 200)})"
    return ", the student told why"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="grade from the queue (as root)")
    worker.add_argument("--broker", default=None,
                        help=f"the broker's URL without a password (default: {BROKER_VARIABLE})")
    worker.add_argument("--root", type=Path, required=True, help="this worker's course copy")
    worker.add_argument("--name", default=None, help="the worker's name in the logs")
    copy = commands.add_parser("copy", help="make a course copy for a worker")
    copy.add_argument("folder", type=Path)
    watching = commands.add_parser("watch", help="grade each submission as it arrives")
    watching.add_argument("assignment")
    watching.add_argument("--broker", default=None,
                          help=f"the broker's URL without a password (default: {BROKER_VARIABLE})")
    watching.add_argument("--root", type=Path, default=None, help="the course folder")
    watching.add_argument("--exchange", type=Path, default=None,
                          help="nbgrader's exchange folder (default: its configuration)")
    watching.add_argument("--per-day", type=int, default=None,
                          help="submissions graded per student and day (default: all)")
    watching.add_argument("--release-feedback", action="store_true",
                          help="release each student's feedback as soon as it is made")
    watching.add_argument("--interval", type=float, default=30.0, help="seconds between looks")
    watching.add_argument("--once", action="store_true", help="look once, then stop")
    args = parser.parse_args(argv)
    try:
        if args.command == "copy":
            folder = make_copy(args.folder)
            print(f"{folder}: a worker's course copy, every assignment generated into its own "
                  f"gradebook; start it with `python -m course.queue worker --root {folder}`")
        elif args.command == "worker":
            run_worker(broker_url(args.broker), args.root, args.name)
        else:
            watch(broker_url(args.broker), args.assignment, args.root,
                  args.exchange.resolve() if args.exchange else None, args.per_day,
                  args.release_feedback, args.interval, args.once)
    except QueueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
