"""The sample submissions of an assignment, made from its release notebook; `make demo`
(course/demo.py) grades them in a demo copy of the course, the audit in its own: never in the
real class's submitted/.

Each submission is the release notebook with its answer cells filled in, as a student would hand
it in: the instructor solution (with the model answer of any written answer, which waits for
the instructor's grade), the untouched release, and one per sample mistake of the
assignment's catalog (hidden/ASSIGNMENT/catalog.py, course/audit/catalog.py): one realistic text
edit of one answer cell of the solution.
"""
import nbformat

from course.audit import catalog
from course.core import solution_sources, written_answers

SOLUTION, UNTOUCHED = "instructor-solution", "untouched-release"


def with_answers(assignment, answers):
    """The release notebook of `assignment` with the given answer cells' sources replaced."""
    notebook = nbformat.read(assignment.release(), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def submissions(assignment):
    """{student id: notebook} of every sample submission of `assignment`."""
    answers = solution_sources(assignment.source())
    solution = answers | written_answers(assignment.source())  # for the instructor to grade
    result = {SOLUTION: with_answers(assignment, solution),
              UNTOUCHED: nbformat.read(assignment.release(), as_version=4)}
    for mistake in catalog.of(assignment).samples:
        result[mistake.student] = with_answers(assignment, catalog.apply(mistake, answers))
    return result


def expected_scores(assignment):
    """{student id: {grade cell: points}} that autograding must give each sample submission."""
    points = assignment.points
    scores = {SOLUTION: dict(points), UNTOUCHED: {cell: 0 for cell in points}}
    for mistake in catalog.of(assignment).samples:
        scores[mistake.student] = {cell: 0 if cell == mistake.loses else value
                                   for cell, value in points.items()}
    return scores
