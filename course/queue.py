"""Grading on a task queue (Celery): a class graded by workers on other machines, or graded as
the students submit.

    python -m course.queue worker --broker URL --root COPY      # each grading machine, as root
    python -m course.grade --queue URL [...]                    # the course folder: a batch
    python -m course.queue watch ASSIGNMENT --broker URL [--release-feedback] [--per-day N]
    python -m course.queue copy COPY                            # a course copy for a worker

Why Celery (docs/grading.md): the graders are root processes (the sandbox), so nothing that
reaches them may carry code. A Celery message names a task registered here and carries JSON
arguments only: the assignment, the student id and the submission's files (base64); back come
the autograded folder's files and the grading record. (Dask and Ray ship pickled functions:
whoever reaches their port runs code as root.) The broker is Redis (Debian's redis-server; a
Unix socket, `redis+socket:///path/redis.sock`), which is also where results wait.

Each worker grades in a course copy of its own (`copy`: the course's code, source/, hidden/,
nbgrader_config.py, the data linked, the assignments generated into its own gradebook), one
submission at a time, by the path of a local run (course.grade's Grader: the submission check,
the sandboxed kernel, the hidden tests, its own feedback). The coordinator (course.grade --queue,
in the one course folder) checks each submission as a local run does, sends it, and writes what
comes back into that folder: autograded/, then the one gradebook, by nbgrader's own
SaveAutoGrades and the course's KeepHandGrades and late penalty (the last steps of the
autograde pipeline, on the autograded notebook: the same scores and comments), then the
feedback, made there from that gradebook (its hand grades and due dates are there, not on the
workers). Reports, progress lines and exit codes are course.grade's.

Delivery: a message is acknowledged when its task ends (acks_late), so a worker that dies
mid-task leaves its submission to another (at once when the task's process dies; after
`visibility` seconds when the whole machine does); each worker takes one task at a time
(prefetch 1); a task runs at most `time_limit` seconds (above the sandbox's). A task that ran
twice (redelivered while the first run was alive) is written once: the coordinator takes one
result per submission.
"""
import argparse
import base64
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from course import grade, sandbox
from course.assignments import assignments

TASK = "course.grade_submission"
ROOT_VARIABLE = "COURSE_WORKER_ROOT"  # the worker's course copy, for its task


def queue_name():
    """The broker's queue this course's tasks go to: COURSE_QUEUE_NAME, else course-grading
    (two courses, or two tests, on one broker use two names)."""
    return os.environ.get("COURSE_QUEUE_NAME") or "course-grading"


@dataclass(frozen=True)
class Delivery:
    """How long things may take; each overridable by COURSE_QUEUE_<NAME> (seconds)."""
    time_limit: int = grade.SUBMISSION_SECONDS + 300  # a task, then its process is killed
    visibility: int = grade.SUBMISSION_SECONDS + 900  # unacknowledged: back to the queue
    wait: int = 2 * (grade.SUBMISSION_SECONDS + 900)  # the coordinator, for one result

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
        # a message not acknowledged after `visibility` s goes back to the queue: looked for
        # every 10 s (kombu's default scans every 100 s)
        broker_transport_options={"visibility_timeout": delivery.visibility,
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": delivery.visibility},
        result_expires=7 * 24 * 3600, task_default_queue=queue_name(),
        worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
    app.task(name=TASK)(grade_submission)
    return app


# --- files as JSON ----------------------------------------------------------------------------
def pack(folder):
    """{relative path: base64} of the regular files under `folder` (nothing followed)."""
    found = {}
    for parent, folders, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(parent) / name
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(folder))] = base64.b64encode(
                    path.read_bytes()).decode("ascii")
    return found


def unpack(files, folder):
    """Write `files` ({relative path: base64}) into `folder` (new); a path that is absolute or
    climbs out (`..`) is refused with ValueError, before anything is written."""
    paths = {}
    for relative in files:
        parts = PurePosixPath(relative).parts
        if (not parts or PurePosixPath(relative).is_absolute()
                or any(part in ("", ".", "..") for part in parts)):
            raise ValueError(f"refused the path {relative!r}: not inside the folder")
        paths[relative] = Path(folder, *parts)
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for relative, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(files[relative]))


# --- the worker's side ------------------------------------------------------------------------
def grade_submission(assignment, student, files):
    """Grade one submission in this worker's course copy; the record, the autograded files and
    nbgrader's log (JSON)."""
    root = Path(os.environ[ROOT_VARIABLE])
    course = grade.Course(root)
    found = assignments(root).get(assignment)
    if found is None or not grade.safe_id(student):
        return {"record": {"status": "not graded", "killed": 0, "problem": (
            f"the worker's course copy has no assignment {assignment!r}" if found is None
            else "not a safe student id")}, "autograded": {}, "log": "", "worker": _me()}
    unpack(files, root / "submitted" / student / assignment)
    grader = grade.Grader(course, found, 1)
    try:
        record = grader.run([student])[student]
        left = grader.leftover_processes()
        sandbox.sweep()
    finally:
        shutil.rmtree(grader.scratch, ignore_errors=True)
    log = grader.logs / f"{student}.log"
    autograded = root / "autograded" / student / assignment
    return {"record": {**record, "processes_left": len(left)},
            "autograded": pack(autograded) if record["status"] == "graded" else {},
            "log": log.read_text() if log.exists() else "", "worker": _me()}


def _me():
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(broker, root, name=None):
    """Serve the queue as one worker of concurrency 1, grading in the course copy `root`."""
    root = Path(root).resolve()
    problem = sandbox.unavailable() or next(
        (line for ok, line in sandbox.check(root) if not ok), None)
    if problem:
        raise SystemExit(f"error: this worker cannot grade: {problem}")
    if not any(grade.assignment_in_gradebook(grade.Course(root), n) for n in assignments(root)):
        raise SystemExit(f"error: {root} has no assignment in its gradebook. Fix: `python -m "
                         f"course.queue copy {root}` makes a worker's course copy.")
    os.environ[ROOT_VARIABLE] = str(root)
    os.chdir(root)
    app = make_app(broker)
    app.worker_main(["worker", "--concurrency=1", "--pool=prefork", f"--queues={queue_name()}",
                     "--loglevel=INFO", "--without-gossip", "--without-mingle",
                     f"--hostname={name or 'grader'}@%h"])


# --- the coordinator's side -------------------------------------------------------------------
class QueueGrader:
    """A batch sent to the queue, with the interface course.grade uses of its local Grader:
    each submission checked here, graded by a worker, written into this course folder."""
    unsafe = False

    def __init__(self, course, assignment, jobs, broker):
        self.course, self.assignment, self.jobs = course, assignment, jobs
        self.app = make_app(broker)
        self.delivery = Delivery.from_environment()
        self.reports = course.reports / assignment.name
        self.logs = self.reports / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.digest = course.files_digest()
        self.scratch = Path(tempfile.mkdtemp(prefix="course-queue-"))
        self.lock = threading.Lock()
        self.killed, self.left, self.recorded = {}, 0, {}
        config = grade.nbgrader_config(course.root)
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.config, self.coursedir = config, CourseDirectory(config=config)
        self.api = NbGraderAPI(coursedir=self.coursedir, config=config)

    def grade(self, student):
        start = time.perf_counter()
        problem = grade.check_submission(self.assignment, student, self.course.root)
        record = {"student": student, "assignment": self.assignment.name,
                  "status": "not graded", "problem": problem, "killed": 0}
        if problem is None:
            files = pack(self.course.root / "submitted" / student / self.assignment.name)
            sent = self.app.send_task(TASK, args=[self.assignment.name, student, files],
                                      queue=queue_name())
            try:
                result = sent.get(timeout=self.delivery.wait, propagate=False)
            except Exception as error:  # a timeout, a broker gone: this submission not graded
                result = {"record": {"status": "not graded", "killed": 0,
                                     "problem": f"no result from the queue ({error})"}}
            if not isinstance(result, dict) or "record" not in result:
                result = {"record": {"status": "not graded", "killed": 0,
                                     "problem": f"the worker's task failed: {result!r:.200}"}}
            record.update({k: result["record"][k] for k in ("status", "problem", "killed",
                                                             "peak_memory_mib")
                           if k in result["record"]})
            self.left += result["record"].get("processes_left") or 0
            if record["status"] == "graded":
                try:
                    written = time.perf_counter()
                    self.write(student, result)
                    record["write_seconds"] = round(time.perf_counter() - written, 2)
                except Exception as error:  # noqa: BLE001 - one submission's, reported
                    record.update(status="not graded",
                                  problem=f"its result could not be written here ({error})")
            (self.logs / f"{student}.log").write_text(
                f"graded by {result.get('worker', 'no worker')}\n{result.get('log', '')}")
        record["seconds"] = round(time.perf_counter() - start, 2)
        return record

    def write(self, student, result):
        """The worker's autograded folder into this course, then the gradebook's grades and
        comments and the feedback, as nbgrader's autograde and generate_feedback would."""
        import nbformat
        from nbgrader.api import Gradebook
        from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

        from course.preprocessors import KeepHandGrades

        name = self.assignment.name
        folder = self.course.root / "autograded" / student / name
        with self.lock:  # one writer of the gradebook at a time
            unpack(result["autograded"], folder)
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
            if not made.get("success"):
                raise RuntimeError(f"generate_feedback failed: {made.get('error')}")
            self.recorded[student] = self.recorded.get(student, 0) + 1
        print(f"recorded {student}: {name} written into the course and the gradebook",
              flush=True)

    def run(self, students):
        records, done = {}, 0

        def task(student):
            nonlocal done
            record = self.grade(student)
            with self.lock:
                done += 1
                records[student] = record
                print(f"[{done}/{len(students)}] {self.assignment.name}: graded "
                      f"{grade.escape(student, 40):40s} {record['seconds']:5.1f} s  "
                      f"{grade.escape(record['problem'] or 'ok', 160)}", flush=True)

        with ThreadPoolExecutor(max(1, min(self.jobs, len(students)))) as pool:
            list(pool.map(task, students))
        return {student: records[student] for student in students}

    def kernels_killed(self):
        return {}

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


def watch(broker, assignment, root=None, exchange=None, per_day=None, release=False,
          interval=30.0, once=False):
    """Grade each new submission of `assignment` as it reaches the exchange: collected by the
    course's collect step (`nbgrader collect --update --student`), graded on the queue
    (course.grade --queue), its feedback released if `release`. A student's submissions past
    `per_day` in one day (UTC), and any after the due date, are left to the final grading
    (`nbgrader collect`, `make autograde` or `course.grade --queue` after the deadline: the last
    submission counts, as always). What was seen and done is kept in
    reports/ASSIGNMENT/watched.json, so a restarted watcher goes on where it stopped."""
    from nbgrader.api import Gradebook

    from course.term import Term, TermError

    course = grade.Course(root or grade.default_root())
    term = Term(course, exchange)
    inbound = exchange_inbound(course, exchange)
    state = course.reports / assignment / "watched.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    seen = json.loads(state.read_text()) if state.exists() else {}
    print(f"watching {inbound} for {assignment}"
          + (f", at most {per_day} a day per student" if per_day else "")
          + (", releasing feedback" if release else ""), flush=True)
    while True:
        with Gradebook(course.db_url) as gradebook:
            due = gradebook.find_assignment(assignment).duedate
        entries = sorted((e for e in inbound.glob(f"*+{assignment}+*") if e.name not in seen),
                         key=lambda e: e.lstat().st_ctime) if inbound.is_dir() else []
        newest = {e.name.split("+")[0]: e.name for e in entries}  # a student's last one
        for entry in entries:
            student = entry.name.split("+")[0]
            when = datetime.datetime.fromtimestamp(entry.lstat().st_ctime,
                                                   datetime.timezone.utc).replace(tzinfo=None)
            today = sum(1 for record in seen.values() if record["student"] == student
                        and record["outcome"] == "graded" and record["at"][:10] == f"{when:%F}")
            if newest[student] != entry.name:
                outcome = "superseded by a later submission"
            elif due is not None and when > due:
                outcome = "after the due date: left to the final grading"
            elif per_day and today >= per_day:
                outcome = (f"over the limit of {per_day} a day: left to the final grading "
                           "(the last submission counts)")
            elif not grade.safe_id(student):
                outcome = "not a safe student id: left to the final grading, which reports it"
            else:
                try:
                    term.nbgrader("collect", assignment, f"--student={student}", "--update")
                    code = subprocess.run(
                        [sys.executable, "-m", "course.grade", "--root", str(course.root),
                         "--queue", broker, student, "--assignment", assignment],
                        cwd=course.root, capture_output=True, text=True).returncode
                    if code != 0:
                        raise TermError(f"course.grade exited {code}; see reports/"
                                        f"{assignment}/grading_report.txt")
                    if release:
                        term.nbgrader("release_feedback", assignment, f"--student={student}")
                    outcome = "graded" + (", feedback released" if release else "")
                except TermError as error:
                    outcome = f"not graded: {error}"
            seen[entry.name] = {"student": student, "at": when.isoformat(),
                                "outcome": outcome.split(",")[0]}
            partial = state.with_name(state.name + ".partial")
            partial.write_text(json.dumps(seen, indent=1) + "\n")
            partial.replace(state)
            print(f"{grade.escape(entry.name, 120)}: {outcome}", flush=True)
        if once:
            return seen
        time.sleep(interval)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="grade from the queue (as root)")
    worker.add_argument("--broker", required=True, help="e.g. redis+socket:///run/redis.sock")
    worker.add_argument("--root", type=Path, required=True, help="this worker's course copy")
    worker.add_argument("--name", default=None, help="the worker's name in the logs")
    copy = commands.add_parser("copy", help="make a course copy for a worker")
    copy.add_argument("folder", type=Path)
    watching = commands.add_parser("watch", help="grade each submission as it arrives")
    watching.add_argument("assignment")
    watching.add_argument("--broker", required=True)
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
    if args.command == "worker":
        run_worker(args.broker, args.root, args.name)
    elif args.command == "watch":
        watch(args.broker, args.assignment, args.root, args.exchange, args.per_day,
              args.release_feedback, args.interval, args.once)
    else:
        from course.demo import copy_course

        copy_course(args.folder)
        print(f"{args.folder}: a worker's course copy, every assignment generated "
              f"({datetime.date.today()}); start it with `python -m course.queue worker "
              f"--broker URL --root {args.folder}`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
