"""The roster: the LMS's CSV read and checked, then every student put in the gradebook."""
import csv

from nbgrader.api import Gradebook

from course.core import safe_id
from course.term.term import TermError

ROSTER_COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id")


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
