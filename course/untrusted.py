"""Compute the hidden tests' outputs for one submission, beside its code (course.grade runs this
in the sandbox).

    python untrusted.py NOTEBOOK CHECKS_FOLDER OUT_FD

Runs, in NOTEBOOK's folder, the notebook's imports cell, its answer cells and the cells the
student added (the instructor's other cells grade nothing), then, for each graded function, the
`*_outputs` function of CHECKS_FOLDER/hidden_checks.py, which needs nothing secret. Writes one
.npz file to the file descriptor OUT_FD (a pipe to the grader: nothing goes to disk): the
outputs, and ERRORS, a JSON text {cell: message}. The student's code runs in this process, so
all of it is untrusted: the grader compares it with references that never enter this process.
"""
import contextlib
import io
import json
import os
import signal
import sys

CELL_SECONDS = 120  # as nbgrader's Execute.timeout in nbgrader_config.py
ERRORS = "__errors__"  # the .npz entry holding {cell: message} as JSON text


class CellTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CellTimeout(f"no result after {CELL_SECONDS} s")


@contextlib.contextmanager
def limited():
    """Quiet, and at most CELL_SECONDS of wall time."""
    signal.alarm(CELL_SECONDS)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        signal.alarm(0)


def cells_to_run(notebook):
    """Sources of the imports cell, the answer cells and the cells without nbgrader metadata."""
    sources = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta or meta.get("solution") or meta.get("grade_id") == "imports":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else source)
    return sources


def first_line(error):
    if isinstance(error, NotImplementedError):
        return "NotImplementedError: the function is not written yet"
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"[:300]


def main(notebook_path, checks_folder, out_fd):
    signal.signal(signal.SIGALRM, _alarm)
    out = os.fdopen(int(out_fd), "wb")
    notebook_path, checks_folder = map(os.path.abspath, (notebook_path, checks_folder))
    os.chdir(os.path.dirname(notebook_path))
    sys.path[:0] = [os.getcwd(), checks_folder]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # the notebook's grading mode (GRADING)
    with open(notebook_path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    import hidden_checks  # before the student's code, like the notebook's imports
    import numpy as np

    namespace = {"__name__": "__main__"}
    for source in cells_to_run(notebook):
        try:
            with limited():
                exec(compile(source, "<cell>", "exec"), namespace)
        except BaseException:  # noqa: BLE001 - a failing cell fails in the notebook too
            pass
    outputs, errors = {}, {}
    for cell, compute in hidden_checks.OUTPUTS.items():
        function = namespace.get(cell)
        if not callable(function):
            errors[cell] = f"{cell} is not defined after running the notebook's cells."
            continue
        try:
            with limited():
                for key, value in compute(function).items():
                    outputs[key] = np.asarray(value)
        except BaseException as error:  # noqa: BLE001 - reported as this cell's failure
            errors[cell] = first_line(error)
    np.savez(out, **outputs, **{ERRORS: np.array(json.dumps(errors))})
    out.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python untrusted.py NOTEBOOK CHECKS_FOLDER OUT_FD")
    main(*sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: the student's code may have left threads behind
