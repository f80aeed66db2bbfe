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

from course.notebook import run_answers, solution_sources  # noqa: E402
from course.submissions import apply  # noqa: E402


@pytest.fixture(scope="session")
def solution():
    return run_answers(solution_sources())


@pytest.fixture(scope="session")
def make_namespace():
    """Namespace of the solution with one mistake (course.submissions.Mistake) made."""
    def make(mistake):
        return run_answers(apply(mistake, solution_sources()))
    return make


@pytest.fixture(scope="session")
def datasets_dir():
    folder = ROOT / "datasets"
    for name in ("train_signs.h5", "test_signs.h5", "sign-language-digits-6to9"):
        if not (folder / name).exists():
            pytest.fail(f"{folder / name} is missing: run `make data` (tests need the datasets)")
    return folder
