"""The local grader: a batch autograded on this machine by nbgrader, one course.grading.worker
process per job, each kernel in a boundary of its own (course/sandbox/)."""
import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from course import sandbox
from course.core import (DIED, FAILED, GRADED, REFUSED, SETTINGS, TIMED_OUT, Autograded,
                         SubmissionResult, nbgrader_environment)
from course.grading.intake import check_submission
from course.grading.parallel import graded_in_parallel

# nbgrader_config.py's kernel manager, replaced with --unsafe-no-sandbox
UNSAFE_KERNELS = ("--ExecuteWithHiddenTests.kernel_manager_class="
                  "jupyter_client.manager.AsyncKernelManager")


class Worker:
    """One job's course.grading.worker process, which autogrades submissions one after another
    with nbgrader's API; replaced after a submission that ran over its grader's
    `submission_seconds` or killed it."""

    def __init__(self, grader, number):
        self.grader, self.number, self.process = grader, number, None

    def start(self):
        grader = self.grader
        with open(grader.logs / f"worker-{self.number}.log", "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course.grading.worker", grader.assignment.name,
                 str(grader.logs), *grader.options],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                cwd=grader.course.root, env=grader.environment(), start_new_session=True)

    def autograde(self, student):
        """The Autograded of `nbgrader autograde` for `student`."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        try:
            self.process.stdin.write(student + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        if not select.select([self.process.stdout], [], [], self.grader.submission_seconds)[0]:
            self.stop()
            return Autograded(success=False, failure=TIMED_OUT)
        line = self.process.stdout.readline()
        if not line:  # the worker died
            self.stop()
            return Autograded(success=False, failure=DIED)
        answer = json.loads(line)
        return Autograded(success=answer["success"],
                          failure=None if answer["success"] else FAILED, error=answer["error"],
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


class LocalGrader:
    """One batch graded on this machine (a Grader): submissions of one assignment autograded in
    parallel by nbgrader (a course.grading.worker per job, each running the pipeline that
    nbgrader_config.py declares), each kernel in a boundary of its own (course/sandbox/) unless
    `unsafe`."""
    options = ()  # nbgrader options given to each worker process

    def __init__(self, course, assignment, jobs, unsafe=False):
        self.course, self.assignment, self.jobs, self.unsafe = course, assignment, jobs, unsafe
        if unsafe:
            self.options = (UNSAFE_KERNELS,)
        self.submission_seconds = SETTINGS.submission_seconds
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

    def isolation(self):
        """(what isolates each submission, for the batch's record, or None; the same as the
        line printed when the batch starts)."""
        if self.unsafe:
            return None, "NONE (--unsafe-no-sandbox): student code runs with the grader's rights"
        boundary = sandbox.describe()
        return boundary, f"one per submission: {boundary}"

    def environment(self):
        """The worker processes' environment: where the kernels' launchers record their
        boundaries (sandbox.RECORD), and each kernel's share of the cores."""
        return {**nbgrader_environment(), sandbox.RECORD: str(self.boundaries),
                "COURSE_SANDBOX_THREADS": str(self.threads)}

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
        record = SubmissionResult(student, self.assignment.name)
        refused = check_submission(self.assignment, student, self.course)
        if refused:
            record = dataclasses.replace(record, failure=REFUSED, problem=refused)
        else:
            record = self.graded(record, self.worker().autograde(student))
        return dataclasses.replace(record, seconds=round(time.perf_counter() - start, 2))

    def graded(self, record, result):
        """`record` with what nbgrader's autograde gave (an Autograded)."""
        see = f"see {(self.logs / f'{record.student}.log').relative_to(self.course.root)}"
        if result.success:  # its grades are in the gradebook, whatever became of its feedback
            feedback = (f"nbgrader generate_feedback failed: {result.feedback_error}; {see}"
                        if result.feedback_error else None)
            return dataclasses.replace(record, status=GRADED, feedback_problem=feedback)
        problem = {TIMED_OUT: f"nbgrader autograde ran over {self.submission_seconds} s",
                   DIED: "the grading process died"}.get(
            result.failure, f"nbgrader autograde failed: {result.error or 'no error given'}; {see}")
        return dataclasses.replace(record, failure=result.failure, error=result.error,
                                   problem=problem)

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

    def close(self):
        """After the batch: its scratch removed, and the scratch of kernels whose launcher
        nbgrader killed (sandbox.sweep)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        if not self.unsafe:
            sandbox.sweep()
