"""Every assignment's public tests and hidden checks, run directly on its instructor solution and
its sample mistakes; its committed references equal a fresh computation."""
import re

import nbformat
import numpy as np
import pytest
from beyond_variants import variant_assignment_1
from conftest import ASSIGNMENTS, namespace

from course import ROOT
from course.audit import catalog, grade_cell, hidden_tests
from course.authoring import references

FUNCTIONS = [(name, f) for name, a in ASSIGNMENTS.items() for f in a.functions]
SAMPLES = [(name, m) for name, a in ASSIGNMENTS.items() for m in catalog.of(a).samples]


@pytest.mark.parametrize("name, function", FUNCTIONS, ids=lambda x: str(x))
def test_solution_passes_public_and_hidden_checks(name, function):
    assert grade_cell(ASSIGNMENTS[name], function, dict(namespace(name))) == (True, "")


@pytest.mark.parametrize("name, mistake", SAMPLES,
                         ids=lambda x: x if isinstance(x, str) else x.student)
def test_each_sample_fails_its_own_cell_with_a_message_that_names_it(name, mistake):
    """Both the public test (with the message the catalog says the student sees) and, alone,
    the hidden check."""
    assignment, found = ASSIGNMENTS[name], namespace(name, mistake)
    passed, message = grade_cell(assignment, mistake.cell, found)
    assert not passed and message.startswith(f"AssertionError: {mistake.cell}: "), message
    assert mistake.says and re.search(mistake.says, message), (mistake.says, message)
    with pytest.raises(AssertionError, match=f"^{re.escape(mistake.cell)}"):
        hidden_tests(assignment.hidden()).check(mistake.cell, found[mistake.cell])


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_references_match_the_current_solution(name):
    fresh = references.compute(ROOT, name)
    with np.load(ASSIGNMENTS[name].hidden() / "references.npz") as stored:
        assert sorted(stored.files) == sorted(fresh)
        for key, value in fresh.items():
            if value.dtype.kind == "U":  # names, types: text, compared exactly
                np.testing.assert_array_equal(value, stored[key], err_msg=key)
            else:
                np.testing.assert_allclose(value, stored[key], atol=1e-6, err_msg=key)


def _gap_v1(monkeypatch, notebook, capsys):
    """What the beyond notebook's gap_v1 cell prints, reading assignment 1 from `notebook`."""
    monkeypatch.setenv("RESNETS_NOTEBOOK", str(notebook))
    found = dict(namespace("beyond"))
    cell = next(c for c in nbformat.read(ASSIGNMENTS["beyond"].source(), as_version=4).cells
                if c.get("id") == "gap_v1")
    exec(cell.source, found)
    return capsys.readouterr().out


@pytest.mark.parametrize("problem, says", [
    ("missing", "skipped: your assignment-1 notebook was not found at"),
    ("unfinished", "your ResNet50 or one of its blocks is not written yet")])
def test_beyond_runs_on_without_a_finished_assignment_1(problem, says, monkeypatch, tmp_path,
                                                        capsys):
    """Run All goes past the cell that reads assignment 1 (nothing after it needs it), with one
    line saying why it was skipped: a missing notebook, or the release's unfinished one."""
    notebook = (tmp_path / "missing.ipynb" if problem == "missing"
                else ASSIGNMENTS["resnets"].release())
    printed = _gap_v1(monkeypatch, notebook, capsys)
    assert printed.startswith("skipped: ") and says in printed, printed


GAP_V1_COUNTS = ("64×64 input, conv5 map 2×2: Dense weights with assignment 1's head 12,294, "
                 "with gap_head 12,294\n128×128 input, conv5 map 4×4: Dense weights with "
                 "assignment 1's head 49,158, with gap_head 12,294\n")
ASSIGNMENT_1_VARIANTS = [variant for variant in catalog.of(ASSIGNMENTS["resnets"]).variants
                         if variant.cell in ("identity_block", "convolutional_block", "ResNet50")]


def test_beyond_reads_a_differently_written_assignment_1(monkeypatch, tmp_path, capsys):
    """The catalog's correct variants of assignment 1, as many as combine (an unnamed
    keras.ops.relu(keras.ops.add(...)) included, which has no conv5_block3_out), give the cell's
    counts, as the solution does: it finds conv5's output as the input of the graded head's
    avg_pool. nbval runs the whole notebook on the same combination (tests/beyond_variants.py)."""
    notebook, made = variant_assignment_1(tmp_path)
    assert "variant-identity-relu-layers-ops-add" in {variant.student for variant in made}
    assert _gap_v1(monkeypatch, notebook, capsys) == GAP_V1_COUNTS


@pytest.mark.parametrize("variant", ASSIGNMENT_1_VARIANTS, ids=lambda v: v.student)
def test_beyond_reads_each_correct_variant_of_assignment_1(variant, monkeypatch, tmp_path,
                                                           capsys):
    """Each of the catalog's correct variants of assignment 1 on its own, the ones that do not
    combine with others included."""
    notebook, made = variant_assignment_1(tmp_path, [variant])
    assert made == [variant]
    assert _gap_v1(monkeypatch, notebook, capsys) == GAP_V1_COUNTS


def test_beyond_goes_on_past_an_assignment_1_that_raises(monkeypatch, tmp_path, capsys):
    """Any error of the student's assignment-1 code is one line, and Run All goes on."""
    notebook = nbformat.read(ASSIGNMENTS["resnets"].source(), as_version=4)
    cell = next(c for c in notebook.cells if c.get("id") == "ResNet50")
    cell.source = ("def ResNet50(input_shape=(64, 64, 3), classes=6):\n"
                   "    if input_shape[0] != 64:\n"
                   "        raise TypeError('only 64x64 here')\n"
                   "    return keras.applications.ResNet50(weights=None, "
                   "input_shape=input_shape, classes=classes)\n")
    nbformat.write(notebook, tmp_path / "Residual_Networks.ipynb")
    printed = _gap_v1(monkeypatch, tmp_path / "Residual_Networks.ipynb", capsys)
    assert printed == ("skipped: your assignment-1 code stopped with TypeError: only 64x64 "
                       "here\n"), printed
