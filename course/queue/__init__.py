"""Grading on a task queue (Celery): a class whose notebooks run on workers on other machines,
or graded as the students submit.

    python -m course.queue copy COPY                  # a course copy for a worker
    python -m course.queue worker --root COPY         # each grading machine, as root
    python -m course.grade --queue [...]              # the course folder: a batch
    python -m course.term watch ASSIGNMENT [--release-feedback] [--per-day N]   # as they submit

The broker's URL comes from COURSE_BROKER_URL (`redis+socket:///run/course/redis.sock`, or
`redis://:PASSWORD@host:6379/0`): a command line is readable by every account of the machine
(`ps`), so a URL with a password is refused there. Whoever can reach the broker reads every
queued submission and result and can forge a result: keep it on a root-only Unix socket, or a
password and a network only the grading machines reach (docs/grading.md).

Why Celery (docs/grading.md): the workers are root processes (the sandbox), so nothing that
reaches them may carry code. A Celery message names the task a worker registers (TASK) and
carries JSON arguments only: the assignment, the student id, the notebook, its folder's files
(base64) and a digest of the coordinator's grading files; back comes the notebook as the step
left it, or the error that stopped it, as data. (Dask and Ray ship pickled functions: whoever
reaches their port runs code as root.)

The pipeline runs once, where its results are kept. The coordinator (`course.grade --queue`, in
the one course folder) grades each submission as a local batch does: the submission check, then
nbgrader's autograde and generate_feedback as nbgrader_config.py declares them, writing the one
autograded folder, gradebook and feedback page (coordinator.py). Only ExecuteWithHiddenTests, the
step that runs the student's code, is sent to a worker: its `executor` is set to
coordinator.run_on_worker, which sends the notebook and waits for it. The worker
(task.py) runs that step with its own course copy's configuration (`copy`: the course's code,
source/, hidden/, nbgrader_config.py, the data linked), one submission at a time, in a sandbox
of its machine (execute.py), and refuses a task whose grading files (source/, hidden/, course/,
nbgrader_config.py) differ from the coordinator's: an old copy never grades with old tests.

Delivery: a message is acknowledged when its task ends (acks_late), so a worker that dies
mid-task leaves its submission to another (at once when the task's process dies; after
`visibility` seconds when the whole machine does); each worker takes one task at a time
(prefetch 1); a task runs at most `time_limit` seconds (above the sandbox's; its grading
processes are stopped a minute before). A task that ran twice (redelivered while the first run
was alive) is read once: the coordinator takes one result per submission, then deletes it from
the broker.

This file is the face the other packages and the commands call."""
from course.queue.app import BROKER_VARIABLE, QueueError, broker_url, check, make_app, shown
from course.queue.coordinator import QueueGrader

__all__ = ["BROKER_VARIABLE", "QueueError", "QueueGrader", "broker_url", "check", "make_app",
           "shown"]
