"""The hidden tests' kernel side: the outputs of each graded function, computed in the student's
own kernel after their notebook ran.

course/hidden/judge.py sends this file's text, course/hidden/roles.py's and the assignment's
hidden_checks.py in cells it appends to the notebook while grading, and removes those cells before
anything is saved. All of this runs beside the student's code, so none of it is trusted and none of
it is secret: it publishes outputs, and the grader compares them with references that never enter
the kernel.
Also imported by course.authoring.references, which computes the references the same way.
"""
import base64
import io
import types

MIME = "application/vnd.course.hidden-outputs+json"  # the display data that carries outputs


def load_checks(source, roles_source):
    """The hidden checks as a fresh module (never sys.modules' copy, which the student's code
    could have replaced), given course/hidden/roles.py (`roles_source`) as a fresh module
    `roles`."""
    roles = types.ModuleType("roles")
    exec(compile(roles_source, "roles.py", "exec"), roles.__dict__)
    module = types.ModuleType("hidden_checks")
    module.roles = roles
    exec(compile(source, "hidden_checks.py", "exec"), module.__dict__)
    return module


def release_memory():
    """Let go of what the notebook's last error holds: its traceback keeps the failing cell's
    local variables alive, so a cell that allocated memory until refused would leave the hidden
    tests of the other functions none. Then collect."""
    import gc
    import sys

    sys.last_type = sys.last_value = sys.last_traceback = None
    gc.collect()


def exit_quickly():
    """Make the kernel's exit, when the grader shuts it down after these tests, skip what Python
    and TensorFlow tear down at exit: about 1 s of every submission's grading, against 0.1 s.
    The last exit handler registered runs first; the outputs have all been sent by then. Only
    speed depends on it, so whatever the student's code did to these modules, it never fails."""
    try:
        import atexit
        import os

        atexit.register(os._exit, 0)
    except BaseException:  # noqa: BLE001 - a slower exit, nothing else
        pass


def undefined(name):
    """Why graded function `name` has no outputs when the notebook's cells never defined it."""
    return f"{name} is not defined after running the notebook's cells."


def first_line(error):
    if isinstance(error, NotImplementedError):
        return "NotImplementedError: the function is not written yet"
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"[:300]


def outputs(checks, name, function):
    """{key: array} of graded function `name`, computed by the hidden checks on `function`;
    eagerly (no tf.function tracing) where the checks list `name` in EAGER."""
    import numpy as np

    eager = name in getattr(checks, "EAGER", ())
    if eager:
        import tensorflow as tf

        before = tf.config.functions_run_eagerly()
        tf.config.run_functions_eagerly(True)
    try:
        return {key: np.asarray(value) for key, value in checks.OUTPUTS[name](function).items()}
    finally:
        if eager:
            tf.config.run_functions_eagerly(before)


def publish(checks, name, namespace):
    """Compute the outputs of graded function `name` from the student's `namespace` and publish
    them, with the error that stopped them if any, as display data of type MIME."""
    import contextlib

    import numpy as np
    from IPython.display import publish_display_data

    arrays, error = {}, None
    function = namespace.get(name)
    if not callable(function):
        error = undefined(name)
    else:
        try:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                arrays = outputs(checks, name, function)
        except BaseException as caught:  # noqa: BLE001 - reported as this function's failure
            arrays, error = {}, first_line(caught)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    publish_display_data({MIME: {"function": name, "error": error,
                                 "npz": base64.b64encode(buffer.getvalue()).decode("ascii")}})
