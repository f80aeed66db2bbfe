"""One process that autogrades submissions one after another through nbgrader's own API, the
call formgrader's Autograde button makes (`NbGraderAPI.autograde`), with the course's
nbgrader_config.py: a local grader (course/grading/local.py) starts one per job, so nbgrader is
imported and configured once per job instead of once per submission.

    python -m course.grading.worker ASSIGNMENT LOGS [NBGRADER OPTIONS]    # in the course folder

Reads student ids on stdin, one per line; for each, autogrades it and generates its feedback
(`NbGraderAPI.generate_feedback`, so feedback is made in parallel too), writes nbgrader's log to
LOGS/STUDENT.log, and writes one JSON line {"student", "success", "error", "feedback_error"}
to stdout. "error" is the exception that stopped nbgrader's autograde, as "Type: message", taken
from the exception itself while nbgrader logs it (nbgrader's API answers with its own
NbGraderException, which says to look at the log); a submission whose feedback could not be
made is graded all the same (its grades are in the gradebook), with the reason in
"feedback_error". Everything else this process and its kernels print goes to stderr.
"""
import json
import logging
import os
import sys
from pathlib import Path


class ExceptionsLogged(logging.Handler):
    """The exceptions being handled when nbgrader logs an error: its converter logs a
    notebook's failure inside its `except` block (nbgrader.converters.base), then raises an
    NbGraderException of its own. An exception may name its kind (`kind`): the queue's error
    for a step that failed on a worker names the worker's (course/queue/coordinator.py)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.found = []

    def emit(self, record):
        error = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        if error is not None and type(error).__name__ != "NbGraderException":
            self.found.append(error)

    def last(self):
        """The last one, as "Type: first line of its message", or None."""
        if not self.found:
            return None
        error = self.found[-1]
        kind = getattr(error, "kind", None) or type(error).__name__  # a queue's: the worker's
        return f"{kind}: {(str(error).splitlines() or [''])[0]}"[:300]


def last_line(result):
    """The last line of an NbGraderAPI result's error, or None."""
    error = (result.get("error") or "").strip().splitlines()
    return error[-1] if error else None


def main(argv):
    assignment, logs, options = argv[0], Path(argv[1]), argv[2:]
    results = os.fdopen(os.dup(1), "w")  # the only writer of stdout: kernels print to stderr
    os.dup2(2, 1)
    from nbgrader.apps import NbGraderAPI, NbGraderApp

    app = NbGraderApp()
    app.initialize(options)  # reads nbgrader_config.py from this folder, then the options
    api = NbGraderAPI(config=app.config)
    log = getattr(api.log, "logger", api.log)  # the converters log through the API's logger
    for line in sys.stdin:
        student = line.strip()
        caught = ExceptionsLogged()
        log.addHandler(caught)
        try:
            result = api.autograde(assignment, student, force=True, create=True)
        finally:
            log.removeHandler(caught)
        feedback = {"success": True}
        if result.get("success"):
            feedback = api.generate_feedback(assignment, student, force=True)
        (logs / f"{student}.log").write_text(
            result.get("log", "") + (result.get("error") or "") + feedback.get("log", "")
            + (feedback.get("error") or ""))
        success = bool(result.get("success"))
        results.write(json.dumps({
            "student": student, "success": success,
            "error": None if success else caught.last() or last_line(result),
            "feedback_error": None if feedback.get("success")
            else last_line(feedback) or "no error given"}) + "\n")
        results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
