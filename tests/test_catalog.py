"""Every assignment's catalog (hidden/ASSIGNMENT/catalog.py, course/catalog.py), graded in this
process: each mistake fails its own grade cell with a message naming it, each correct variant
passes."""
import pytest

from conftest import ROOT
from course import catalog
from course.assignments import assignments
from course.audit import audit

CATALOGS = [catalog.of(assignment) for assignment in assignments(ROOT).values()]
MISTAKES = [(found.assignment, m) for found in CATALOGS for m in found.all_mistakes]
VARIANTS = [(found.assignment, m) for found in CATALOGS for m in found.variants]


def _id(entry):
    return f"{entry[0].name}:{entry[1].student}"


def test_every_assignment_has_a_catalog():
    assert [found.assignment.name for found in CATALOGS] == list(assignments(ROOT))


@pytest.mark.parametrize("entry", MISTAKES, ids=_id)
def test_every_cataloged_mistake_fails_its_grade_cell(entry):
    assignment, mistake = entry
    [row] = audit(assignment, [mistake])
    assert not row["passed"], f"{mistake.student} ({mistake.why}) passed {mistake.cell}'s tests"
    # Feedback a student can act on: the tests' own message naming the cell, not a Keras error.
    assert row["message"].startswith(f"AssertionError: {mistake.cell}: "), row["message"]


@pytest.mark.parametrize("entry", VARIANTS, ids=_id)
def test_every_correct_variant_passes_its_grade_cell(entry):
    assignment, variant = entry
    [row] = audit(assignment, [variant])
    assert row["passed"], f"{variant.student} ({variant.why}): {row['message']}"


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
