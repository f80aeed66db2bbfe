"""The worker's side: a worker's course copy, and the task it runs for each submission, the one
step of nbgrader's autograde pipeline that runs student code (ExecuteWithHiddenTests), in a
sandbox of this machine (course/queue/execute.py)."""
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from course import ROOT, sandbox
from course.core import SETTINGS, Course, assignments, copy_course, nbgrader_environment, safe_id
from course.grading import assignment_in_gradebook
from course.queue.app import TASK, QueueError, make_app, queue_name, shown
from course.queue.transfer import grading_digest, unpack

ROOT_VARIABLE = "COURSE_WORKER_ROOT"  # the worker's course copy, for its task
COPY_MARKER = ".course-worker-copy"  # in a folder `copy` made (and may make again)
LOG_CHARACTERS = 20_000  # of the step's log, sent back (its kernels' output never reaches it)


def run_submission(assignment, student, notebook, files, digest):
    """Run ExecuteWithHiddenTests on one submission's notebook (nbformat's JSON, as the
    coordinator's pipeline has it at that step) in this worker's course copy, its autograded
    folder made of `files` ({path: base64}, the folder as it is there); the JSON answer:
    {"notebook": the notebook as the step leaves it, or None; "error": {"kind", "message"} of
    what stopped it, or None; "boundaries": what its kernels' boundaries recorded;
    "processes_left": its sandbox's processes left after it; "worker"; "log"}."""
    root = Path(os.environ[ROOT_VARIABLE])
    course = Course(root)
    problem = (f"the worker's course copy has no assignment {assignment!r}"
               if assignment not in assignments(root)
               else "not a safe student id" if not safe_id(student)
               else f"the worker's course copy ({_me()}) differs from the coordinator's "
                    "(source/, hidden/, course/ or nbgrader_config.py). Fix: make it again "
                    "(`python -m course.queue copy`) from the course as it is now"
               if grading_digest(root, assignment) != digest else None)
    answer = {"notebook": None, "boundaries": [], "processes_left": 0, "worker": _me(), "log": ""}
    if problem:
        return {**answer, "error": {"kind": "QueueError", "message": problem}}
    unpack(files, course.path("autograded", student, assignment))
    # root only (0700), named by this process (sandbox.sweep_runtime_folders)
    scratch = Path(tempfile.mkdtemp(prefix=f"{sandbox.GRADING_PREFIX}{os.getpid()}-"))
    try:
        answer.update(_execute(root, assignment, student, notebook, scratch))
        record = scratch / "boundaries.jsonl"
        boundaries = ([json.loads(line) for line in record.read_text().splitlines()]
                      if record.exists() else [])
        left = sandbox.leftover_processes({entry["uid"] for entry in boundaries})
        sandbox.sweep()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {**answer, "boundaries": [{"killed": entry["killed"],
                                      "peak_memory": entry.get("peak_memory")}
                                     for entry in boundaries],
            "processes_left": sum(len(pids) for pids in left.values())}


def _execute(root, assignment, student, notebook, scratch):
    """{"notebook", "error", "log"} of `python -m course.queue.execute` run on `notebook`,
    stopped after Settings.submission_seconds."""
    log = scratch / "execute.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "course.queue.execute", assignment, student],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, cwd=root, text=True,
            env={**nbgrader_environment(), sandbox.RECORD: str(scratch / "boundaries.jsonl"),
                 "COURSE_SANDBOX_THREADS": str(os.cpu_count() or 1)},
            start_new_session=True)
        try:
            printed = process.communicate(json.dumps(notebook),
                                          timeout=SETTINGS.submission_seconds)[0]
            answer = json.loads(printed) if printed.strip() else {
                "error": {"kind": "WorkerError", "message": "the grading process died "
                          f"(exit {process.returncode})"}}
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            answer = {"error": {"kind": "TimeoutError", "message": "the notebook ran over "
                                f"{SETTINGS.submission_seconds} s"}}
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            sandbox.sweep_runtime_folders()  # its kernel's, where it was killed
    text = log.read_text(errors="replace")
    return {"notebook": answer.get("notebook"), "error": answer.get("error"),
            "log": text[-LOG_CHARACTERS:]}


def _me():
    return f"{socket.gethostname()}:{os.getpid()}"


def own_gradebook(root):
    """The worker copy's gradebook, a file of its own: the central one is the coordinator's."""
    os.environ.pop("COURSE_DB_URL", None)  # nbgrader_config.py would take it
    url = Course(root).db_url
    if url != f"sqlite:///{Path(root) / 'gradebook.db'}":
        raise QueueError(f"{root}'s gradebook is {shown(url)}, not its own gradebook.db. Fix: "
                         "a worker's copy keeps its own (`python -m course.queue copy`).")
    return url


def make_copy(folder):
    """A worker's course copy in `folder`: a new folder, or one this made before."""
    folder = Path(folder).resolve()
    if folder == ROOT.resolve() or (folder / "submitted").is_dir() and not (
            folder / COPY_MARKER).exists():
        raise QueueError(f"{folder} is a course folder. Fix: name a new folder for the copy.")
    if folder.exists() and any(folder.iterdir()) and not (folder / COPY_MARKER).exists():
        raise QueueError(f"{folder} exists and is not a worker's copy. Fix: name a new folder.")

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
    if not any(assignment_in_gradebook(Course(root), n) for n in assignments(root)):
        raise QueueError(f"{root} has no assignment in its gradebook. Fix: `python -m "
                         f"course.queue copy {root}` makes a worker's course copy.")
    os.environ[ROOT_VARIABLE] = str(root)
    os.chdir(root)
    app = make_app(broker)
    app.task(name=TASK)(run_submission)
    app.worker_main([
        "worker", "--concurrency=1", "--pool=prefork", f"--queues={queue_name()}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle",
        f"--hostname={name or 'grader'}@%h"])
