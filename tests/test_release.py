"""Every committed release is exactly what generation makes, and clean."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generation(tmp_path, name):
    shutil.copytree(ROOT / "source", tmp_path / "source",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                    "--log-level=ERROR"], cwd=tmp_path, check=True)
    fresh, committed = tmp_path / "release" / name, ROOT / "release" / name
    tracked = subprocess.run(["git", "ls-files", f"release/{name}"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    committed_files = sorted(Path(path).relative_to(f"release/{name}") for path in tracked)
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert fresh_files == committed_files
    for path in committed_files:
        assert (fresh / path).read_bytes() == (committed / path).read_bytes(), (
            f"release/{name}/{path} is stale: run `make release` and commit it")


def test_no_model_or_data_file_is_released():
    """Models and data live in the course's data folder (SIGNS_DATA_DIR), one read-only copy for
    a class: not in every release, submission, graded copy and feedback folder."""
    assert [p for p in (ROOT / "release").rglob("*") if p.suffix in (".h5", ".keras", ".npz")] == []
    assert [p for p in (ROOT / "source").rglob("*") if p.suffix in (".h5", ".keras")] == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_hidden_tests_or_references(name):
    release = ROOT / "release" / name
    names = {p.name for p in release.rglob("*")}
    assert not any(n.endswith(".npz") or n in ("hidden_checks.py", "catalog.py") for n in names)
    text = "".join(p.read_text() for p in release.rglob("*") if p.suffix in (".py", ".ipynb"))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden_checks()."):
        assert marker not in text
    notebook = nbformat.read(release / ASSIGNMENTS[name].notebook, as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata["nbgrader"]
        if meta["solution"]:  # an answer cell: code to write, or a written answer
            stub = "raise NotImplementedError()" if cell.cell_type == "code" else "YOUR ANSWER HERE"
            assert stub in cell.source, meta["grade_id"]
        else:
            assert meta["locked"], f"cell {meta['grade_id']} must be read-only"
    assert sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells
               if c.cell_type == "code") == ASSIGNMENTS[name].total


# Words that belong to the instructor's tooling, not to a student's notebook
INSTRUCTOR_WORDS = [r"\bmake (data|pretrained|release|test|demo|references|autograde|grade-audit|"
                    r"figures)\b", r"\bbrief\b", r"\bPR #\d+", r"\bpull request", r"\w/\w+#\d+",
                    r"\bpython -m course\.", r"\bdocs/\w+\.md", r"\bhidden/", r"\bsource/"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_speaks_to_a_student(name):
    found = []
    for path in sorted((ROOT / "release" / name).rglob("*")):
        if path.suffix not in (".ipynb", ".py", ".md"):
            continue
        if path.suffix == ".ipynb":
            texts = [cell.source for cell in nbformat.read(path, as_version=4).cells]
        else:
            texts = [path.read_text()]
        for text in texts:
            for pattern in INSTRUCTOR_WORDS:
                found += [f"{path.name}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert found == []
