"""What the class got wrong: every cell whose hidden tests failed, with the cataloged mistake its
outputs show (course/hidden/signatures.py; the grader wrote the mistake's name in the cell's
verdict while grading, course.plugins.ExecuteWithHiddenTests).

- `of_students`: one Misconception per failed cell of each student's autograded notebook;
- `table`: how many students made each mistake, by graded function, the unknown ones with a few
  student ids to read;
- `write`: reports/ASSIGNMENT/misconceptions.csv and misconceptions_FUNCTION.png, a bar chart
  per graded function;
- `report_lines`: the grading report's section.

A failure that matches no signature is UNKNOWN, never the nearest mistake; a function not
written at all (the release's NotImplementedError, or not defined) is NOT_WRITTEN. Nothing here
changes a score.
"""
import json

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402 - after the backend

from course.core import SUFFIX, Misconception, escape, spreadsheet  # noqa: E402
from course.hidden import HiddenTests, Signatures  # noqa: E402
from course.plugins import ExecuteWithHiddenTests  # noqa: E402

UNKNOWN, NOT_WRITTEN = "unknown", "not written"
NOT_WRITTEN_SIGNS = ("NotImplementedError", "is not defined after running")  # untrusted.py's
READ = 5  # student ids shown for unknown failures: a few to read
CSV, FIGURE = "misconceptions.csv", "misconceptions_{}.png"


def signatures_of(course, assignment):
    """The assignment's Signatures; none (an empty set) where it has no hidden tests."""
    tests = HiddenTests.of(course.root / "hidden", assignment.name)
    return Signatures.of(tests) if tests is not None else Signatures([])


def failed_cells(path, functions, known):
    """[(function, label)] of the autograded notebook `path`: each graded function whose hidden
    tests failed, with the mistake's name its verdict gives (one of `known`), NOT_WRITTEN or
    UNKNOWN. A notebook that cannot be read gives none."""
    try:
        cells = json.loads(path.read_text()).get("cells", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return []
    found = []
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        verdict = meta.get(ExecuteWithHiddenTests.VERDICT) if isinstance(meta, dict) else None
        nbgrader = meta.get("nbgrader") if isinstance(verdict, dict) else None
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        function = grade_id.removesuffix(SUFFIX) if isinstance(grade_id, str) else ""
        if function not in functions or verdict.get("passed"):
            continue
        name, message = verdict.get("misconception"), str(verdict.get("message", ""))
        if isinstance(name, str) and name in known:
            found.append((function, name))
        elif any(sign in message for sign in NOT_WRITTEN_SIGNS):
            found.append((function, NOT_WRITTEN))
        else:
            found.append((function, UNKNOWN))
    return found


def of_students(course, assignment, students, signatures):
    """[Misconception] of every failed cell of `students`' autograded notebooks."""
    known = {entry.name for entry in signatures.entries}
    whys = {UNKNOWN: "matches no cataloged mistake: read these",
            NOT_WRITTEN: "the function is not written (or not defined)"}
    return [Misconception(student, function, label,
                          whys.get(label) or signatures.named(label).why)
            for student in students
            for function, label in failed_cells(
                course.path("autograded", student, assignment.name) / assignment.notebook,
                assignment.functions, known)]


def of_class(course, assignment):
    """[Misconception] of every student with an autograded notebook of `assignment` (the class
    so far), with the assignment's own signatures."""
    return of_students(course, assignment, course.students("autograded", assignment),
                       signatures_of(course, assignment))


def table(rows, functions):
    """[(function, label, why, [students])], by graded function, most frequent first; UNKNOWN
    and NOT_WRITTEN last."""
    result = []
    for function in functions:
        counts, whys = {}, {}
        for row in rows:
            if row.function == function:
                counts.setdefault(row.misconception, []).append(row.student)
                whys[row.misconception] = row.why
        order = sorted(counts, key=lambda label: (label in (UNKNOWN, NOT_WRITTEN),
                                                  -len(counts[label]), label))
        result += [(function, label, whys[label], counts[label]) for label in order]
    return result


def write(folder, assignment, rows):
    """misconceptions.csv and one bar chart per graded function in `folder`; returns their
    paths."""
    rows_of = table(rows, assignment.functions)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{CSV}.partial"
    with open(partial, "w", newline="") as handle:
        writer = spreadsheet.writer(handle)
        writer.writerow(["function", "misconception", "why", "students", "which"])
        for function, label, why, students in rows_of:
            shown = students[:READ] if label == UNKNOWN else students
            more = f" and {len(students) - READ} more" if len(shown) < len(students) else ""
            writer.writerow([function, label, why, len(students),
                             " ".join(escape(s, 80) for s in shown) + more])
    partial.replace(folder / CSV)  # whole or not at all
    written = [folder / CSV]
    for function in assignment.functions:
        mine = [r for r in rows_of if r[0] == function]
        figure, axes = plt.subplots(figsize=(8, 1.2 + 0.35 * max(len(mine), 1)))
        labels = [f"{why[:70]}" + ("…" if len(why) > 70 else "") for _, _, why, _ in mine]
        counts = [len(students) for *_, students in mine]
        colors = ["#999999" if label in (UNKNOWN, NOT_WRITTEN) else "#c0392b"
                  for _, label, _, _ in mine]
        axes.barh(range(len(mine)), counts, color=colors)
        axes.set_yticks(range(len(mine)), labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel("students")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_title(f"{assignment.name}: {function}: what the failed cells show"
                       + ("" if mine else " (no failed cell)"), fontsize=9)
        figure.tight_layout()
        path = folder / FIGURE.format(function)
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def report_lines(rows):
    """The grading report's section: one line per function and mistake of `rows`
    ([Misconception])."""
    rows_of = table(rows, list(dict.fromkeys(row.function for row in rows)))
    if not rows_of:
        return ["misconceptions: none (no cell failed its hidden tests)"]
    lines = ["misconceptions (failed cells by the cataloged mistake their outputs show):"]
    for function, label, why, students in rows_of:
        few = ", ".join(escape(s, 40) for s in students[:READ])
        more = f" and {len(students) - READ} more" if len(students) > READ else ""
        lines.append(f"  {escape(function, 60)}: {len(students)} × {escape(label, 80)} "
                     f"({escape(why)}): {few}{more}")
    return lines
