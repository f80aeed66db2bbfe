"""Extensions: a student's own due date, and the late penalties computed again from it."""
import datetime

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from course.core import nbgrader_config
from course.term.term import TermError


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
