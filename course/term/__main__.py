"""python -m course.term COMMAND (course/term/__init__.py says what each does)."""
import argparse
import sys
from pathlib import Path

from course import queue
from course.core import Course, default_root
from course.term.deadlines import extend
from course.term.environment import environment
from course.term.report import report
from course.term.export import FORMATS, export
from course.term.resubmit import feedback, resubmit
from course.term.roster import import_roster
from course.term.term import Term, TermError
from course.term.watch import watch


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course.term",
        description="A term's chores for a class of hundreds, each one command.")
    parser.add_argument("--root", type=Path, default=None, help="the course folder")
    parser.add_argument("--exchange", type=Path, default=None,
                        help="nbgrader's exchange folder (default: nbgrader's configuration, "
                             "c.Exchange.root)")
    commands = parser.add_subparsers(dest="command", required=True)
    roster = commands.add_parser("roster", help="import a roster CSV into the gradebook")
    roster.add_argument("file", type=Path)
    extension = commands.add_parser("extend", help="give one student a later due date")
    extension.add_argument("assignment")
    extension.add_argument("student")
    extension.add_argument("--days", type=float, default=0)
    extension.add_argument("--hours", type=float, default=0)
    extension.add_argument("--remove", action="store_true", help="remove the extension")
    again = commands.add_parser("resubmit", help="collect a student's newer submission and "
                                "grade it")
    again.add_argument("assignment")
    again.add_argument("student")
    made = commands.add_parser("feedback", help="make the feedback again (after hand grading)")
    made.add_argument("assignment")
    made.add_argument("students", nargs="*")
    made.add_argument("--release", action="store_true", help="and release it to the students")
    out = commands.add_parser("export", help="the grades for the LMS")
    out.add_argument("--format", choices=FORMATS, default="nbgrader")
    out.add_argument("--out", type=Path, default=None,
                     help="default: reports/grades.csv, reports/grades-FORMAT.csv")
    env = commands.add_parser("environment", help="the students' Python against the grader's")
    env.add_argument("python", type=Path)
    watching = commands.add_parser("watch", help="grade each submission as it arrives, on the "
                                   "task queue")
    watching.add_argument("assignment")
    watching.add_argument("--broker", default=None, help="the broker's URL without a password "
                          f"(default: {queue.BROKER_VARIABLE})")
    watching.add_argument("--per-day", type=int, default=None,
                          help="submissions graded per student and day (default: all)")
    watching.add_argument("--release-feedback", action="store_true",
                          help="release each student's feedback as soon as it is made")
    watching.add_argument("--interval", type=float, default=30.0, help="seconds between looks")
    watching.add_argument("--once", action="store_true", help="look once, then stop")
    reports = commands.add_parser("report", help="what the class got wrong (misconceptions) "
                                  "and whose work may not be their own (similarity)")
    reports.add_argument("assignment")
    args = parser.parse_args(argv)
    term = Term(Course(args.root or default_root()),
                args.exchange.resolve() if args.exchange else None)
    try:
        if args.command == "roster":
            import_roster(term.course, args.file)
        elif args.command == "extend":
            if args.remove == bool(args.days or args.hours):
                raise TermError("give --days and/or --hours, or --remove.")
            extend(term, args.assignment, args.student, args.days, args.hours)
        elif args.command == "resubmit":
            return resubmit(term, args.assignment, args.student)
        elif args.command == "feedback":
            feedback(term, args.assignment, args.students, args.release)
        elif args.command == "export":
            export(term, args.format, args.out)
        elif args.command == "report":
            report(term.course, args.assignment)
        elif args.command == "watch":
            watch(term, queue.broker_url(args.broker), args.assignment, args.per_day,
                  args.release_feedback, args.interval, args.once)
        else:
            return environment(term.course, args.python)
    except (TermError, queue.QueueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
