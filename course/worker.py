"""One process that autogrades submissions one after another through nbgrader's own API, the
call formgrader's Autograde button makes (`NbGraderAPI.autograde`), with the course's
nbgrader_config.py: course.grade starts one per job, so nbgrader is imported and configured once
per job instead of once per submission.

    python -m course.worker ASSIGNMENT LOGS [NBGRADER OPTIONS]    # in the course folder

Reads student ids on stdin, one per line; for each, autogrades it and generates its feedback
(`NbGraderAPI.generate_feedback`, so feedback is made in parallel too), writes nbgrader's log to
LOGS/STUDENT.log, and writes one JSON line {"student", "success", "error", "feedback_error"}
to stdout: a submission whose feedback could not be made is graded all the same (its grades are
in the gradebook), with the reason in "feedback_error".
Everything else this process and its kernels print goes to stderr.
"""
import json
import os
import sys
from pathlib import Path


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
    for line in sys.stdin:
        student = line.strip()
        result = api.autograde(assignment, student, force=True, create=True)
        feedback = {"success": True}
        if result.get("success"):
            feedback = api.generate_feedback(assignment, student, force=True)
        (logs / f"{student}.log").write_text(
            result.get("log", "") + (result.get("error") or "") + feedback.get("log", "")
            + (feedback.get("error") or ""))
        results.write(json.dumps({"student": student, "success": bool(result.get("success")),
                                  "error": last_line(result),
                                  "feedback_error": None if feedback.get("success")
                                  else last_line(feedback) or "no error given"}) + "\n")
        results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
