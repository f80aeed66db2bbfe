"""The coordinator's side (`python -m course.grade --queue`): a batch graded here, in the one
course folder, by nbgrader's autograde and generate_feedback as nbgrader_config.py declares them,
once per submission, as a local batch is (course/grading/local.py); only the step that runs the
student's code, ExecuteWithHiddenTests, is sent to the queue (`run_on_worker`, which that step
calls when its `executor` names it), and a worker runs it in a sandbox of its own machine. This
machine runs no student code and needs no root."""
import functools
import json
import os
import shutil
import sys
from pathlib import Path

import nbformat

from course.core import Delivery
from course.grading import LocalGrader
from course.queue.app import BROKER_VARIABLE, TASK, make_app, queue_name, shown
from course.queue.transfer import grading_digest, pack
from course.sandbox import RECORD

EXECUTOR = "course.queue.coordinator.run_on_worker"
DIGEST_VARIABLE = "COURSE_GRADING_DIGEST"  # the coordinator's grading_digest, for each task


class WorkerStepError(RuntimeError):
    """The queue gave no notebook back; `kind` and the message are the worker's where it
    answered (a kernel that died there is a DeadKernelError, as it would be here)."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


@functools.cache
def _app(broker):
    """The Celery application of this process (an nbgrader worker process of the coordinator
    sends every submission it grades through one, and one pool of connections)."""
    return make_app(broker)


def run_on_worker(notebook, resources):
    """ExecuteWithHiddenTests's step, run by a worker of the queue (course/queue/task.py): the
    notebook as the step leaves it. Runs in the coordinator's nbgrader process; the
    boundaries of the worker's kernels are recorded here as the local kernels' are (RECORD), so
    the batch counts their killed processes, peak memory and processes left alike."""
    folder = Path(resources["metadata"]["path"])
    student, assignment = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
    app = _app(os.environ[BROKER_VARIABLE])
    try:
        sent = app.send_task(TASK, queue=queue_name(), args=[
            assignment, student, notebook, pack(folder), os.environ[DIGEST_VARIABLE]])
        try:
            answer = sent.get(timeout=Delivery.from_environment().wait, propagate=False)
        finally:
            sent.forget()  # the result (a whole notebook) leaves the broker once read
    except Exception as error:  # a timeout, a broker gone: this submission not graded
        raise WorkerStepError("QueueError", "no result from the queue "
                              f"({type(error).__name__}: {error})") from None
    if not isinstance(answer, dict) or "error" not in answer:
        raise WorkerStepError("QueueError", f"the worker's task failed: {answer!s:.200}")
    with open(os.environ[RECORD], "a") as record:
        for entry in answer["boundaries"]:
            record.write(json.dumps({**entry, "folder": str(folder), "uid": None}) + "\n")
        record.write(json.dumps({"folder": str(folder), "uid": None, "killed": 0,
                                 "processes_left": answer["processes_left"]}) + "\n")
    print(f"run by the worker {answer['worker']}\n{answer['log']}", file=sys.stderr)
    if answer["error"]:
        raise WorkerStepError(answer["error"]["kind"], answer["error"]["message"])
    return nbformat.from_dict(answer["notebook"])


class QueueGrader(LocalGrader):
    """A batch whose notebooks run on the queue's workers (a Grader): each submission checked
    here, autograded here by nbgrader with ExecuteWithHiddenTests's `executor` set to
    run_on_worker, written into this course folder and its gradebook by nbgrader itself."""

    def __init__(self, course, assignment, jobs, broker):
        super().__init__(course, assignment, jobs)
        self.broker = broker
        self.options = (f"--ExecuteWithHiddenTests.executor={EXECUTOR}",)
        # a task given back to the queue (its worker's machine gone), then run again
        self.submission_seconds = Delivery.from_environment().wait + 60
        self.grading = grading_digest(course.root, assignment.name)

    def isolation(self):
        where = f"on the queue's workers ({shown(self.broker)}), each submission in a sandbox there"
        return where, where

    def environment(self):
        return {**super().environment(), BROKER_VARIABLE: self.broker,
                DIGEST_VARIABLE: self.grading}

    def graded(self, record, result):
        record = super().graded(record, result)
        if record.graded:
            print(f"recorded {record.student}: {self.assignment.name} written into the course "
                  "and the gradebook", flush=True)
        return record

    def leftover_processes(self):
        """Counted on the workers, after each submission."""
        return [None] * sum(entry.get("processes_left", 0) for entry in self.kernel_boundaries())

    def close(self):
        shutil.rmtree(self.scratch, ignore_errors=True)  # no kernel ran here: nothing to sweep
