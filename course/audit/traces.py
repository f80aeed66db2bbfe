"""The trace each cataloged mistake leaves when graded: its signature (course/hidden/signatures.py),
made in this process, and how well the signatures name the mistakes.

    python -m course.audit --signatures [--assignment NAME ...]

writes hidden/ASSIGNMENT/signatures.npz for every assignment with a catalog (`make references`
runs it after the references), then checks, for every mistake of the catalog: that its own trace
names it (top-1), and that with its signature left out it is called unknown, not another mistake
(an unknown mistake must not be forced into a known one). Two mistakes that leave the same trace
cannot be told apart by any grader; they are listed.
"""
import contextlib
import io

from course.audit import catalog
from course.core import run_answers, solution_sources
from course.hidden import Signature, Signatures, untrusted


def first_line(error):
    """An exception as nbgrader's error output reads in its first line ("Type: text")."""
    return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"[:300]


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def trace(assignment, mistake, answers, hidden, public_code):
    """The Signature of catalog entry `mistake`: what the hidden checks compute on it (as the
    kernel's publish does, course/hidden/untrusted.py) and its public test's first error line."""
    function, public = mistake.cell, None
    try:
        with _quiet():
            namespace = run_answers(catalog.apply(mistake, answers), assignment.source())
    except Exception as error:  # the cell fails to run: nothing of it is defined
        return Signature(mistake.student, function, mistake.why, {},
                         untrusted.undefined(function), first_line(error))
    try:
        with _quiet():
            exec(compile(public_code, f"<{function} public tests>", "exec"), namespace)
    except Exception as error:  # the public test's verdict, as nbgrader shows it
        public = first_line(error)
    answer = namespace.get(function)
    if not callable(answer):
        return Signature(mistake.student, function, mistake.why, {},
                         untrusted.undefined(function), public)
    try:
        with _quiet():
            outputs = untrusted.outputs(hidden.checks, function, answer)
    except BaseException as error:  # noqa: BLE001 - as the kernel reports it
        return Signature(mistake.student, function, mistake.why, {}, untrusted.first_line(error),
                         public)
    return Signature(mistake.student, function, mistake.why, outputs, None, public)


def signatures(assignment, hidden, public_sources):
    """The Signatures of every mistake of `assignment`'s catalog (samples first), computed with
    its HiddenTests `hidden`."""
    answers = solution_sources(assignment.source())
    return Signatures(trace(assignment, mistake, answers, hidden, public_sources[mistake.cell])
                      for mistake in catalog.of(assignment).all_mistakes)


def how_well(found):
    """(named, unknown when left out, [(mistake, what it was taken for)]) over `found`'s
    mistakes: whether each one's own trace names it top-1, and whether it is called unknown once
    its signature is left out."""
    named, unknown, confused = 0, 0, []
    for entry in found.entries:
        published = entry.error if entry.error is not None else entry.outputs
        top = found.likely(entry.function, published, entry.public)
        named += top is entry
        if top is not entry:
            confused.append((entry.name, top.name if top else "unknown"))
        unknown += found.without(entry.name).likely(entry.function, published,
                                                    entry.public) is None
    return named, unknown, confused
