"""The step of the autograde pipeline that a queue's worker runs: nbgrader_config.py's
ExecuteWithHiddenTests (the notebook, then its hidden tests, in a sandboxed kernel, judged),
configured by this course copy's nbgrader_config.py, on one notebook.

    python -m course.queue.execute ASSIGNMENT STUDENT    # in a worker's course copy, as root

Reads the notebook (nbformat's JSON) on stdin; its kernel's folder is the copy's
autograded/STUDENT/ASSIGNMENT/. Writes one JSON object to stdout: {"notebook": the notebook as
the step leaves it} or {"error": {"kind", "message"}} of what stopped it. Everything else this
process prints goes to stderr (course/queue/task.py starts it and keeps its log).
"""
import json
import os
import sys
from pathlib import Path

import nbformat

from course.core import Course, assignments
from course.plugins import ExecuteWithHiddenTests


def main(argv):
    assignment, student = argv
    answers = os.fdopen(os.dup(1), "w")  # the only writer of stdout
    os.dup2(2, 1)
    course = Course(Path.cwd())
    stem = assignments(course.root)[assignment].stem
    notebook = nbformat.reads(sys.stdin.read(), as_version=4)
    step = ExecuteWithHiddenTests(config=course.config)
    step.executor = ""  # here: this is where the coordinator's executor sent it
    resources = {"nbgrader": {"student": student, "assignment": assignment, "notebook": stem},
                 "metadata": {"path": str(course.path("autograded", student, assignment))}}
    try:
        notebook, _ = step.preprocess(notebook, resources)
        answer = {"notebook": notebook}
    except Exception as error:  # noqa: BLE001 - what stopped the step, sent as data
        answer = {"error": {"kind": type(error).__name__,
                            "message": (str(error).splitlines() or [""])[0][:300]}}
    answers.write(json.dumps(answer))
    answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
