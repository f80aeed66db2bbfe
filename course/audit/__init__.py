"""Audit the autograder: every cataloged mistake loses its cell's points with feedback that names
the cell, every correct variant keeps them, every hostile submission is contained: for every
assignment with a catalog (hidden/ASSIGNMENT/catalog.py).

    python -m course.audit [--jobs N] [--assignment NAME ...]  # through nbgrader (grade-audit)
    python -m course.audit --in-process                         # the catalogs only, checked here

Through nbgrader, the course is copied to build/grade-audit/, its assignments generated there,
and these submissions are made from each release notebook and graded with
`python -m course.grade --assignment NAME`: the sample submissions (submissions.py), the
catalog's mistakes packed one per graded function per submission (the functions are graded
independently: the samples, one mistake each, show that a mistake costs only its own cell), the
correct variants packed the same way, and the attacks of adversarial.py (those on the
machine on the assignment runs.py names for them, MACHINE_WIDE). Writes reports/grade_audit.csv and
reports/grade_audit_results.json and prints the kill rate.

The package: catalog.py (each assignment's mistakes and variants), submissions.py (the sample
submissions), adversarial.py (the attacks), traces.py (each mistake's signature, `--signatures`),
classes.py (synthetic classes for the instructor's reports), runs.py (the audit in-process and
through nbgrader), __main__.py (the command). This file is the face the other packages and the
tests call.
"""
from course.audit import catalog, classes  # modules it shows
from course.audit.adversarial import ATTACKS, LINKS, MARKUP, MISSING, XSS, attacks_for
from course.audit.runs import (AUDIT, LiveMarkup, MACHINE_WIDE, audit_submissions, grade_batch,
                               grade_cell, hidden_tests, in_process, main, prepare,
                               through_nbgrader)
from course.audit.submissions import SOLUTION, expected_scores, submissions, with_answers

__all__ = ["ATTACKS", "AUDIT", "LINKS", "LiveMarkup", "MACHINE_WIDE", "MARKUP", "MISSING",
           "SOLUTION", "XSS", "attacks_for", "audit_submissions", "catalog", "classes",
           "expected_scores", "grade_batch", "grade_cell", "hidden_tests", "in_process", "main",
           "prepare", "submissions", "through_nbgrader", "with_answers"]
