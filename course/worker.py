"""One process that autogrades submissions one after another through nbgrader's own API, the
call formgrader's Autograde button makes (`NbGraderAPI.autograde`), with the course's
nbgrader_config.py: course.grade starts one per job, so nbgrader is imported and configured once
per job instead of once per submission.

    python -m course.worker ASSIGNMENT LOGS [NBGRADER OPTIONS]    # in the course folder

Reads student ids on stdin, one per line; for each, autogrades it and generates its feedback
(`NbGraderAPI.generate_feedback`, so feedback is made in parallel too), writes nbgrader's log to
LOGS/STUDENT.log, and writes one JSON line {"student", "success", "error"} to stdout.
Everything else this process and its kernels print goes to stderr.
"""
import json
import os
import sys
from pathlib import Path


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
        if result.get("success"):
            feedback = api.generate_feedback(assignment, student, force=True)
            result = {**feedback, "log": result.get("log", "") + feedback.get("log", "")}
        (logs / f"{student}.log").write_text(
            result.get("log", "") + (result.get("error") or ""))
        error = (result.get("error") or "").strip().splitlines()
        results.write(json.dumps({"student": student, "success": bool(result.get("success")),
                                  "error": error[-1] if error else None}) + "\n")
        results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
