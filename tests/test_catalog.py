"""The catalog of mistakes and correct variants (course/catalog.py), graded in this process."""
import pytest

from course.audit import audit
from course.catalog import MUTANTS, VARIANTS


@pytest.mark.parametrize("mistake", MUTANTS, ids=lambda m: m.student)
def test_every_cataloged_mistake_fails_its_grade_cell(mistake):
    [row] = audit([mistake])
    assert not row["passed"], f"{mistake.student} ({mistake.why}) passed {mistake.cell}'s tests"
    # Feedback a student can act on: the tests' own message naming the cell, not a Keras error.
    assert row["message"].startswith(f"AssertionError: {mistake.cell}: "), row["message"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda m: m.student)
def test_every_correct_variant_passes_its_grade_cell(variant):
    [row] = audit([variant])
    assert row["passed"], f"{variant.student} ({variant.why}): {row['message']}"


def test_catalog_has_at_least_eight_mistakes_per_graded_cell():
    cells = {"identity_block", "convolutional_block", "ResNet50", "bn_behaviour",
             "reestimate_bn_statistics", "transfer_model", "unfreeze_last_stage"}
    assert {cell: sum(m.cell == cell for m in MUTANTS) >= 8 for cell in cells} == dict.fromkeys(
        cells, True)
    assert len({m.student for m in MUTANTS + VARIANTS}) == len(MUTANTS + VARIANTS)
