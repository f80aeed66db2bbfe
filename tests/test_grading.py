"""The grade audit through nbgrader (course/audit.py, `make grade-audit`): the bundled submissions,
every cataloged mistake and correct variant, and the hostile submissions, graded in a copy of
the course with the sandboxed kernel and the hidden tests in it, judged outside it."""
import csv
import json
import os

import pytest

from conftest import ROOT
from course import audit, sandbox
from course.adversarial import ATTACKS
from course.catalog import MUTANTS, VARIANTS
from course.submissions import CELLS, expected_scores


@pytest.fixture(scope="module")
def audited(datasets_dir):
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"the grade audit needs the per-submission sandbox: {problem}")
    code = audit.main(["--jobs", str(os.cpu_count() or 1)])
    with open(ROOT / "reports" / "grade_audit.csv") as handle:
        rows = list(csv.DictReader(handle))
    return code, rows


@pytest.fixture(scope="module")
def results(audited):
    return json.loads((ROOT / "reports" / "grade_audit_results.json").read_text())


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


def test_no_process_left_no_forged_line_no_course_file_changed(audited, results):
    _, rows = audited
    assert _failed(rows, "batch") == []
    assert all(b["processes_left"] == 0 and b["course_files_changed"] == [] and
               b["gradebook_integrity"] == "ok" and b["sandbox"] for b in results["batches"])
    assert sandbox.leftover_processes() == {}


def test_graded_in_the_sandbox_stealing_scores_nothing_and_harms_no_one(results):
    records = results["submissions"]
    for attack in ATTACKS:
        if attack.zero is not None and attack.zero == CELLS:  # no answers of its own
            scores = records[attack.student]["scores"].values()
            assert sum(score for score, _ in scores) == 0, attack.student
    # the daemon that killed other kernels ran beside other submissions: all graded
    assert all(r["status"] == "graded" for s, r in records.items()
               if s in expected_scores() or s.startswith("catalog-"))


def test_warnings_in_grade_cells_keep_the_points_and_are_reported(results):
    stderr = {(f["student"], f["cell"]) for f in results["findings"] if f["kind"] == "stderr"}
    warned = {v.cell for v in VARIANTS if v.student.endswith(("-warning", "-stderr"))}
    assert len(warned) == 3
    for cell in warned:
        student = next(s for s, r in results["submissions"].items()
                       if s.startswith("catalog-variants-") and (s, f"{cell}_tests") in stderr)
        assert results["submissions"][student]["scores"][cell] == [3, 3]


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


def test_hidden_failure_is_an_error_under_the_test_cell_in_the_feedback(audited):
    html = (audit.AUDIT / "feedback" / "adversarial-shadowed-public-test" / "resnets" /
            "Residual_Networks.html").read_text()
    assert "HiddenTestFailure" in html
    assert "hidden tests (run after your notebook, with other inputs) failed, so this cell " \
        "scores 0" in html
    assert "ResNet50: with the grader&#39;s fixed weights" in html or \
        "ResNet50: with the grader's fixed weights" in html
