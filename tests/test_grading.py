"""Autograde every bundled submission in a copy of the course and check each cell's grade."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from course.submissions import expected_scores


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory, datasets_dir):
    course = tmp_path_factory.mktemp("course")
    for name in ("course", "source", "submitted", "hidden"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    (course / "datasets").symlink_to(datasets_dir.resolve())
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "resnets",
                    "--log-level=ERROR"], cwd=course, check=True, env=env)
    run = subprocess.run([sys.executable, "-m", "course.grade"], cwd=course, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return course, run.stdout


def test_every_submission_gets_exactly_the_expected_points_per_cell(graded_course):
    course, _ = graded_course
    with open(course / "reports" / "grades_by_cell.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    expected = expected_scores()
    assert set(rows) == set(expected)
    for student, cells in expected.items():
        got = {cell: float(rows[student][cell]) for cell in cells}
        assert got == cells, student


def test_feedback_and_grade_export_are_written(graded_course):
    course, output = graded_course
    for student in expected_scores():
        html = (course / "feedback" / student / "resnets" / "Residual_Networks.html").read_text()
        assert "references.npz" not in html
    with open(course / "reports" / "grades.csv") as handle:
        assert {row["student_id"] for row in csv.DictReader(handle)} == set(expected_scores())
    assert "s per submission" in output


def test_grade_cells_write_nothing_to_stderr(graded_course):
    # nbgrader gives 0 points to a passing grade cell that writes to stderr (PITFALLS.md).
    course, _ = graded_course
    for student in expected_scores():
        notebook = course / "autograded" / student / "resnets" / "Residual_Networks.ipynb"
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
                assert not streams, (student, cell["metadata"]["nbgrader"]["grade_id"], streams)
