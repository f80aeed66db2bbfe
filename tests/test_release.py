"""Every committed release is exactly what generation makes, and clean."""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT

# Built models (git-ignored, `make pretrained`) that generation copies into a release
BUILT = {name: sorted(p.name for p in a.source().parent.glob("*.h5"))
         for name, a in ASSIGNMENTS.items()}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generation(tmp_path, name):
    shutil.copytree(ROOT / "source", tmp_path / "source",
                    ignore=shutil.ignore_patterns("*.h5", "__pycache__"))
    for built in BUILT[name]:
        (tmp_path / "source" / name / built).symlink_to(ASSIGNMENTS[name].source().parent / built)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                    "--log-level=ERROR"], cwd=tmp_path, check=True)
    fresh, committed = tmp_path / "release" / name, ROOT / "release" / name
    tracked = subprocess.run(["git", "ls-files", f"release/{name}"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    committed_files = sorted(Path(path).relative_to(f"release/{name}") for path in tracked)
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*")
                         if p.is_file() and p.name not in BUILT[name])  # built, git-ignored
    assert fresh_files == committed_files
    for path in committed_files:
        assert (fresh / path).read_bytes() == (committed / path).read_bytes(), (
            f"release/{name}/{path} is stale: run `make release` and commit it")


def test_resnets_release_includes_the_pretrained_model():
    pretrained = ROOT / "source" / "resnets" / "resnet50.h5"
    if not pretrained.exists():
        pytest.fail(f"{pretrained} is missing: run `make pretrained` (the release includes it)")
    assert BUILT["resnets"] == ["resnet50.h5"]


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
        if meta["solution"]:
            assert "raise NotImplementedError()" in cell.source, meta["grade_id"]
        else:
            assert meta["locked"], f"cell {meta['grade_id']} must be read-only"
    assert sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells) == \
        ASSIGNMENTS[name].total
