"""The students' Jupyter server: put in their Python's etc/jupyter by `python -m course.hub
setup`. nbgrader's Assignments and Courses pages; Validate from course_validate (the same
handler, run beside the server's event loop); no formgrader (its pages are the graders')."""
c = get_config()  # noqa: F821 (provided by Jupyter)

c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.validate_assignment": False,
    "course_validate": True,
}
