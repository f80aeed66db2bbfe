"""One assignment's batch, graded by a Grader (local or queue) and written as data
(grading_results.json) with its reports; whether the grader, not the class, failed."""
import dataclasses
import time

from course.core import FAILED, Batch, Results, escape, safe_id
from course.grading import misconceptions
from course.grading.gradebook import cell_scores, gradebook_check
from course.grading.report import findings, report_lines, write_table


def grade_assignment(course, assignment, students, grader):
    """Grade `students`' submissions of `assignment` with `grader` (a Grader: local, or the task
    queue's); write its reports; return its results."""
    boundary, isolation = grader.isolation()
    print(f"{assignment.name}: grading {len(students)} submissions, {grader.jobs} at a time; "
          f"sandbox: {isolation}", flush=True)
    try:
        started = time.perf_counter()
        records = grader.run(students)
        elapsed = time.perf_counter() - started
        safe = [s for s in students if safe_id(s)]
        scores = cell_scores(course, assignment, safe)
        records = {student: dataclasses.replace(record, scores=scores.get(student, {}))
                   for student, record in records.items()}
        write_table(grader.reports, assignment, records)
        changed = sorted(path for path, digest in course.files_digest().items()
                         if grader.digest.get(path) != digest)
        integrity, recorded = gradebook_check(course, assignment, safe)
        left = None if grader.unsafe else grader.leftover_processes()
        batch = Batch(assignment.name, len(students), grader.jobs, boundary, round(elapsed, 1),
                      round(elapsed / len(students), 2), changed, integrity, recorded,
                      None if grader.unsafe else len(left))
        found = [f for record in records.values() for f in findings(course, assignment, record)]
        everyone = misconceptions.of_class(course, assignment)  # the class so far
        misconceptions.write(grader.reports, assignment, everyone)
        graded = {s for s in safe if s in records and records[s].graded}
        results = Results(batch, records, found, [m for m in everyone if m.student in graded])
        results.write(grader.reports / "grading_results.json")
        report = report_lines(results)
        (grader.reports / "grading_report.txt").write_text("\n".join(report) + "\n")
        print("\n" + "\n".join(report))
        per = batch.seconds_per_submission
        rate = f", {60 / per:.1f} submissions per minute" if per else ""
        print(f"\n{assignment.name}: graded {len(students)} submissions in {elapsed:.0f} s with "
              f"{grader.jobs} jobs: {per:.1f} s per submission{rate}")
        where = grader.reports.relative_to(course.root)
        print(f"feedback in feedback/<student>/{assignment.name}/, grades in "
              f"reports/grades.csv and {where}/grades_by_cell.csv, findings in "
              f"{where}/grading_report.txt, all of it as data in {where}/grading_results.json; "
              f"what the class got wrong in {where}/{misconceptions.CSV}", flush=True)
    finally:  # its kernels' reports, however the batch ends
        grader.close()
    return results


# How nbclient says a kernel never ran a cell: before any of a submission's code ran, so no
# submission can cause it
AT_START = ("before replying to kernel_info", "Kernel didn't respond", "cannot sandbox")


def broken_grader(records):
    """Why the grader, not the class, failed: nbgrader failed on every one of two or more
    submissions for one and the same reason, a kernel that never ran a cell (AT_START); else
    None. (A submission refused before nbgrader, a missing notebook, says so itself.)"""
    reasons = {record.error for record in records.values() if record.failure == FAILED}
    failed = sum(record.failure == FAILED for record in records.values())
    if len(records) < 2 or failed < len(records) or len(reasons) != 1:
        return None
    reason = f"nbgrader autograde failed: {reasons.pop()}"
    if not any(sign in reason for sign in AT_START):  # a submission can do that
        return None
    return (f"all {len(records)} submissions failed the same way ({escape(reason, 200)}): "
            "the grader is broken, not the class. Fix: `python -m course.sandbox check` says "
            "what a grading kernel lacks; grade again once it passes")
