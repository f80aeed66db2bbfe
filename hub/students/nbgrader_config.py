"""The students' nbgrader configuration: put in their Python's etc/jupyter by `python -m
course.hub setup` (a student's Assignments tab and Validate read it from there).

Every value here is the course's own (nbgrader_config.py in the course folder, which students
cannot read); tests/test_hub.py fails when the two disagree.
"""
c = get_config()  # noqa: F821 (provided by nbgrader)

# the course's id and the exchange both sides name: a student whose exchange differs from the
# grader's sees no assignment
c.CourseDirectory.course_id = "resnets-course"
c.Exchange.root = "/usr/local/share/nbgrader/exchange"
# Validate runs a cell as grading does: the same per-cell limit (nbgrader's default is 30 s, and
# a cell between 30 s and 120 s would fail Validate and pass grading) and the same wait for a
# busy kernel's output
c.Execute.timeout = 120
c.Execute.iopub_timeout = 60
