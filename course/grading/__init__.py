"""Grading a batch: what is graded (intake.py: the submissions of submitted/, each checked
before nbgrader takes it), the Grader interface (protocol.py) and the local grader (local.py,
with one worker.py process per job, each running nbgrader's autograde and generate_feedback as
nbgrader_config.py declares them), the batch run `jobs` at a time (parallel.py), what the
gradebook then says (gradebook.py), and the batch written as data with its reports (batch.py,
report.py; misconceptions.py: what the failed cells show). The task queue's grader
(course/queue/) is another Grader; course/grade.py picks one. This file is the face the other
packages call.
"""
from course.grading import misconceptions  # modules it shows
from course.grading.batch import broken_grader, grade_assignment
from course.grading.gradebook import assignment_in_gradebook
from course.grading.intake import (check_submission, classes, permissions_warning,
                                   readable_by_others, shard)
from course.grading.local import LocalGrader
from course.grading.report import findings, render, report_lines

__all__ = ["LocalGrader", "assignment_in_gradebook", "broken_grader", "check_submission",
           "classes", "findings", "grade_assignment", "permissions_warning", "readable_by_others",
           "misconceptions", "render", "report_lines", "shard"]
