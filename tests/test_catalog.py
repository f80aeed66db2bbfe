"""Every assignment's catalog (hidden/ASSIGNMENT/catalog.py, course/audit/catalog.py): enough
mistakes and variants per graded function, and a catalog that does not fit is one clear error.

Each mistake failing its own grade cell with feedback naming it, and each correct variant
keeping its points, is graded through nbgrader by the grade audit (tests/test_grading.py); the
same check in this process, each entry alone, is `python -m course.audit --in-process` (a
minute or two, for whoever edits a catalog): CI no longer runs it twice (230 s on a 2-core AVX2
CPU, docs/results.md, "CI on a 2-core AVX2 CPU")."""
import pytest
from conftest import ROOT

from course.audit import catalog
from course.core import assignments

CATALOGS = [catalog.of(assignment) for assignment in assignments(ROOT).values()]


def test_every_assignment_has_a_catalog():
    assert [found.assignment.name for found in CATALOGS] == list(assignments(ROOT))


@pytest.mark.parametrize("found", CATALOGS, ids=lambda found: found.assignment.name)
def test_at_least_eight_mistakes_and_three_variants_per_graded_function(found):
    functions = found.assignment.functions
    mistakes = {f: sum(m.cell == f for m in found.all_mistakes) for f in functions}
    variants = {f: sum(m.cell == f for m in found.variants) for f in functions}
    assert {f: n for f, n in mistakes.items() if n < 8} == {}
    assert {f: n for f, n in variants.items() if n < 3} == {}


def test_a_catalog_that_does_not_fit_its_assignment_is_one_clear_error(tmp_path):
    assignment = next(iter(assignments(ROOT).values()))
    broken = type(assignment)(tmp_path, assignment.name, assignment.notebook, assignment.points)
    (tmp_path / "hidden" / assignment.name).mkdir(parents=True)
    (tmp_path / "hidden" / assignment.name / "catalog.py").write_text(
        'SAMPLES = [("wrong-x", "no_such_function", [("a", "b")], "why")]\n'
        "MISTAKES = []\nVARIANTS = []\n")
    with pytest.raises(catalog.CatalogError, match="edits 'no_such_function', which is not a "
                       "graded function of .*Fix: name one of them"):
        catalog.of(broken)
