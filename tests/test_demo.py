"""Sample submissions never enter the real class: `make demo` grades them in build/demo/, and
the course's own submitted/ and gradebook hold none of them."""
import subprocess

import pytest
from conftest import ROOT
from nbgrader.api import Gradebook

from course import demo, sandbox
from course.audit import catalog, submissions
from course.core import assignments

SAMPLES = {student for assignment in assignments(ROOT).values()
           for student in submissions(assignment)}
WRONG = catalog.of(next(iter(assignments(ROOT).values()))).samples[0].student


def _students(gradebook_file):
    if not gradebook_file.exists():
        return set()
    with Gradebook(f"sqlite:///{gradebook_file}") as gradebook:
        return {student.id for student in gradebook.students}


@pytest.fixture(scope="module")
def demo_run(datasets_dir):
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"grading needs the per-submission sandbox: {problem}")
    before = _students(ROOT / "gradebook.db"), sorted((ROOT / "submitted").iterdir())
    code = demo.main(["instructor-solution", WRONG])
    return code, before


def test_the_demo_grades_the_samples_in_its_own_copy(demo_run):
    code, _ = demo_run
    assert code == 0
    assert _students(demo.DEMO / "gradebook.db") == {"instructor-solution", WRONG}
    grades = (demo.DEMO / "reports" / "grades.csv").read_text()
    assert ",instructor-solution," in grades and f",{WRONG}," in grades


def test_a_sample_that_misses_its_expected_score_is_one_line_naming_it(demo_run):
    """The demo's check on the real graded samples: expecting 0 of the solution is a failure."""
    first = next(iter(assignments(ROOT).values()))  # the assignment WRONG is a sample of
    assert demo.unexpected(demo.DEMO, first, ["instructor-solution", WRONG]) == []
    nothing = {"instructor-solution": {cell: 0 for cell in first.points}}
    assert demo.unexpected(demo.DEMO, first, ["instructor-solution"], expected=nothing) == [
        f"sample instructor-solution ({first.name}) expected 0 of {first.total:g}, got "
        f"{first.total:g} (cells: {', '.join(first.functions)})"]
    absent = {"nobody": dict(first.points)}  # full marks expected of a sample never graded
    assert demo.unexpected(demo.DEMO, first, ["nobody"], expected=absent)[0].startswith(
        f"sample nobody ({first.name}) expected {first.total:g} of {first.total:g}, got "
        "not graded: None")


def test_the_real_class_holds_no_sample_student(demo_run):
    _, (students, submitted) = demo_run
    assert _students(ROOT / "gradebook.db") == students  # the demo added nobody
    assert not _students(ROOT / "gradebook.db") & SAMPLES
    assert sorted((ROOT / "submitted").iterdir()) == submitted
    assert not {path.name for path in (ROOT / "submitted").iterdir()} & SAMPLES
    tracked = subprocess.run(["git", "ls-files", "submitted", "autograded", "feedback"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert tracked == ["autograded/.gitkeep", "feedback/.gitkeep", "submitted/.gitkeep"]
