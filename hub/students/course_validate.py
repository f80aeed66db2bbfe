"""The students' Validate button, without stopping their Jupyter server while it runs.

nbgrader's validate_assignment server extension runs the whole notebook inside its request
handler, on the server's one event loop: for the 15-60 s of a Validate, the student's Jupyter
answers nothing (no save, no cell run, no other tab). This extension serves the same two
addresses with nbgrader's own handlers (the same checks, config and answer), the notebook run
on a thread beside the loop. It replaces nbgrader's in the students' environment
(hub/students/jupyter_server_config.py disables that one: two on the same address would
leave it to load order which answers).

This file is copied into the students' Python by `python -m course.hub setup`; it imports
nothing of the course (the course folder is closed to students).
"""
import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment.handlers import (NbGraderVersionHandler,
                                                                      ValidateAssignmentHandler)
from tornado import web


# one Validate at a time: nbgrader's Validator changes the process's working folder while it
# reads and runs a notebook, so two at once could read each other's folder
VALIDATING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-validate")


class ValidateBesideTheLoop(ValidateAssignmentHandler):
    """nbgrader's handler, its `validate_notebook` run on a thread of its own."""

    @web.authenticated
    async def post(self):
        try:
            path = self.get_argument("path")
        except web.MissingArgumentError:
            path = self.get_json_body()["path"]
        output = await asyncio.get_running_loop().run_in_executor(
            VALIDATING, self.validate_notebook, path)
        self.finish(json.dumps(output))


def _jupyter_server_extension_points():
    return [{"module": "course_validate"}]


def _load_jupyter_server_extension(server):
    """Serve /assignments/validate and /nbgrader_version, as nbgrader's extension does."""
    web_app = server.web_app
    web_app.settings["root_dir"] = server.root_dir
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base_url, "/assignments/validate"), ValidateBesideTheLoop),
        (url_path_join(base_url, "/nbgrader_version"), NbGraderVersionHandler)])
    server.log.info("course_validate: Validate runs beside the server's event loop")
