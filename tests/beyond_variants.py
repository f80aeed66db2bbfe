"""A pytest plugin (pytest.ini: -p beyond_variants): nbval's Run All of the beyond notebook reads
assignment 1 from a notebook with the catalog's correct variants made, not from the instructor's
own. Issue 36 found that a correct assignment 1 written another way (an unnamed
keras.ops.relu(keras.ops.add(...)) block) stopped it at section 2. A plugin of the whole session,
loaded at start-up: tests/conftest.py's hooks would see tests/ only, not source/."""
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from course import ROOT
from course.audit import catalog
from course.core import assignments, grade_id, solution_sources

ASSIGNMENT_1 = ("identity_block", "convolutional_block", "ResNet50")
NOTEBOOK = "Beyond_ResNet50.ipynb"


def variant_assignment_1(folder, variants=None):
    """The instructor's Residual_Networks notebook, written to `folder`, with as many of
    `variants` made as combine (by default the catalog's correct variants of identity_block,
    convolutional_block and ResNet50; each edits the solution, and one that no longer applies
    after another is left out): what a student's correct but differently written assignment 1
    looks like to `beyond`. Returns the notebook's path and the variants made."""
    assignment = assignments(ROOT)["resnets"]
    if variants is None:
        variants = [v for v in catalog.of(assignment).variants if v.cell in ASSIGNMENT_1]
    answers, made = solution_sources(assignment.source()), []
    for variant in variants:
        try:
            answers = catalog.apply(variant, answers)
        except catalog.CatalogError:
            continue
        made.append(variant)
    notebook = nbformat.read(assignment.source(), as_version=4)
    for cell in notebook.cells:
        if grade_id(cell) in ASSIGNMENT_1:
            cell.source = answers[grade_id(cell)]
    path = Path(folder) / "Residual_Networks.ipynb"
    nbformat.write(notebook, path)
    return path, made


_folder = None  # the variants' notebook's folder, made once per session
_notebook = None  # the notebook in it
_started = set()  # the beyond notebooks whose kernel this plugin has set up


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a beyond notebook's first cell, where nbval starts its kernel: the kernel reads
    assignment 1 from the variants' notebook (a path the caller chose is kept)."""
    global _folder, _notebook
    if (item.path.name != NOTEBOOK or item.path in _started
            or "RESNETS_NOTEBOOK" in os.environ):
        return
    _started.add(item.path)
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="assignment-1-")
        _notebook, made = variant_assignment_1(_folder)
        varied = {variant.cell for variant in made}
        if varied != set(ASSIGNMENT_1):
            pytest.fail(f"the catalog's variants vary only {sorted(varied)} of assignment 1's "
                        f"{list(ASSIGNMENT_1)}: add a variant that combines with the others")
    os.environ["RESNETS_NOTEBOOK"] = str(_notebook)


def pytest_runtest_teardown(item):
    if item.path.name == NOTEBOOK and item.path in _started:
        os.environ.pop("RESNETS_NOTEBOOK", None)  # the kernel has it: it started at set-up


def pytest_sessionfinish(session):
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
