"""One grading path: `python -m course.grade` and nbgrader's own `nbgrader autograde` (what
formgrader's Autograde button runs, with the same nbgrader_config.py) give every cell the same
score and comment, and the same errors under the test cells, hidden tests included; and two
grading machines sharing a PostgreSQL gradebook give the scores of one machine on SQLite."""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from course import audit, catalog, sandbox
from course.adversarial import ATTACKS
from course.assignments import assignments
from course.grade import nbgrader_environment
from course.preprocessors import ExecuteWithHiddenTests
from course.submissions import submissions

COURSE = ROOT / "build" / "one-path"
ASSIGNMENT = next(iter(assignments(ROOT).values()))  # any one: the path is the same for all
SHADOWED = next(a for a in ATTACKS if a.student == "adversarial-shadowed-public-test")
WRONG = SHADOWED.function(ASSIGNMENT)
# the solution; a sample mistake the public and the hidden tests both catch; the same mistake
# with an added cell that replaces the public test, so only the hidden tests, inside nbgrader,
# catch it
STUDENTS = {"instructor-solution": "", catalog.of(ASSIGNMENT).sample(WRONG).student: WRONG,
            SHADOWED.student: WRONG}


def _files():
    files = {student: {ASSIGNMENT.notebook: nbformat.writes(notebook).encode()}
             for student, notebook in submissions(ASSIGNMENT).items() if student in STUDENTS}
    files[SHADOWED.student] = SHADOWED.bind(ASSIGNMENT, {"port": 0})[0]
    return {ASSIGNMENT.name: files}


def _graded(db_url=None, courses=(COURSE,)):
    """{(student, cell): (score, auto score, manual score) or (auto comment, manual comment)}
    from the gradebook, and {(student, cell): [(error name, first line)]} from the autograded
    notebooks (in whichever of `courses` graded the student)."""
    scores, errors = {}, {}
    with Gradebook(db_url or f"sqlite:///{COURSE / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT.stem, ASSIGNMENT.name,
                                                          student)
            for grade in notebook.grades:
                scores[student, grade.name] = (grade.score, grade.auto_score, grade.manual_score)
            for comment in notebook.comments:
                scores[student, f"{comment.name}/comment"] = (comment.auto_comment,
                                                               comment.manual_comment)
            path = next(course / "autograded" / student / ASSIGNMENT.name / ASSIGNMENT.notebook
                        for course in courses if (course / "autograded" / student).exists())
            for cell in nbformat.read(path, as_version=4).cells:
                name = cell.metadata.get("nbgrader", {}).get("grade_id")
                errors[student, name] = [(o.ename, o.evalue.splitlines()[0])
                                         for o in cell.get("outputs", [])
                                         if o.output_type == "error"]
    return scores, errors


@pytest.fixture(scope="module")
def both_ways(datasets_dir):
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"grading needs the per-submission sandbox: {problem}")
    audit.prepare(_files(), COURSE)
    run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "2", *STUDENTS],
                         cwd=COURSE, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    first = _graded()
    for student in STUDENTS:  # nbgrader's command line, one student at a time, no course code
        run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT.name,
                              "--student", student, "--force"], cwd=COURSE,
                             env=nbgrader_environment(), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
    return first, _graded()


def test_both_ways_give_every_cell_the_same_score_comment_and_errors(both_ways):
    (scores, errors), (cli_scores, cli_errors) = both_ways
    # a grade and a comment per graded function (its test cell's, its answer cell's) and per
    # written answer (both of its one cell)
    assert len(scores) == len(STUDENTS) * 2 * (len(ASSIGNMENT.functions) + len(ASSIGNMENT.manual))
    assert scores == cli_scores
    assert errors == cli_errors


@pytest.mark.parametrize("student", STUDENTS)
def test_hidden_tests_run_inside_nbgrader_autograde(both_ways, student):
    _, (scores, errors) = both_ways
    wrong = STUDENTS[student]
    for cell, points in ASSIGNMENT.points.items():
        function = cell.removesuffix("_tests")
        hidden = [e for e in errors[student, cell] if e[0] == ExecuteWithHiddenTests.ERROR_NAME]
        assert scores[student, cell][0] == (0 if function == wrong else points)
        assert bool(hidden) == (function == wrong), hidden
    if wrong:
        message = dict(errors[student, f"{wrong}_tests"])[ExecuteWithHiddenTests.ERROR_NAME]
        assert f"failed, so this cell scores 0: {wrong}: " in message, message


def _orphaned_kernel_folders():
    """The kernels' runtime folders (course-kernel-* in /tmp) that no running process names in
    its command line (`course.sandbox kernel ... -f FOLDER/kernel.json`): left behind. A kernel
    of another test file graded beside this one (make test runs two files at once) names its
    own; a folder is made just before its kernel starts and removed just after it ends, so
    only one that stays orphaned for 3 s counts."""
    for attempt in range(4):
        folders = {name for name in os.listdir(tempfile.gettempdir())
                   if name.startswith("course-kernel-")}
        named = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                arguments = cmdline.read_bytes().decode(errors="replace").split("\0")
            except OSError:  # the process ended
                continue
            named.update(part for argument in arguments for part in Path(argument).parts
                         if part.startswith("course-kernel-"))
        orphans = folders - named
        if not orphans:
            return set()
        time.sleep(1)
    return orphans


def test_no_kernel_or_sandbox_process_is_left(both_ways):
    assert sandbox.leftover_processes() == {}
    assert _orphaned_kernel_folders() == set()


POSTGRES = os.environ.get("COURSE_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def two_machines(both_ways):
    """The same submissions graded by two course folders (two machines) at once, each its share
    (--shard K/2), into one PostgreSQL gradebook."""
    if not POSTGRES:
        pytest.fail("COURSE_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server. "
                    "Fix: run `make test`, which starts one (.ci/postgres), or set it to the "
                    "URL of a database on a server where this user may create databases.")
    import sqlalchemy

    server = sqlalchemy.make_url(POSTGRES)
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("DROP DATABASE IF EXISTS course_test_gradebook"))
        connection.execute(sqlalchemy.text("CREATE DATABASE course_test_gradebook"))
    engine.dispose()
    url = server.set(database="course_test_gradebook").render_as_string(hide_password=False)
    environment = {**nbgrader_environment(), "COURSE_DB_URL": url}
    machines = [ROOT / "build" / f"one-path-machine-{k}" for k in (1, 2)]
    for machine in machines:
        audit.prepare(_files(), machine, environment)
    runs = [subprocess.Popen([sys.executable, "-m", "course.grade", "--jobs", "1", "--shard",
                              f"{k}/2"], cwd=machine, env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for k, machine in enumerate(machines, 1)]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    return _graded(url, machines), outputs


def test_two_machines_on_postgresql_give_the_scores_of_one_on_sqlite(both_ways, two_machines):
    (scores, errors), _ = both_ways
    (shared_scores, shared_errors), outputs = two_machines
    assert all("graded 1 submissions" in out or "graded 2 submissions" in out for out in outputs)
    assert shared_scores == scores
    assert shared_errors == errors
