"""The course's ground floor, which imports nothing else of the course: the course folder as
nbgrader sees it (folder.py: `Course`, its nbgrader_config.py, nbgrader's command line,
`copy_course`), the assignments declared once (assignments.py), what grading produces as data
(records.py), every number that bounds grading with its help (settings.py), text from a
submission made safe (text.py, spreadsheet.py) and an instructor notebook as code (notebook.py).
This file is the face the other packages call.
"""
from course.core import spreadsheet  # modules it shows
from course.core.assignments import AssignmentError, SUFFIX, assignments, find
from course.core.folder import (Course, NBGRADER, copy_course, default_root, files_under,
                                nbgrader_config, nbgrader_environment, run_logged)
from course.core.notebook import (IMPORTS, assignment_module, cell_functions, grade_id,
                                  run_answers, solution_sources, use_folder, written_answers)
from course.core.records import (Autograded, Batch, DIED, FAILED, Finding, GRADED, Misconception,
                                 NOT_GRADED, REFUSED, Results, SubmissionResult, TIMED_OUT)
from course.core.settings import Delivery, OUTPUT_LIMITS, SETTINGS, Settings
from course.core.text import escape, safe_id

__all__ = ["AssignmentError", "Autograded", "Batch", "Course", "DIED", "Delivery", "FAILED",
           "Finding", "GRADED", "IMPORTS", "Misconception", "NBGRADER", "NOT_GRADED",
           "OUTPUT_LIMITS", "REFUSED", "Results", "SETTINGS", "SUFFIX", "Settings",
           "SubmissionResult", "TIMED_OUT",
           "assignment_module", "assignments", "cell_functions", "copy_course", "default_root",
           "escape", "files_under", "find", "grade_id", "nbgrader_config", "nbgrader_environment",
           "run_answers", "run_logged", "safe_id", "solution_sources", "spreadsheet", "use_folder",
           "written_answers"]
