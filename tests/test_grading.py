"""The grade audit through nbgrader (course/audit/, `make grade-audit`), for every assignment:
the sample submissions, every cataloged mistake and correct variant, and the hostile
submissions, graded in a copy of the course with the sandboxed kernel and the hidden tests in
it, judged outside it."""
import csv
import json
import os
import re

import pytest
from conftest import ROOT

from course import audit, sandbox
from course.audit import MACHINE_WIDE, catalog, expected_scores
from course.audit.adversarial import ATTACKS, attacks_for
from course.core import assignments

ASSIGNMENTS = list(assignments(ROOT).values())
CATALOGS = {a.name: catalog.of(a) for a in ASSIGNMENTS}


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


def _rows(rows, kind):
    return [r for r in rows if r["kind"] == kind]


def _failed(rows, kind):
    return [(r["assignment"], r["name"], r["detail"]) for r in _rows(rows, kind)
            if r["ok"] != "True"]


def test_every_assignment_is_audited(audited):
    _, rows = audited
    assert {r["assignment"] for r in rows} - {""} == set(CATALOGS)


def test_every_cataloged_mistake_loses_its_cell_with_feedback_naming_it(audited):
    _, rows = audited
    assert len(_rows(rows, "mistake")) == sum(len(c.all_mistakes) for c in CATALOGS.values())
    assert _failed(rows, "mistake") == []


def test_the_grader_names_95_percent_of_the_mistakes_and_no_variant(audited):
    """Each cataloged mistake, graded through nbgrader, is named top-1 as itself by the verdict
    under its test cell (course/hidden/signatures.py); the rest are mistakes that leave another
    one's trace, listed in docs/results.md; no correct variant is named."""
    _, rows = audited
    mistakes = _rows(rows, "mistake")
    others = [(r["name"], r["named"]) for r in mistakes if r["named"] != r["name"]]
    assert len(others) <= 0.05 * len(mistakes), others
    assert all(named in {m.student for c in CATALOGS.values() for m in c.all_mistakes}
               for _, named in others if named != "unknown"), others
    assert [r["name"] for r in _rows(rows, "variant") if r["named"]] == []


def test_every_correct_variant_keeps_full_marks(audited):
    _, rows = audited
    assert len(_rows(rows, "variant")) == sum(len(c.variants) for c in CATALOGS.values())
    assert _failed(rows, "variant") == []


def test_every_attack_is_contained_and_reported(audited):
    _, rows = audited
    wanted = {(a.name, student) for a in ASSIGNMENTS
              for student in attacks_for(a, a.name == MACHINE_WIDE, {"port": 0})}
    assert {(r["assignment"], r["student"]) for r in _rows(rows, "attack")} == wanted
    assert _failed(rows, "attack") == []


def test_no_process_left_no_forged_line_no_course_file_changed(audited, results):
    _, rows = audited
    assert _failed(rows, "batch") == []
    assert all(b["processes_left"] == 0 and b["course_files_changed"] == [] and
               b["gradebook_integrity"] == "ok" and b["sandbox"] for b in results["batches"])
    assert sandbox.leftover_processes() == {}


def test_graded_in_the_sandbox_stealing_scores_nothing_and_harms_no_one(results):
    for assignment in ASSIGNMENTS:
        records = results[assignment.name]["submissions"]
        for student, (_, bound) in attacks_for(assignment, assignment.name == MACHINE_WIDE,
                                               {"port": 0}).items():
            if bound.zero == assignment.functions:  # no answers of its own
                scores = records[student]["scores"].values()
                assert sum(score for score, _ in scores) == 0, (assignment.name, student)
        # the daemon that killed other kernels ran beside other submissions: all graded
        assert all(r["status"] == "graded" for s, r in records.items()
                   if s in expected_scores(assignment) or s.startswith("catalog-"))


def test_warnings_in_grade_cells_keep_the_points_and_are_reported(results):
    warned = [(name, v) for name, found in CATALOGS.items() for v in found.variants
              if v.student.endswith(("-warning", "-stderr"))]
    assert len(warned) >= 3
    for name, variant in warned:
        graded = results[name]
        stderr = {(f["student"], f["cell"]) for f in graded["findings"] if f["kind"] == "stderr"}
        student = next(s for s in graded["submissions"] if s.startswith("catalog-variants-")
                       and (s, variant.loses or f"{variant.cell}_tests") in stderr)
        points = graded["submissions"][student]["scores"][variant.cell]
        assert points[0] == points[1] > 0, (name, variant.student, points)


def test_written_answers_wait_for_the_instructor(results):
    manual = [a for a in ASSIGNMENTS if a.manual]
    assert manual, "an assignment with a written answer (degradation)"
    for assignment in manual:
        records = results[assignment.name]["submissions"]
        for cell, points in assignment.manual.items():
            # answered: not graded until the instructor does; left blank: nbgrader gives 0
            assert records["instructor-solution"]["scores"][cell] == [None, points]
            assert records["untouched-release"]["scores"][cell] == [0, points]


def test_sample_submissions_course_files_and_gradebook(audited):
    code, rows = audited
    assert _failed(rows, "sample") == [] and _failed(rows, "batch") == []
    for name, found in CATALOGS.items():
        assert {r["name"] for r in _rows(rows, "sample") if r["assignment"] == name} | {
            r["student"] for r in _rows(rows, "mistake")
            if r["assignment"] == name and r["student"].startswith("wrong-")
        } == set(expected_scores(found.assignment))
    assert code == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_feedback_never_shows_the_references_and_grade_cells_write_no_stderr(audited, assignment):
    # nbgrader gives 0 points to a passing grade cell that writes to stderr
    # (nbgrader.utils.determine_grade; course/plugins/preprocessors.py's KeepPointsForStderr).
    for student in expected_scores(assignment):
        html = (audit.AUDIT / "feedback" / student / assignment.name /
                f"{assignment.stem}.html").read_text()
        assert "references.npz" not in html
        # TensorFlow's loading messages stay in the autograded notebook, not on the page
        assert "absl::InitializeLog" not in html and "port.cc:" not in html, student
        # formulas drawn as MathML, nothing loaded from the network (course/plugins/feedback.py)
        assert "<math" in html and not re.search(r"<script[^>]*\bsrc=", html), student
        notebook = audit.AUDIT / "autograded" / student / assignment.name / assignment.notebook
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
                assert not streams, (student, cell["metadata"]["nbgrader"]["grade_id"], streams)


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_hidden_failure_is_an_error_under_the_test_cell_in_the_feedback(audited, assignment):
    html = (audit.AUDIT / "feedback" / "adversarial-shadowed-public-test" / assignment.name /
            f"{assignment.stem}.html").read_text()
    assert "HiddenTestFailure" in html
    function = next(a for a in ATTACKS if a.student == "adversarial-shadowed-public-test"
                    ).function(assignment)
    assert "hidden tests (run after your notebook, with other inputs) failed, so this cell " \
        f"scores 0: {function}: " in html
