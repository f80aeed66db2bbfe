"""One grading path: `python -m course.grade` and nbgrader's own `nbgrader autograde` (what
formgrader's Autograde button runs, with the same nbgrader_config.py) give every cell the same
score and comment, and the same errors under the test cells, hidden tests included; and two
grading machines sharing a PostgreSQL gradebook give the scores of one machine on SQLite."""
import os
import subprocess
import sys
import tempfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from course import audit, sandbox
from course.adversarial import ATTACKS
from course.grade import nbgrader_environment
from course.notebook import solution_sources
from course.preprocessors import ExecuteWithHiddenTests
from course.submissions import submissions

COURSE = ROOT / "build" / "one-path"
# the solution; a mistake the public and the hidden tests both catch; a wrong ResNet50 whose cell
# replaces the public test, so only the hidden tests, inside nbgrader, catch it
STUDENTS = {"instructor-solution": "", "wrong-resnet-no-softmax": "ResNet50",
            "adversarial-shadowed-public-test": "ResNet50"}


def _files():
    files = {student: {audit.NOTEBOOK: nbformat.writes(notebook).encode()}
             for student, notebook in submissions().items() if student in STUDENTS}
    attack = next(a for a in ATTACKS if a.student == "adversarial-shadowed-public-test")
    files[attack.student] = attack.build(solution_sources(), {"port": 0})
    return files


def _graded(db_url=None, courses=(COURSE,)):
    """{(student, cell): (score, auto score, manual score) or (auto comment, manual comment)}
    from the gradebook, and {(student, cell): [(error name, first line)]} from the autograded
    notebooks (in whichever of `courses` graded the student)."""
    scores, errors = {}, {}
    with Gradebook(db_url or f"sqlite:///{COURSE / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            notebook = gradebook.find_submission_notebook(audit.NOTEBOOK.removesuffix(".ipynb"),
                                                          audit.ASSIGNMENT, student)
            for grade in notebook.grades:
                scores[student, grade.name] = (grade.score, grade.auto_score, grade.manual_score)
            for comment in notebook.comments:
                scores[student, comment.name] = (comment.auto_comment, comment.manual_comment)
            path = next(course / "autograded" / student / audit.ASSIGNMENT / audit.NOTEBOOK
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
        run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", audit.ASSIGNMENT,
                              "--student", student, "--force"], cwd=COURSE,
                             env=nbgrader_environment(), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
    return first, _graded()


def test_both_ways_give_every_cell_the_same_score_comment_and_errors(both_ways):
    (scores, errors), (cli_scores, cli_errors) = both_ways
    assert len(scores) == len(STUDENTS) * 14  # 7 graded cells and 7 answer cells each
    assert scores == cli_scores
    assert errors == cli_errors


@pytest.mark.parametrize("student", STUDENTS)
def test_hidden_tests_run_inside_nbgrader_autograde(both_ways, student):
    _, (scores, errors) = both_ways
    wrong = STUDENTS[student]
    for cell in ("identity_block", "ResNet50", "unfreeze_last_stage"):
        hidden = [e for e in errors[student, f"{cell}_tests"]
                  if e[0] == ExecuteWithHiddenTests.ERROR_NAME]
        assert scores[student, f"{cell}_tests"][0] == (0 if cell == wrong else 3)
        assert bool(hidden) == (cell == wrong), hidden
    if wrong:
        assert "ResNet50: with the grader's fixed weights, the inference output differs" in \
            dict(errors[student, "ResNet50_tests"])[ExecuteWithHiddenTests.ERROR_NAME]


def test_no_kernel_or_sandbox_process_is_left(both_ways):
    assert sandbox.leftover_processes() == {}
    assert not any(name.startswith("course-kernel-") for name in os.listdir(tempfile.gettempdir()))


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
