"""A batch's report: the findings of each submission in the instructor's terms, one escaped line
each, and the mistakes the failed cells show (grading_report.txt), and the table of scores by
cell (grades_by_cell.csv)."""

import nbformat

from course.core import SUFFIX, Finding, escape, spreadsheet
from course.grading import misconceptions
from course.plugins import (ExecuteWithHiddenTests, KeepHandGrades, KeepPointsForStderr,
                            OnlyVerdictsScore, extra_paths, release_paths)


def _grade_ids(notebook):
    """{grade_id: cell} of a notebook's nbgrader cells."""
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}


def _stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == name)


def findings(course, assignment, record):
    """What went wrong in one submission (a SubmissionResult), in the instructor's terms: a list
    of Finding."""
    student, scores = record.student, record.scores

    def finding(cell, kind, message):
        return Finding(student, cell, kind, message)

    if not record.graded:
        return [finding(None, "not graded", record.problem)]
    found = []
    submitted = course.path("submitted", student, assignment.name)
    extra = extra_paths(submitted, release_paths(course.root / "source", assignment.name,
                                                 assignment.notebook))
    if extra:
        shown = ", ".join(escape(path, 80) for path in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        found.append(finding(None, "files", f"{shown}{more} beside the notebook: not used in "
                             "grading (the notebook runs beside the assignment's own files "
                             "alone)"))
    notebook = nbformat.read(course.path("autograded", student, assignment.name)
                             / assignment.notebook, as_version=4)
    present = _grade_ids(notebook)
    try:  # a test cell it lacks was put back by nbgrader (OverwriteCells)
        submitted_ids = _grade_ids(nbformat.read(submitted / assignment.notebook, as_version=4))
    except (OSError, ValueError):  # replaced or removed since: nothing to say
        submitted_ids = present
    for test in assignment.points:
        if test not in present:
            found.append(finding(test, "test cell", "the test cell is missing (deleted from the "
                                 "submission): nbgrader scores it 0"))
        elif test not in submitted_ids:
            found.append(finding(test, "test cell", "the test cell was deleted from the "
                                 "submission; nbgrader put it back and ran it"))
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", "a cell the student added")
        verdict = ExecuteWithHiddenTests.verdict_of(cell)
        if not verdict["passed"]:
            found.append(finding(grade_id.removesuffix(SUFFIX), "hidden",
                                 "hidden tests failed: "
                                 + (verdict["message"].splitlines() or [""])[0]))
        hidden = ExecuteWithHiddenTests.error_of(cell)  # reported above, from the verdict
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        for output in errors:
            if output is hidden:
                continue
            first = (output.evalue.splitlines() or [""])[0]
            found.append(finding(grade_id, "error", f"{output.ename}: {first}"))
        if cell.metadata.get(OnlyVerdictsScore.KEY):
            found.append(finding(grade_id, "result", "the test cell's code gave a value (Out:), "
                                 "which nbgrader would have read as the cell's score; it was "
                                 "shown, not scored"))
        cut = cell.metadata.get(ExecuteWithHiddenTests.OUTPUT_CUT)
        if cut:
            found.append(finding(grade_id, "output", f"{cut['outputs']} outputs of "
                                 f"{cut['characters']:,} characters in all were not kept (past "
                                 "the grader's limit on a cell's or a notebook's output)"))
        if cell.metadata.get(KeepHandGrades.KEY) == "cleared":
            found.append(finding(grade_id, "hand grade", "the answer changed since it was graded "
                                 "by hand: that grade and its comment were removed; grade it "
                                 "again"))
        kept = cell.metadata.get(KeepPointsForStderr.KEY)
        if kept:
            found.append(finding(grade_id, "stderr", "wrote to stderr and passed its tests: "
                                 f"points kept (nbgrader would give 0): {kept}"))
        elif meta.get("grade") and not errors and _stream_text(cell, "stderr"):
            zero = scores.get(grade_id.removesuffix(SUFFIX), [None])[0] == 0
            why = " and scores 0 for it (nbgrader counts stderr as a failure)" if zero else ""
            first = (_stream_text(cell, "stderr").strip().splitlines() or [""])[0]
            found.append(finding(grade_id, "stderr", f"wrote to stderr{why}: {first}"))
    if record.killed:
        found.append(finding(None, "processes", f"{record.killed} processes it left running "
                             "were killed when its grading ended"))
    if record.feedback_problem:
        found.append(finding(None, "feedback", "graded (its scores are in the gradebook), but "
                             f"no feedback page was made: {record.feedback_problem}. Fix: "
                             "`python -m course.term feedback` once the cause is fixed"))
    return found


def render(finding):
    """One line of reports/grading_report.txt; every field escaped."""
    cell = f"{escape(finding.cell, 60)}: " if finding.cell else ""
    kind = "NOT GRADED: " if finding.kind == "not graded" else ""
    return f"{escape(finding.student, 80)}: {cell}{kind}{escape(finding.message)}"


def report_lines(results):
    """reports/ASSIGNMENT/grading_report.txt, rendered from a batch's Results: a line per
    finding, what the failed cells show (misconceptions.py), then the batch's checks."""
    batch, changed = results.batch, results.batch.course_files_changed
    return [*(render(finding) for finding in results.findings),
            *misconceptions.report_lines(results.misconceptions),
            f"course files: {'unchanged' if not changed else 'CHANGED: ' + ', '.join(changed)}",
            f"gradebook: integrity {batch.gradebook_integrity}, {batch.submissions_recorded} of "
            f"{batch.submissions} submissions recorded",
            f"sandbox processes left after grading: {batch.processes_left}"]


def _shown(score):
    """A score as the tables show it: a written answer not graded by hand yet is "to grade"."""
    return "to grade" if score is None else f"{score:g}" if isinstance(score, float) else score


def write_table(folder, assignment, records):
    cells = assignment.functions + list(assignment.manual)
    with open(folder / "grades_by_cell.csv", "w", newline="") as handle:
        writer = spreadsheet.writer(handle)
        writer.writerow(["student", *cells, "total", "max", "seconds", "status"])
        for student, record in records.items():
            per_cell = record.scores
            writer.writerow([escape(student, 80),
                             *(_shown(per_cell.get(c, ("", ""))[0]) for c in cells),
                             sum(score or 0 for score, _ in per_cell.values()),
                             sum(top for _, top in per_cell.values()), f"{record.seconds:.1f}",
                             record.status])
    width = max(len(name) for name in cells) + 2
    print(f"\n{assignment.name}\n" + f"{'student':40s}" + "".join(f"{c:>{width}s}" for c in cells)
          + f"{'total':>8s}")
    for student, record in records.items():
        per_cell = record.scores
        row = "".join(f"{f'{_shown(per_cell[c][0])} / {per_cell[c][1]:g}':>{width}s}"
                      if c in per_cell else f"{'not graded':>{width}s}" for c in cells)
        total = sum(score or 0 for score, _ in per_cell.values())
        print(f"{escape(student, 40):40s}{row}{total:>8g}")
