"""The committed release is exactly what generation makes, and clean."""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from course import submissions

RELEASE = ROOT / "release" / "resnets"


def test_committed_release_equals_a_fresh_generation(tmp_path):
    shutil.copytree(ROOT / "source", tmp_path / "source",
                    ignore=shutil.ignore_patterns("resnet50.*", "__pycache__"))
    pretrained = ROOT / "source" / "resnets" / "resnet50.h5"
    if not pretrained.exists():
        pytest.fail(f"{pretrained} is missing: run `make pretrained` (the release includes it)")
    (tmp_path / "source" / "resnets" / "resnet50.h5").symlink_to(pretrained)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "resnets",
                    "--log-level=ERROR"], cwd=tmp_path, check=True)
    fresh = tmp_path / "release" / "resnets"
    assert (fresh / "resnet50.h5").stat().st_size == pretrained.stat().st_size
    tracked = subprocess.run(["git", "ls-files", "release/resnets"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    committed_files = sorted(Path(name).relative_to("release/resnets") for name in tracked)
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*")
                         if p.is_file() and p.name != "resnet50.h5")  # built, git-ignored
    assert fresh_files == committed_files
    for name in committed_files:
        assert (fresh / name).read_bytes() == (RELEASE / name).read_bytes(), (
            f"release/resnets/{name} is stale: run `make release` and commit it")


def test_release_has_no_solutions_hidden_tests_or_references():
    names = {p.name for p in RELEASE.rglob("*")}
    assert not any(name.endswith(".npz") or name == "hidden_checks.py" for name in names)
    text = "".join(p.read_text() for p in RELEASE.rglob("*") if p.suffix in (".py", ".ipynb"))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden_checks()."):
        assert marker not in text
    notebook = nbformat.read(RELEASE / "Residual_Networks.ipynb", as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata["nbgrader"]
        if meta["solution"]:
            assert "raise NotImplementedError()" in cell.source, meta["grade_id"]
        else:
            assert meta["locked"], f"cell {meta['grade_id']} must be read-only"
    assert sum(c.metadata["nbgrader"].get("points", 0) for c in notebook.cells) == sum(
        submissions.POINTS.values())
