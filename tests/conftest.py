"""Shared set-up: import paths, the solution notebook as a namespace, the dataset check."""
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT_DIR = ROOT / "source" / "resnets"
for path in (ROOT, ASSIGNMENT_DIR, ROOT / "hidden" / "resnets"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import nbformat  # noqa: E402

from course.submissions import SOURCE, apply, solution_sources  # noqa: E402


def notebook_namespace(answers):
    """Execute the notebook's imports cell, then the given answer cells, in a fresh namespace."""
    namespace = {}
    imports = next(cell for cell in nbformat.read(SOURCE, as_version=4).cells
                   if cell.metadata["nbgrader"]["grade_id"] == "imports")
    exec(imports.source, namespace)
    for source in answers.values():
        exec(source, namespace)
    return namespace


@pytest.fixture(scope="session")
def solution():
    return notebook_namespace(solution_sources())


@pytest.fixture(scope="session")
def make_namespace():
    """Namespace of the solution with one mistake (course.submissions.Mistake) made."""
    def make(mistake):
        return notebook_namespace(apply(mistake, solution_sources()))
    return make


@pytest.fixture(scope="session")
def datasets_dir():
    folder = ROOT / "datasets"
    for name in ("train_signs.h5", "test_signs.h5"):
        if not (folder / name).exists():
            pytest.fail(f"{folder / name} is missing: run `make data` (tests need the SIGNS data)")
    return folder
