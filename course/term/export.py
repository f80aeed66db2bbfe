"""The gradebook as the LMS imports it."""
import csv
import datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course.core import spreadsheet
from course.term.deadlines import reassign_late_penalties

FORMATS = ("nbgrader", "canvas", "moodle")


# a score's decimals in the LMS files: more than an LMS keeps (Canvas and Moodle show 2), and
# none of a float's noise (18.900000000000002, a score less its late penalty)
DECIMALS = 6


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
    (course/core/spreadsheet.py writes them)."""
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
