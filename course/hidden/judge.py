"""Hidden tests: computed in the student's kernel, judged in the grader.

An assignment has hidden tests when hidden/ASSIGNMENT/ holds hidden_checks.py (OUTPUTS: {graded
function: function -> {key: array}}, run in the kernel) and references.npz (the instructor
solution's outputs, keys "FUNCTION/CASE/WHAT", made by `python -m course.authoring.references`).
While nbgrader autogrades, course.plugins.preprocessors.ExecuteWithHiddenTests appends `cells()` to
the notebook, so the kernel that ran the student's notebook computes the outputs too (no second
process, no second TensorFlow); it then takes the cells out again and `verdicts` compares what
they published with the references, which this process read before any student code ran and
which never enter the kernel.
"""
import base64
import binascii
import functools
import io
import json
from pathlib import Path

import nbformat
import numpy as np

from course.core import SETTINGS
from course.hidden import roles, untrusted

ATOL, RTOL = 1e-4, 1e-3  # see hidden_checks.py for why
OUTPUT_BYTES = SETTINGS.output_bytes  # course.core.settings.Settings says what
ROLES_SOURCE = Path(roles.__file__).read_text()  # the checks' weights by role, for the kernel
KEY = "course_hidden"  # metadata of the cells this module adds: the graded function's name


class HiddenTestsError(RuntimeError):
    pass


class HiddenTests:
    """One assignment's hidden tests: its checks' code for the kernel, its references for us."""

    def __init__(self, folder):
        folder = Path(folder)
        self.folder = folder
        try:
            self.checks_source = (folder / "hidden_checks.py").read_text()
            with np.load(folder / "references.npz", allow_pickle=False) as stored:
                self.references = {key: stored[key] for key in stored.files}
        except (OSError, ValueError) as error:
            raise HiddenTestsError(
                f"{folder}: the hidden tests need hidden_checks.py and a readable "
                f"references.npz ({type(error).__name__}: {error}). Fix: run `make references`."
            ) from None
        # the graded functions, in the references' order
        self.functions = list(dict.fromkeys(key.split("/")[0] for key in self.references))

    @classmethod
    def of(cls, hidden, assignment):
        """The hidden tests of `assignment` under the folder `hidden`, or None if it has none."""
        folder = Path(hidden) / assignment
        return cls(folder) if folder.is_dir() else None

    # --- in the kernel --------------------------------------------------------------------
    def cells(self):
        """Code cells that compute and publish every graded function's outputs: a set-up cell,
        then one per function (each under nbgrader's per-cell timeout)."""
        runner = Path(untrusted.__file__).read_text()
        setup = nbformat.v4.new_code_cell(
            "# Added by the grader after your notebook ran; removed before it is saved.\n"
            "__course_hidden__ = {}\n"
            f"exec(compile({runner!r}, 'untrusted.py', 'exec'), __course_hidden__)\n"
            "__course_hidden__['release_memory']()\n"
            "__course_hidden__['exit_quickly']()\n"
            "__course_hidden__['checks'] = __course_hidden__['load_checks']("
            f"{self.checks_source!r}, {ROLES_SOURCE!r})\n")
        setup.metadata[KEY] = ""
        cells = [setup]
        for function in self.functions:
            cell = nbformat.v4.new_code_cell(
                f"__course_hidden__['publish'](__course_hidden__['checks'], {function!r}, "
                "globals())\n")
            cell.metadata[KEY] = function
            cells.append(cell)
        return cells

    # --- in this process (tests, the audit's mistake catalog) -----------------------------
    @functools.cached_property
    def checks(self):
        """The hidden checks as a module of this process (imports Keras)."""
        return untrusted.load_checks(self.checks_source, ROLES_SOURCE)

    def check(self, function_name, function):
        """Run the hidden tests of `function_name` on `function` in this process: raise
        AssertionError unless its outputs match the references."""
        compare(function_name, untrusted.outputs(self.checks, function_name, function),
                self.references)

    # --- in the grader --------------------------------------------------------------------
    def published(self, cells):
        """{function: what its cell of the executed `cells()` published ({key: array}, or a
        message saying why there is none); None where the cell never ran}."""
        found = {cell.metadata[KEY]: _published(cell) for cell in cells
                 if cell.metadata.get(KEY)}
        return {function: found.get(function) for function in self.functions}

    def verdicts(self, published):
        """{function: None if its hidden tests passed, else a message}, from `published`."""
        return {function: _judge(function, published[function], self.references)
                for function in self.functions}


def _published(cell):
    """(outputs, error) a hidden-test cell published, or a message saying why there are none."""
    found = [o["data"][untrusted.MIME] for o in cell.get("outputs", [])
             if o.get("output_type") == "display_data" and untrusted.MIME in o.get("data", {})]
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if len(found) != 1:
        why = (f"{errors[-1].get('ename')}: {errors[-1].get('evalue', '')}" if errors
               else f"{len(found)} results instead of one")
        return f"the hidden tests gave no usable result ({why})"[:300]
    payload = found[0]
    if isinstance(payload, str):  # nbformat may keep JSON data as text
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = None
    try:
        if payload.get("error"):
            return str(payload["error"])[:300]
        data = base64.b64decode(payload["npz"], validate=True)
        if len(data) > OUTPUT_BYTES:
            raise ValueError("too large")
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (AttributeError, KeyError, TypeError, ValueError, OSError, binascii.Error) as error:
        return f"the hidden tests gave no usable result ({type(error).__name__})"


def _judge(function, outputs, references):
    """None if `outputs` match the references of `function`, else what differs (one line)."""
    if outputs is None:
        return "the hidden tests did not run (the notebook stopped before them)"
    if isinstance(outputs, str):
        return outputs
    try:
        compare(function, outputs, references)
    except AssertionError as error:
        return str(error)
    return None


def _compare_text(function, key, value, expected, case):
    """Raise AssertionError unless the text array `value` is `expected`, saying what differs
    (what the solution has and this one lacks, and the reverse; each shown escaped, briefly)."""
    value = np.asarray(value)
    if (value.dtype.kind == "U" and value.shape == expected.shape
            and np.array_equal(value, expected)):
        return
    found = [str(item) for item in np.ravel(value)] if value.dtype.kind == "U" else []
    wanted = [str(item) for item in np.ravel(expected)]
    if sorted(found) == sorted(wanted):
        difference = "the same items in another order"
    else:
        def shown(items):
            return ", ".join(ascii(item)[:60] for item in items[:4]) or "nothing"
        difference = (f"expected {shown([w for w in wanted if w not in found])}, found "
                      f"{shown([f for f in found if f not in wanted])}")
    raise AssertionError(f"{function}: {key.split('/')[-1]}: not what the specification "
                         f"gives{case}: {difference}.")


def compare(function, outputs, references):
    """Raise AssertionError, naming `function`, unless its entries of `outputs` match those of
    `references` ({key: array}): text and integer arrays exactly, the others within ATOL +
    RTOL."""
    wanted = sorted(key for key in references if key.split("/")[0] == function)
    found = sorted(key for key in outputs if key.split("/")[0] == function)
    if found != wanted:
        raise AssertionError(f"{function}: the hidden tests produced outputs {found[:4]}, "
                             f"expected {wanted[:4]}.")
    for key in wanted:
        expected, what = references[key], key.split("/")[-1]
        case = f" (case {'/'.join(key.split('/')[1:-1])})" if key.count("/") > 1 else ""
        if expected.dtype.kind == "U":  # names and the like: compared as text, exactly
            _compare_text(function, key, outputs[key], expected, case)
            continue
        try:
            value = np.asarray(outputs[key], dtype=expected.dtype)
        except (TypeError, ValueError):
            raise AssertionError(f"{function} ({key}): the output is not an array of "
                                 "numbers.") from None
        if value.shape != expected.shape:
            raise AssertionError(f"{function} ({key}): output shape {value.shape}, expected "
                                 f"{expected.shape}.")
        if np.issubdtype(expected.dtype, np.integer):
            if not np.array_equal(value, expected):
                raise AssertionError(f"{function}: the {what} differ from the reference "
                                     f"solution's{case}.")
        elif not np.allclose(value, expected, atol=ATOL, rtol=RTOL):
            worst = float(np.max(np.abs(value - expected)))
            raise AssertionError(
                f"{function}: with the grader's fixed weights, the {what} output differs from "
                f"the reference solution's by up to {worst:.3g}{case}. Re-read the "
                "exercise's specification.")
