"""The grade audit through nbgrader (course/audit.py, `make grade-audit`): the bundled submissions,
every cataloged mistake and correct variant, and the hostile submissions, graded in a copy of
the course with the sandboxed kernel and the hidden tests outside it."""
import csv
import json
import os

import pytest

from conftest import ROOT
from course import audit, sandbox
from course.adversarial import ATTACKS
from course.catalog import MUTANTS, VARIANTS
from course.submissions import expected_scores


@pytest.fixture(scope="module")
def audited(datasets_dir):
    if not sandbox.isolated():
        pytest.fail("the grade audit needs root: it checks that student code runs as "
                    f"'{sandbox.SANDBOX_USER}' (docs/grading.md)")
    code = audit.main(["--jobs", str(os.cpu_count() or 1)])
    with open(ROOT / "reports" / "grade_audit.csv") as handle:
        rows = list(csv.DictReader(handle))
    return code, rows


def _failed(rows, kind):
    return [(r["name"], r["detail"]) for r in rows if r["kind"] == kind and r["ok"] != "True"]


def test_every_cataloged_mistake_loses_its_cell_with_feedback_naming_it(audited):
    _, rows = audited
    assert len([r for r in rows if r["kind"] == "mistake"]) == len(MUTANTS)
    assert _failed(rows, "mistake") == []


def test_every_correct_variant_keeps_full_marks(audited):
    _, rows = audited
    assert len([r for r in rows if r["kind"] == "variant"]) == len(VARIANTS)
    assert _failed(rows, "variant") == []


def test_every_attack_is_contained_and_reported(audited):
    _, rows = audited
    assert len([r for r in rows if r["kind"] == "attack"]) == len(ATTACKS)
    assert _failed(rows, "attack") == []


def test_bundled_submissions_course_files_and_gradebook(audited):
    code, rows = audited
    assert _failed(rows, "bundled") == [] and _failed(rows, "batch") == []
    assert {r["name"] for r in rows if r["kind"] == "bundled"} | {
        r["student"] for r in rows if r["kind"] == "mistake" and r["student"].startswith("wrong-")
    } == set(expected_scores())
    assert code == 0


def test_feedback_never_shows_the_references_and_grade_cells_write_no_stderr(audited):
    # nbgrader gives 0 points to a passing grade cell that writes to stderr (PITFALLS.md).
    for student in expected_scores():
        html = (audit.AUDIT / "feedback" / student / "resnets" / "Residual_Networks.html").read_text()
        assert "references.npz" not in html
        notebook = audit.AUDIT / "autograded" / student / "resnets" / "Residual_Networks.ipynb"
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
                assert not streams, (student, cell["metadata"]["nbgrader"]["grade_id"], streams)


def test_hidden_failure_is_a_comment_under_the_answer_in_the_feedback(audited):
    html = (audit.AUDIT / "feedback" / "adversarial-shadowed-public-test" / "resnets" /
            "Residual_Networks.html").read_text()
    assert "Hidden tests (run by the grader, outside your notebook) failed" in html
    assert "ResNet50: with the grader&#39;s fixed weights" in html or \
        "ResNet50: with the grader's fixed weights" in html
