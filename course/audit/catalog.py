"""Each assignment's catalog: realistic mistakes and correct answers written differently, as text
edits of the instructor solution's answer cells.

An assignment declares its catalog in hidden/ASSIGNMENT/catalog.py, a data file that imports
nothing of the course (hidden/ is never released), with three lists of entries
`(name, graded function, [(old, new), ...], why)`, optionally followed by `says`, a regular
expression the public test's message must match (the feedback the student acts on); each `old`
occurs exactly once in the function's answer cell of the solution:
- SAMPLES: at least one mistake per graded function: the sample submissions (`make demo`,
  course/audit/submissions.py), one mistake each;
- MISTAKES: the audit's others; every mistake must lose exactly its function's points, with
  feedback naming the function;
- VARIANTS: correct answers written differently; each must keep all of its function's points.

Read by course.audit.submissions, course.audit.adversarial (the hostile submissions start from the
samples' mistakes), `python -m course.audit` and tests/test_catalog.py.
"""
import functools
import types
from pathlib import Path

from course.core import SUFFIX

REQUIRED = ("SAMPLES", "MISTAKES", "VARIANTS")


class CatalogError(ValueError):
    pass


class Edit:
    """A text edit of one answer cell: a mistake (it loses the cell's points), or a correct
    answer written differently (Variant: it keeps them)."""
    correct = False

    def __init__(self, student, cell, edits, why, says=None):
        self.student, self.cell, self.edits, self.why, self.says = student, cell, edits, why, says

    @property
    def loses(self):
        """The grade cell whose points a mistake loses (None for a correct variant)."""
        return None if self.correct else f"{self.cell}{SUFFIX}"

    def __repr__(self):
        return f"{type(self).__name__}({self.student!r}, {self.cell!r})"


class Variant(Edit):
    """A correct answer written differently: it keeps every point of its cell."""
    correct = True


class Catalog:
    def __init__(self, assignment, samples, mistakes, variants):
        self.assignment = assignment
        self.samples, self.mistakes, self.variants = samples, mistakes, variants

    @property
    def all_mistakes(self):
        """The samples' mistakes and the others: every entry that must lose its points."""
        return self.samples + self.mistakes

    def sample(self, function):
        """The first sample mistake of graded function `function`."""
        return next(m for m in self.samples if m.cell == function)


def path(assignment):
    return assignment.hidden() / "catalog.py"


def has_catalog(assignment):
    return path(assignment).is_file()


@functools.cache
def _load(file):
    module = types.ModuleType("catalog")
    try:
        exec(compile(Path(file).read_text(), str(file), "exec"), module.__dict__)
    except (OSError, SyntaxError) as error:
        raise CatalogError(f"{file}: cannot read the catalog ({type(error).__name__}: {error}). "
                           "Fix: restore it from git.") from None
    return module


def of(assignment):
    """The catalog of `assignment` (an Assignment), checked against its graded functions; one
    error line naming the file, the entry and the fix if it does not fit."""
    file = path(assignment)
    module = _load(file)
    missing = [name for name in REQUIRED if not isinstance(getattr(module, name, None), list)]
    if missing:
        raise CatalogError(f"{file}: no list {', '.join(missing)}. Fix: define SAMPLES, MISTAKES "
                           "and VARIANTS (see course/audit/catalog.py).")
    entries = {}
    for kind in REQUIRED:
        entries[kind] = []
        for entry in getattr(module, kind):
            try:
                name, cell, edits, why, *says = entry
                edits = [(str(old), str(new)) for old, new in edits]
                if len(says) > 1:
                    raise ValueError
            except (TypeError, ValueError):
                raise CatalogError(f"{file}: {kind} entry {str(entry)[:60]!r} is not (name, "
                                   "function, [(old, new), ...], why[, says]). Fix: write it "
                                   "so.") from None
            if cell not in assignment.functions:
                raise CatalogError(f"{file}: {kind} entry {name!r} edits {cell!r}, which is not "
                                   f"a graded function of {assignment.name} "
                                   f"({', '.join(assignment.functions)}). Fix: name one of them.")
            made = Variant if kind == "VARIANTS" else Edit
            entries[kind].append(made(name, cell, edits, why, says=says[0] if says else None))
    names = [m.student for kind in REQUIRED for m in entries[kind]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    lacking = [f for f in assignment.functions if f not in {m.cell for m in entries["SAMPLES"]}]
    if repeated:
        raise CatalogError(f"{file}: names used twice: {', '.join(repeated)}. Fix: give every "
                           "entry its own name.")
    if lacking:
        raise CatalogError(f"{file}: no sample mistake of {', '.join(lacking)}. Fix: add one to "
                           "SAMPLES for every graded function.")
    return Catalog(assignment, entries["SAMPLES"], entries["MISTAKES"], entries["VARIANTS"])


def apply(mistake, answers):
    """`answers` ({grade_id: source}) with `mistake` made in its cell."""
    source = answers[mistake.cell]
    for old, new in mistake.edits:
        if source.count(old) != 1:
            raise CatalogError(f"catalog entry {mistake.student}: {old.strip()[:60]!r} occurs "
                               f"{source.count(old)} times in the solution's {mistake.cell}, "
                               "expected once. Fix: update hidden/ASSIGNMENT/catalog.py after "
                               "editing the solution.")
        source = source.replace(old, new)
    return {**answers, mistake.cell: source}
