"""Autograde the submissions in submitted/ with nbgrader, in parallel; feedback, grades and a
report.

    python -m course.grade [--root COURSE] [--assignment NAME ...] [--jobs N] [--shard K/N]
                           [--queue BROKER] [--unsafe-no-sandbox] [STUDENT ...]

For each assignment (default: every one of source/ with a submission; course/core/assignments.py)
and each of its submissions, in parallel (N at a time, default: one per CPU core):
1. the submission is checked: a safe student id, nothing but regular files and folders (no
   links, hard links or special files), the notebook under its name and valid; else not graded
   (course/grading/intake.py);
2. `nbgrader autograde` runs it as nbgrader_config.py says, whoever starts it: its kernel in a
   sandbox of its own (course/sandbox/), its public tests, then the hidden tests in the same
   kernel, judged outside it (course/hidden/): a test cell whose hidden tests fail gets an
   error under it, so nbgrader scores it 0 and the feedback says why;
3. `nbgrader generate_feedback` writes its feedback (feedback/).
Both through nbgrader's API in one course.grading.worker process per job. Then `nbgrader export`
(reports/grades.csv).
The gradebook is the one nbgrader_config.py names (COURSE_DB_URL: PostgreSQL for a class graded
on several machines), else gradebook.db.
--shard K/N grades only the K-th of N equal shares of the class (every N-th student in sorted
order): the same command on N machines, started by a job array (docs/grading.md).
Writes reports/ASSIGNMENT/grading_results.json (the batch as data: a record per submission, the
findings, the batch's checks), and from it grades_by_cell.csv and grading_report.txt (one
escaped line per finding: cells that failed or timed out, submissions not graded, stderr kept,
course files or gradebook touched, processes left).
Without root or bubblewrap it refuses to grade, unless told --unsafe-no-sandbox.
--queue [BROKER] grades the same way, except that the step of the pipeline that runs the
student's code is run by the Celery workers of BROKER (default: COURSE_BROKER_URL), each in a
sandbox on its own machine (course/queue/): the same reports, lines and exit codes; this machine
then runs no student code and needs no root.

This file is the command alone: it reads the arguments, checks that grading can start, and picks
the grader (course/grading/local.py's, or course/queue/coordinator.py's); docs/grading.md maps
the packages.
"""
import argparse
import os
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from course import queue, sandbox
from course.core import (NBGRADER, AssignmentError, Course, assignments, default_root,
                         nbgrader_environment, run_logged)
from course.grading import (LocalGrader, assignment_in_gradebook, broken_grader, classes,
                            grade_assignment, permissions_warning, shard)
from course.plugins import KeepHandGrades

QUEUE_JOBS = 32  # submissions in flight on a queue: an nbgrader process each here (103 MiB)


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="the course folder (default: the current folder when it holds "
                             "nbgrader_config.py, else this code's)")
    parser.add_argument("--assignment", nargs="+", metavar="NAME",
                        help="grade these assignments (default: every one with a submission)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions graded at once (default: one per CPU core; with "
                             f"--queue, submissions in flight, default {QUEUE_JOBS})")
    parser.add_argument("--queue", metavar="BROKER", nargs="?", const="", default=None,
                        help="run the notebooks on the workers of a Celery broker "
                             "(course/queue/): its URL, without a password, or by default "
                             "COURSE_BROKER_URL's")
    parser.add_argument("--shard", metavar="K/N", help="grade only the K-th of N shares")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run student code without its sandbox, with the grader's rights "
                             "(only for code you trust: it can read the references)")
    parser.add_argument("students", nargs="*", help="default: every folder in submitted/")
    return parser.parse_args(argv)


def to_grade(course, args, known):
    """{assignment: [student]} the arguments name, or the line saying why there is none."""
    unknown = sorted(set(args.assignment or ()) - set(known))
    if unknown:
        return (f"no assignment {', '.join(unknown)} in {course.root / 'source'} (there are: "
                f"{', '.join(known) or 'none'}). Fix: name one of them.")
    found = classes(course.root, list(args.assignment or known), known, args.students)
    if args.shard:
        found = {name: shard(students, args.shard) for name, students in found.items()}
        found = {name: students for name, students in found.items() if students}
    if not found:
        return ("submitted/ has no submissions. Fix: collect them (`nbgrader collect "
                "ASSIGNMENT`, docs/instructor.md) or copy each to submitted/STUDENT/ASSIGNMENT/; "
                "`make demo` grades the sample submissions in a copy of the course.")
    missing = [name for name in found if not assignment_in_gradebook(course, name)]
    if missing:
        return (f"the gradebook has no assignment {', '.join(missing)}. Fix: run `make "
                "release` (nbgrader generate_assignment records it) first.")
    return found


def queue_problem(args):
    """Why the queue cannot grade (its broker, or no worker answers), in a line; else None."""
    try:
        args.queue = queue.broker_url(args.queue)
        queue.check(queue.make_app(args.queue), args.queue)
    except queue.QueueError as error:
        return str(error)
    return None


def sandbox_problem(course):
    """Why this machine cannot grade in its sandbox, in a line; else None."""
    problem = sandbox.unavailable()
    if problem:
        return (f"cannot sandbox student code: {problem} (or, for code you trust only: "
                "--unsafe-no-sandbox)")
    broken = [line for ok, line in sandbox.check(course.root) if not ok]
    if broken:  # a grader that cannot run a kernel grades nobody
        return (f"the grader cannot run a submission: {broken[0]} (`python -m course.sandbox "
                "check` says the same)")
    return None


def grader_for(course, assignment, args):
    """The Grader of one batch: the queue's, or this machine's."""
    if args.queue is not None:
        return queue.QueueGrader(course, assignment, max(1, args.jobs or QUEUE_JOBS), args.queue)
    return LocalGrader(course, assignment, max(1, args.jobs or os.cpu_count() or 1),
                       unsafe=args.unsafe_no_sandbox)


def main(argv=None):
    args = parse(argv)
    course = Course(args.root or default_root())
    warning = permissions_warning(course.root)
    if warning:
        print(warning, file=sys.stderr)
    try:
        known = assignments(course.root)
    except AssignmentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    here = args.queue is None and not args.unsafe_no_sandbox  # student code runs here
    problem = queue_problem(args) if args.queue is not None else None  # else no batch at all
    found = problem or to_grade(course, args, known)
    problem = found if isinstance(found, str) else sandbox_problem(course) if here else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    course.reports.mkdir(exist_ok=True)
    with Gradebook(course.db_url) as gradebook:  # before the workers (KeepHandGrades)
        KeepHandGrades.create_table(gradebook.db)
    if here:
        sandbox.sweep()  # what killed kernel launchers of earlier batches left
    failed, graded, total = False, 0, 0
    for name, students in found.items():
        results = grade_assignment(course, known[name], students,
                                   grader_for(course, known[name], args))
        batch = results.batch
        failed = failed or bool(batch.course_files_changed or batch.processes_left)
        broken = broken_grader(results.submissions)
        if broken:
            print(f"error: {name}: {broken}", file=sys.stderr)
            return 2
        graded += sum(r.graded for r in results.submissions.values())
        total += len(students)
    if not graded:  # a run that graded nothing is a failure, whatever the reasons
        print(f"error: none of the {total} submissions was graded; each one's reason is in "
              "reports/ASSIGNMENT/grading_report.txt.", file=sys.stderr)
        failed = True
    log = course.reports / "export.log"
    log.write_text("")
    if run_logged([*NBGRADER, "export", "--to", str(course.reports / "grades.csv")], log,
                  "nbgrader export", cwd=course.root, env=nbgrader_environment()) != 0:
        print(f"error: nbgrader export failed; see {log}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
