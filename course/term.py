"""A term's chores for a class of hundreds, each one command: the roster, extensions,
resubmissions, feedback after hand grading, the LMS's gradebook, the students' environment.

    python -m course.term [--root COURSE] [--exchange DIR] COMMAND ...
    python -m course.term roster ROSTER.csv
    python -m course.term extend ASSIGNMENT STUDENT --days D [--hours H] | --remove
    python -m course.term resubmit ASSIGNMENT STUDENT
    python -m course.term feedback ASSIGNMENT [STUDENT ...] [--release]
    python -m course.term export [--format nbgrader|canvas|moodle] [--out FILE]
    python -m course.term environment STUDENT_PYTHON

Run in the course folder (or give --root), as root where a command grades or collects. Each
command is nbgrader's own step (its gradebook API, `nbgrader collect --update`, `generate_feedback`,
`export`) with what a term needs around it; docs/instructor.md walks through a term with them.

- roster: the students of ROSTER.csv into the gradebook, nbgrader's columns (`id`, `first_name`,
  `last_name`, `email`, `lms_user_id`; `nbgrader db student import` reads the same): a student
  who never submits is then in every export, with 0.
- extend: a new due date for one student (nbgrader's `Gradebook.grant_extension`: DAYS and HOURS
  after the assignment's, replacing an earlier extension), before or after they submit. The
  extension lives on the student's submission row; for a student who has not submitted yet an
  empty one is made (every cell 0, nothing waiting for a hand), which their submission fills.
  A submission already graded gets its late penalty computed again and its feedback made again.
- resubmit: the student's latest submission collected again (`nbgrader collect --update`, the
  course's safe collect), then graded alone (`python -m course.grade`): hand grades of answers
  that did not change are kept (course/preprocessors.py, KeepHandGrades).
- feedback: the feedback made again (after hand grading), with the late penalty computed again
  from the score with its hand-graded points (nbgrader_config.py does so whenever feedback is
  made); --release hands it to the students (`nbgrader release_feedback`).
- export: nbgrader's CSV as `nbgrader export` writes it (with the course's plugin, quoted where a
  field needs it), or an LMS's gradebook import: one row per student of the gradebook (the
  roster, and anyone who submitted), one column per assignment, the score after the late
  penalty, 0 for work not handed in, every field quoted. In all of them a name (or email, id)
  that a spreadsheet would run as a formula starts with a ' (course/spreadsheet.py). Canvas: its
  gradebook's columns (Student, ID, SIS User ID, SIS Login ID, Section), the roster's
  lms_user_id as SIS User ID; Moodle: First name, Last name, ID number (lms_user_id), Email
  address, to be mapped on "ID number" when importing.
- environment: the packages of requirements.txt in the students' Python (their image's) against
  the grader's, naming each difference, and whether their Jupyter shows formgrader.
Every error is one line naming the thing and the fix, with exit code 2.
"""
import argparse
import csv
import datetime
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from course import spreadsheet
from course.grade import (NBGRADER, Course, default_root, nbgrader_config, nbgrader_environment,
                          safe_id)

ROSTER_COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id")
FORMATS = ("nbgrader", "canvas", "moodle")
# a score's decimals in the LMS files: more than an LMS keeps (Canvas and Moodle show 2), and
# none of a float's noise (18.900000000000002, a score less its late penalty)
DECIMALS = 6


class TermError(Exception):
    """A command that cannot do what it was asked: the message says what and the fix."""


@dataclass(frozen=True)
class Term:
    """The course folder a command works in, and the exchange nbgrader's steps use (None: as
    nbgrader's configuration says, c.Exchange.root)."""
    course: Course
    exchange: Path | None = None

    def nbgrader(self, *args):
        """Run nbgrader in the course folder; its output; TermError with its first error line
        if it fails (nbgrader's last line only says that it failed)."""
        options = [f"--Exchange.root={self.exchange}"] if self.exchange else []
        run = subprocess.run([*NBGRADER, *args, *options], cwd=self.course.root,
                             env=nbgrader_environment(), capture_output=True, text=True)
        if run.returncode != 0:
            lines = (run.stdout + run.stderr).strip().splitlines() or ["no output"]
            errors = [line for line in lines if re.search(r"\| (ERROR|CRITICAL)\]", line)
                      and not line.rstrip().endswith("failed")]
            raise TermError(f"nbgrader {' '.join(args)} failed: {(errors or lines)[-1].strip()}")
        return run.stdout + run.stderr


# --- roster ------------------------------------------------------------------------------------
def read_roster(path):
    """[{column: value}] of a roster CSV; TermError naming the row for anything unusable."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows, columns = list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise TermError(f"{path}: cannot read the roster ({error}). Fix: give a UTF-8 CSV file "
                        f"with the columns {', '.join(ROSTER_COLUMNS)}.") from None
    if "id" not in columns:
        raise TermError(f"{path}: no 'id' column (found: {', '.join(columns) or 'none'}). Fix: "
                        f"name the columns {', '.join(ROSTER_COLUMNS)} (id: the student's "
                        "JupyterHub name, as in the exchange).")
    seen = set()
    for number, row in enumerate(rows, start=2):
        student = (row.get("id") or "").strip()
        if not safe_id(student):
            raise TermError(f"{path}, line {number}: the id {student!r} is not a name grading "
                            "accepts (letters, digits and . _ @ + -, at most 64). Fix: use the "
                            "student's JupyterHub name.")
        if student in seen:
            raise TermError(f"{path}, line {number}: {student} is listed twice. Fix: one line "
                            "per student.")
        seen.add(student)
    # only the columns the file has: one it lacks leaves what the gradebook holds as it is
    return [{column: (row.get(column) or "").strip() or None for column in ROSTER_COLUMNS
             if column in columns} for row in rows]


def import_roster(course, path):
    rows = read_roster(path)
    with Gradebook(course.db_url) as gradebook:
        known = {student.id for student in gradebook.students}
        for row in rows:
            gradebook.update_or_create_student(
                row["id"], **{k: v for k, v in row.items() if k != "id"})
        others = sorted(known - {row["id"] for row in rows})
    new = sum(row["id"] not in known for row in rows)
    print(f"roster: {len(rows)} students from {path} in the gradebook ({new} new, "
          f"{len(rows) - new} updated)")
    if others:
        print(f"in the gradebook but not in this roster (kept): {', '.join(others)}")


# --- late penalties and extensions -------------------------------------------------------------
def reassign_late_penalties(course, assignment, students=None):
    """Compute each submitted notebook's late penalty again from its present score (hand-graded
    points included), with the course's plugin, as nbgrader's AssignLatePenalties does in
    autograde; `students` None: everyone with a submission."""
    from nbgrader.preprocessors import AssignLatePenalties

    penalties = AssignLatePenalties(config=nbgrader_config(course.root))
    with Gradebook(course.db_url) as gradebook:
        found = gradebook.find_assignment(assignment)
        pairs = [(submission.student.id, notebook.name)
                 for submission in found.submissions if submission.timestamp is not None
                 if students is None or submission.student.id in students
                 for notebook in found.notebooks]
    for student, notebook in pairs:
        penalties.preprocess(nbformat.v4.new_notebook(), {"nbgrader": {
            "notebook": notebook, "assignment": assignment, "student": student,
            "db_url": course.db_url}})


def _hours(delta):
    return f"{delta.total_seconds() / 3600:g} h"


def extend(term, assignment, student, days, hours):
    course = term.course
    with Gradebook(course.db_url) as gradebook:
        try:
            due = gradebook.find_assignment(assignment).duedate
            gradebook.find_student(student)
        except MissingEntry:
            raise TermError(f"no assignment {assignment!r} or no student {student!r} in the "
                            "gradebook. Fix: `make release` records the assignments, `python -m "
                            "course.term roster FILE` the students.") from None
        if due is None:
            raise TermError(f"{assignment} has no due date to extend. Fix: `nbgrader db "
                            f"assignment add {assignment} --duedate=...`.")
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:  # nbgrader keeps an extension on the submission row: an empty one
            submission = gradebook.add_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
        before = submission.late_submission_penalty
        gradebook.grant_extension(assignment, student, days=days, hours=hours)
        submission = gradebook.find_submission(assignment, student)
        new_due, timestamp = submission.duedate, submission.timestamp
    if timestamp is not None:
        reassign_late_penalties(course, assignment, [student])
    with Gradebook(course.db_url) as gradebook:
        after = gradebook.find_submission(assignment, student)
        late, penalty = after.total_seconds_late, after.late_submission_penalty
    shown = "no extension" if new_due == due else f"extended by {_hours(new_due - due)}"
    line = f"{student}: {assignment} due {new_due:%Y-%m-%d %H:%M} UTC ({shown})"
    if timestamp is None:
        print(f"{line}; nothing submitted yet")
        return
    state = "on time" if late == 0 else f"{_hours(datetime.timedelta(seconds=late))} late"
    print(f"{line}; submitted {timestamp:%Y-%m-%d %H:%M:%S}: {state}, late penalty "
          f"{before or 0:g} -> {penalty or 0:g}")
    if course.path("autograded", student, assignment).is_dir():
        term.nbgrader("generate_feedback", assignment, f"--student={student}", "--force")
        print(f"{student}: feedback made again")


# --- resubmissions and feedback ----------------------------------------------------------------
def collect_latest(term, assignment, student):
    """The student's latest submission collected in place of what submitted/ holds (`nbgrader
    collect --update`, the course's safe collect); the collect's log. TermError when nothing
    newer was collected: refused (the line says why), or nothing newer there. A refused entry
    that collect did not choose (a classmate's forgery in this student's name) is only
    reported: collect sorts those behind the student's own."""
    log = term.nbgrader("collect", assignment, f"--student={student}", "--update")
    refused = [line.strip() for line in log.splitlines() if "Refused " in line]
    if "Updating submission" not in log and "Collecting submission" not in log:
        if refused:
            raise TermError(f"{student}: the new submission was refused ({refused[-1]}). Fix: "
                            "ask the student to submit again.")
        raise TermError(f"{student}: no newer submission of {assignment} in the exchange than "
                        f"the one collected. Fix: ask the student to submit (nbgrader submit).")
    for line in refused:
        print(f"{student}: also in the exchange, refused: {line}", flush=True)
    return log


def resubmit(term, assignment, student):
    course = term.course
    collect_latest(term, assignment, student)
    print(f"{student}: the new submission of {assignment} collected", flush=True)
    return subprocess.run([sys.executable, "-m", "course.grade", "--root", str(course.root),
                           student, "--assignment", assignment], cwd=course.root).returncode


def feedback(term, assignment, students, release):
    course = term.course
    for student in students or [None]:
        only = [f"--student={student}"] if student else []
        term.nbgrader("generate_feedback", assignment, *only, "--force")
        if release:
            term.nbgrader("release_feedback", assignment, *only)
    made = sorted(p.parent.name for p in course.path("autograded").glob(f"*/{assignment}")
                  if not students or p.parent.name in students)  # generate_feedback's input
    print(f"{assignment}: feedback made again for {len(made)} students"
          + (" and released" if release else "") + ", late penalties computed with the "
          "hand-graded points")


# --- export -----------------------------------------------------------------------------------
def gradebook_table(course):
    """(assignments [(name, max score)], students [{id, names, email, lms_user_id, scores
    {assignment: score after penalty}, to_grade [assignment]}]) of the whole gradebook."""
    with Gradebook(course.db_url) as gradebook:
        assignments = sorted(gradebook.assignments,
                             key=lambda a: (a.duedate or datetime.datetime.max, a.name))
        table = [(a.name, a.max_score) for a in assignments]
        students = []
        for student in sorted(gradebook.students,
                              key=lambda s: ((s.last_name or "").lower(),
                                             (s.first_name or "").lower(), s.id)):
            row = {"id": student.id, "first_name": student.first_name or "",
                   "last_name": student.last_name or "", "email": student.email or "",
                   "lms_user_id": student.lms_user_id or "", "scores": {}, "to_grade": []}
            for assignment in assignments:
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row["scores"][assignment.name] = 0.0
                    continue
                row["scores"][assignment.name] = max(
                    0.0, submission.score - (submission.late_submission_penalty or 0))
                if submission.timestamp is not None and submission.needs_manual_grade:
                    row["to_grade"].append(assignment.name)
            students.append(row)
    return table, students


def lms_rows(kind, assignments, students):
    """The header and rows of an LMS gradebook import file: names as text, scores as numbers
    (course/spreadsheet.py writes them)."""
    names = [name for name, _ in assignments]
    if kind == "canvas":
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names]
        tops = [round(top, DECIMALS) for _, top in assignments]
        rows = [["Points Possible", "", "", "", "", *tops]]
        # "Last, First" of the names it has (not stripped: " =1+1" must not lose its space)
        rows += [[", ".join(n for n in (s["last_name"], s["first_name"]) if n) or s["id"], "",
                  s["lms_user_id"], s["email"], "",
                  *(round(s["scores"][n], DECIMALS) for n in names)]
                 for s in students]
    else:  # moodle
        header = ["First name", "Last name", "ID number", "Email address", *names]
        rows = [[s["first_name"], s["last_name"], s["lms_user_id"], s["email"],
                 *(round(s["scores"][n], DECIMALS) for n in names)] for s in students]
    return header, rows


def export(term, kind, out):
    course = term.course
    with Gradebook(course.db_url) as gradebook:
        names = [a.name for a in gradebook.assignments]
    for name in names:
        reassign_late_penalties(course, name)
    out = Path(out or course.reports / ("grades.csv" if kind == "nbgrader"
                                        else f"grades-{kind}.csv")).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    assignments, students = gradebook_table(course)
    if kind == "nbgrader":
        term.nbgrader("export", f"--to={partial}")
    else:
        header, rows = lms_rows(kind, assignments, students)
        with open(partial, "w", newline="", encoding="utf-8") as handle:
            table = spreadsheet.writer(handle, quoting=csv.QUOTE_ALL)
            table.writerow(header)
            table.writerows(rows)
    partial.replace(out)  # never a half-written file under the final name
    print(f"{out}: {len(students)} students x {len(assignments)} assignments ({kind})")
    waiting = [f"{s['id']} ({', '.join(s['to_grade'])})" for s in students if s["to_grade"]]
    if waiting:
        print(f"still to grade by hand, counted without those answers: {', '.join(waiting)}")
    missing = [s["id"] for s in students if not s["lms_user_id"]]
    if kind != "nbgrader" and missing:
        print(f"no lms_user_id (not in the roster?): {', '.join(missing)}")


# --- the students' environment ------------------------------------------------------------------
PROBE = ("import importlib.metadata as m, json, sys\n"
         "found = {}\n"
         "for name in sys.argv[1:]:\n"
         "    try:\n"
         "        found[name] = m.version(name)\n"
         "    except m.PackageNotFoundError:\n"
         "        found[name] = None\n"
         "print(json.dumps({'python': sys.version.split()[0], 'packages': found}))\n")


# whether a Jupyter server started by that Python loads formgrader: its own reading of every
# configuration folder, in its order of precedence (jupyter_server's ServerApp does the same)
FORMGRADER = ("from jupyter_core.paths import jupyter_config_path\n"
              "from jupyter_server.extension.config import ExtensionConfigManager\n"
              "print(bool(ExtensionConfigManager(read_config_path=jupyter_config_path())"
              ".enabled('nbgrader.server_extensions.formgrader')))\n")


def required_packages(root):
    """The names of the packages requirements.txt pins (packaging's parser, pip's own)."""
    from packaging.requirements import Requirement

    path = Path(root) / "requirements.txt"
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise TermError(f"{path}: {error.strerror}. Fix: run it in the course folder (--root)."
                        ) from None
    return [Requirement(line.split("#")[0]).name for line in lines if line.split("#")[0].strip()]


def versions(python, names):
    try:
        run = subprocess.run([str(python), "-c", PROBE, *names], capture_output=True, text=True,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TermError(f"{python}: cannot run it ({error}). Fix: give the path of the "
                        "students' Python, e.g. /opt/conda/bin/python in their image.") from None
    try:
        if run.returncode != 0:
            raise ValueError((run.stderr.strip().splitlines() or ["failed"])[-1])
        return json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as error:
        raise TermError(f"{python}: could not list its packages ({error}). Fix: give the path "
                        "of the Python the students' Jupyter runs.") from None


def environment(course, python):
    names = required_packages(course.root)
    theirs, ours = versions(python, names), versions(sys.executable, names)
    differences = []
    if theirs["python"].rsplit(".", 1)[0] != ours["python"].rsplit(".", 1)[0]:
        differences.append(f"Python {theirs['python']} (students) against {ours['python']} "
                           "(grader)")
    for name in names:
        mine, yours = ours["packages"][name], theirs["packages"][name]
        if mine != yours:
            differences.append(f"{name} {yours or 'missing'} (students) against "
                               f"{mine or 'missing'} (grader)")
    try:
        shown = subprocess.run([str(python), "-c", FORMGRADER], capture_output=True, text=True,
                               timeout=120)
    except subprocess.TimeoutExpired:
        shown = subprocess.CompletedProcess([], 1, "", "no answer in 120 s")
    if shown.stdout.strip() not in ("True", "False"):
        differences.append("cannot tell whether their Jupyter shows formgrader: "
                           + (shown.stderr.strip().splitlines() or ["no answer"])[-1])
    elif shown.stdout.strip() == "True":
        differences.append("formgrader is enabled for the students (only the grader needs it). "
                           "Fix: jupyter server extension disable --sys-prefix "
                           "nbgrader.server_extensions.formgrader, in their image")
    if not differences:
        print(f"{python}: the grader's versions of all {len(names)} packages of "
              f"requirements.txt, Python {theirs['python']}; formgrader hidden")
        return 0
    for line in differences:
        print(f"differs: {line}")
    print(f"{len(differences)} differences: a notebook can pass there and fail in grading (or "
          "the reverse). Fix: install requirements.txt's pins in the students' image.")
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        else:
            return environment(term.course, args.python)
    except TermError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
