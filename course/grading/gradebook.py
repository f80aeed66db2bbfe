"""What the gradebook says of a batch: each cell's score, and that every graded submission is
recorded."""
import sqlite3

from nbgrader.api import Gradebook, MissingEntry

from course.core import SUFFIX


def cell_scores(course, assignment, students):
    """{student: {graded function: [score, max score]}} from the gradebook, and {written
    answer's id: [score or None while not graded by hand, max score]}."""
    scores = {}
    with Gradebook(course.db_url) as gradebook:
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(assignment.stem, assignment.name,
                                                              student)
            except MissingEntry:  # not graded
                scores[student] = {}
                continue
            scores[student] = {}
            for grade in notebook.grades:
                if grade.name in assignment.points:
                    name, score = grade.name.removesuffix(SUFFIX), grade.score
                elif grade.name in assignment.manual:  # nbgrader says 0 until graded by hand
                    name, score = grade.name, None if grade.needs_manual_grade else grade.score
                else:
                    continue
                scores[student][name] = [score, grade.max_score]
    return scores


def gradebook_check(course, assignment, students):
    """(integrity, number of the students with a submission recorded) after the batch; the
    integrity is SQLite's own check, or "ok" when another database answers."""
    if course.db_url.startswith("sqlite:///"):
        with sqlite3.connect(course.db_url.removeprefix("sqlite:///")) as connection:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
    else:
        status = "ok"
    with Gradebook(course.db_url) as gradebook:
        graded = sum(1 for s in students if _has_submission(gradebook, assignment, s))
    return status, graded


def _has_submission(gradebook, assignment, student):
    try:
        gradebook.find_submission_notebook(assignment.stem, assignment.name, student)
        return True
    except MissingEntry:
        return False


def assignment_in_gradebook(course, name):
    try:
        with Gradebook(course.db_url) as gradebook:
            return any(a.name == name for a in gradebook.assignments)
    except Exception:  # no gradebook yet, or a database that does not answer
        return False
