"""A term's chores for a class of hundreds, each one command: the roster, extensions,
resubmissions, feedback after hand grading, the LMS's gradebook, the students' environment.

    python -m course.term [--root COURSE] [--exchange DIR] COMMAND ...
    python -m course.term roster ROSTER.csv
    python -m course.term extend ASSIGNMENT STUDENT --days D [--hours H] | --remove
    python -m course.term resubmit ASSIGNMENT STUDENT
    python -m course.term feedback ASSIGNMENT [STUDENT ...] [--release]
    python -m course.term export [--format nbgrader|canvas|moodle] [--out FILE]
    python -m course.term environment STUDENT_PYTHON
    python -m course.term watch ASSIGNMENT [--broker URL] [--per-day N] [--release-feedback]
    python -m course.term report ASSIGNMENT

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
  that did not change are kept (course/plugins/preprocessors.py, KeepHandGrades).
- feedback: the feedback made again (after hand grading), with the late penalty computed again
  from the score with its hand-graded points (nbgrader_config.py does so whenever feedback is
  made); --release hands it to the students (`nbgrader release_feedback`).
- export: nbgrader's CSV as `nbgrader export` writes it (with the course's plugin, quoted where a
  field needs it), or an LMS's gradebook import: one row per student of the gradebook (the
  roster, and anyone who submitted), one column per assignment, the score after the late
  penalty, 0 for work not handed in, every field quoted. In all of them a name (or email, id)
  that a spreadsheet would run as a formula starts with a ' (course/core/spreadsheet.py).
  Canvas: its gradebook's columns (Student, ID, SIS User ID, SIS Login ID, Section), the roster's
  lms_user_id as SIS User ID; Moodle: First name, Last name, ID number (lms_user_id), Email
  address, to be mapped on "ID number" when importing.
- environment: the packages of requirements.txt in the students' Python (their image's) against
  the grader's, naming each difference, and whether their Jupyter shows formgrader.
- watch: each submission graded as it reaches the exchange, on the task queue (course/queue/;
  watch.py), its feedback released at once with --release-feedback, at most N a day per student
  with --per-day; the student's Fetch Feedback says what became of each (status.py).
- report: what the class got wrong, each failed cell by the cataloged mistake its outputs show
  (reports/ASSIGNMENT/misconceptions.csv and a chart per function: course/grading/
  misconceptions.py, as after every batch), and whose work may not be their own
  (reports/ASSIGNMENT/similarity.html: similarity.py); for a person to judge, no grade changed.
Every error is one line naming the thing and the fix, with exit code 2.

This file is the face the commands call; each chore is a module of its own."""
from course.term.deadlines import extend, reassign_late_penalties
from course.term import similarity  # modules it shows
from course.term.environment import environment, required_packages, versions
from course.term.export import FORMATS, export, gradebook_table, lms_rows
from course.term.report import report
from course.term.resubmit import collect_latest, feedback, resubmit
from course.term.roster import import_roster, read_roster
from course.term.term import Term, TermError
from course.term.watch import watch

__all__ = ["FORMATS", "Term", "TermError", "collect_latest", "environment", "export", "extend",
           "feedback", "gradebook_table", "import_roster", "lms_rows", "read_roster",
           "reassign_late_penalties", "report", "required_packages", "resubmit", "similarity",
           "versions", "watch"]
