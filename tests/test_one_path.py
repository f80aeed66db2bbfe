"""One grading path: `python -m course.grade` and nbgrader's own `nbgrader autograde` (what
formgrader's Autograde button runs, with the same nbgrader_config.py) give every cell the same
score and comment, and the same errors under the test cells, hidden tests included; and two
grading machines sharing a PostgreSQL gradebook give the scores of one machine on SQLite."""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, Workers, broker
from nbgrader.api import Gradebook

from course import audit, sandbox
from course.audit import ATTACKS, catalog, submissions
from course.core import Course, Results, assignments, nbgrader_environment
from course.plugins import (GRADER_KEYS, ExecuteWithHiddenTests, KeepHandGrades,
                            KeepPointsForStderr, OnlyVerdictsScore)

COURSE = ROOT / "build" / "one-path"
# the temporary folder of this file's local graders (their kernels' runtime folders): the other
# test file run beside this one kills graders on purpose, and a sweep removes what those leave
KERNELS = Path(tempfile.gettempdir()) / "course-test-one-path"
ASSIGNMENT = next(iter(assignments(ROOT).values()))  # any one: the path is the same for all
SHADOWED = next(a for a in ATTACKS if a.student == "adversarial-shadowed-public-test")
WRONG = SHADOWED.function(ASSIGNMENT)
# the solution; a sample mistake the public and the hidden tests both catch; the same mistake
# with an added cell that replaces the public test, so only the hidden tests, inside nbgrader,
# catch it
# ... and the solution with the metadata the grading report reads forged in its cells (a failed
# hidden-test verdict, stderr kept, a value not scored, a hand grade cleared): it keeps every
# point and gets no finding
FORGED = "adversarial-forged-metadata"
STUDENTS = {"instructor-solution": "", catalog.of(ASSIGNMENT).sample(WRONG).student: WRONG,
            SHADOWED.student: WRONG, FORGED: ""}


def _forged(notebook):
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))  # a copy
    for cell in notebook.cells:
        cell.metadata[ExecuteWithHiddenTests.VERDICT] = {"passed": False, "message": "forged",
                                                         "misconception": "forged"}
        cell.metadata[KeepPointsForStderr.KEY] = "forged"
        cell.metadata[OnlyVerdictsScore.KEY] = 1
        cell.metadata[KeepHandGrades.KEY] = "cleared"
    return notebook


@functools.cache  # once: the shadowing attack's added cell gets a new random id each time
def _files():
    files = {student: {ASSIGNMENT.notebook: nbformat.writes(notebook).encode()}
             for student, notebook in submissions(ASSIGNMENT).items() if student in STUDENTS}
    solution = submissions(ASSIGNMENT)["instructor-solution"]
    files[FORGED] = {ASSIGNMENT.notebook: nbformat.writes(_forged(solution)).encode()}
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
    shutil.rmtree(KERNELS, ignore_errors=True)
    KERNELS.mkdir(mode=0o700)
    environment = {**nbgrader_environment(), "TMPDIR": str(KERNELS)}
    before = KERNELS.stat().st_mtime_ns
    run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "2", *STUDENTS],
                         cwd=COURSE, env=environment, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    first = _graded()
    for student in STUDENTS:  # nbgrader's command line, one student at a time, no course code
        run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT.name,
                              "--student", student, "--force"], cwd=COURSE,
                             env=environment, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
    assert KERNELS.stat().st_mtime_ns > before  # the kernels' folders were made (and removed) there
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


def test_metadata_a_submission_forged_is_not_what_the_report_reads(both_ways):
    """The grader's own cell metadata, forged in every cell of a submission, is removed before
    its notebook runs: the report has nothing on it, and its autograded notebook holds only the
    verdicts the grader wrote (every test passed)."""
    results = Results.read(COURSE / "reports" / ASSIGNMENT.name / "grading_results.json")
    assert results.submissions[FORGED].graded
    assert [f for f in results.findings if f.student == FORGED] == []
    assert [m for m in results.misconceptions if m.student == FORGED] == []  # nor a mistake
    notebook = nbformat.read(COURSE / "autograded" / FORGED / ASSIGNMENT.name
                             / ASSIGNMENT.notebook, as_version=4)
    written = [(cell.metadata.get("nbgrader", {}).get("grade_id"), key, cell.metadata[key])
               for cell in notebook.cells for key in GRADER_KEYS if key in cell.metadata]
    assert written == [(cell, ExecuteWithHiddenTests.VERDICT, {"passed": True})
                       for cell in ASSIGNMENT.points]


def _orphaned_kernel_folders():
    """The kernels' runtime folders (course-kernel-* in KERNELS, where this file's graders make
    them) that no running process names in its command line (`course.sandbox kernel ... -f
    FOLDER/kernel.json`): left behind. A folder is made just before its kernel starts and
    removed just after it ends, so only one that stays orphaned for 3 s counts."""
    for _ in range(4):
        folders = {name for name in os.listdir(KERNELS) if name.startswith(sandbox.RUNTIME_PREFIX)}
        named = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                arguments = cmdline.read_bytes().decode(errors="replace").split("\0")
            except OSError:  # the process ended
                continue
            named.update(part for argument in arguments for part in Path(argument).parts
                         if part.startswith(sandbox.RUNTIME_PREFIX))
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


# --- on a task queue: two Celery workers, each in a course copy of its own (course/queue/) ----
CENTRAL = ROOT / "build" / "queue-course"
# ... and what a submission could reach through a worker (issue 34): its log by an inherited
# descriptor, the broker and the coordinator's memory by its output, the feedback step
HOSTILE = ["adversarial-overwrites-files", "adversarial-leftover-processes",
           "adversarial-inherited-descriptors", "adversarial-huge-output",
           "adversarial-missing-attachment"]
# ... and one whose kernel dies on the worker: not graded, for the reason a local run gives
# (the audit's line for it), the worker's error sent back as data
DIES = "adversarial-kills-kernel"


def _database(name):
    """A fresh PostgreSQL database `name` on the test's server; its URL."""
    if not POSTGRES:
        pytest.fail("COURSE_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server. "
                    "Fix: run `make test`, which starts one (.ci/postgres).")
    import sqlalchemy

    server = sqlalchemy.make_url(POSTGRES)
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def queue(both_ways):
    url = _database("course_test_queue")
    environment = {**nbgrader_environment(), "COURSE_QUEUE_VISIBILITY": "60",
                   "COURSE_QUEUE_NAME": "test-one-path"}
    hostile = {a.student: a.bind(ASSIGNMENT, {"port": 0})[0] for a in ATTACKS
               if a.student in (*HOSTILE, DIES)}
    audit.prepare({ASSIGNMENT.name: {**_files()[ASSIGNMENT.name], **hostile}}, CENTRAL,
                  {**environment, "COURSE_DB_URL": url})
    workers = Workers(2, environment, "queue-worker", [ASSIGNMENT.name])
    digests = [Course(copy).files_digest() for copy in workers.copies]
    try:
        run = subprocess.run([sys.executable, "-m", "course.grade", "--queue", broker()],
                             cwd=CENTRAL, env={**environment, "COURSE_DB_URL": url},
                             capture_output=True, text=True)
        yield {"run": run, "url": url, "workers": workers, "digests": digests,
               "environment": environment}
    finally:
        workers.stop()


def test_the_queue_gives_every_cell_the_score_comment_errors_and_feedback_of_a_local_run(
        both_ways, queue):
    run = queue["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (scores, errors), _ = both_ways
    queued_scores, queued_errors = _graded(queue["url"], [CENTRAL])
    assert queued_scores == scores and queued_errors == errors
    roots = [COURSE, CENTRAL, *queue["workers"].copies]  # tracebacks name the grading folder

    def page(course, student):
        text = (course / "feedback" / student / ASSIGNMENT.name / f"{ASSIGNMENT.stem}.html"
                ).read_text()
        for root in roots:
            text = text.replace(str(root), "COURSE")
        return text

    for student in STUDENTS:
        assert page(CENTRAL, student) == page(COURSE, student), student
    # each submission written once into the course, by the coordinator
    for student in [*STUDENTS, *HOSTILE]:
        assert run.stdout.count(f"recorded {student}: ") == 1, student
    assert queue["workers"].received(1) > 0 and queue["workers"].received(2) > 0


def test_hostile_submissions_on_the_queue_harm_no_other_and_no_worker(queue):
    results = json.loads((CENTRAL / "reports" / ASSIGNMENT.name / "grading_results.json")
                         .read_text())
    assert all(results["submissions"][s]["status"] == "graded" for s in HOSTILE)
    assert results["batch"]["processes_left"] == 0
    found = {(f["student"], f["message"]) for f in results["findings"]}
    assert ("adversarial-inherited-descriptors", "RuntimeError: descriptors to files outside "
            "the sandbox: none") in found
    assert any(student == "adversarial-huge-output" and "were not kept" in message
               for student, message in found)
    autograded = CENTRAL / "autograded" / "adversarial-huge-output" / ASSIGNMENT.name
    assert (autograded / ASSIGNMENT.notebook).stat().st_size < 2**20  # 400 MB sent
    feedback = (CENTRAL / "feedback" / "adversarial-missing-attachment" / ASSIGNMENT.name
                / f"{ASSIGNMENT.stem}.html").read_text()
    assert "missing attachment: curves.png" in feedback
    assert not any(f["kind"] in ("feedback", "not graded") for f in results["findings"]
                   if f["student"] != DIES)
    died = results["submissions"][DIES]
    assert (died["status"], died["failure"], died["error"]) == (
        "not graded", "autograde failed", "DeadKernelError: Kernel died"), died
    assert any(f["student"] == DIES and f["message"].startswith(
        "nbgrader autograde failed: DeadKernelError: Kernel died") for f in results["findings"])
    for copy in queue["workers"].copies:  # nothing written through a descriptor
        for log in (copy / "reports").rglob("*.log"):
            assert "FORGED" not in log.read_text(errors="replace"), log
    for copy, digest in zip(queue["workers"].copies, queue["digests"]):
        assert Course(copy).files_digest() == digest, copy  # the workers' copies


def test_a_worker_killed_mid_task_loses_no_submission_and_grades_none_twice(queue):
    """Three more submissions; the worker that takes the first is killed while it grades it:
    the other worker grades it when its message comes back (acks_late), and the coordinator
    writes each once."""
    workers = queue["workers"]
    solution = submissions(ASSIGNMENT)["instructor-solution"]
    late = [f"queue-kill-{n}" for n in (1, 2, 3)]
    for student in late:
        folder = CENTRAL / "submitted" / student / ASSIGNMENT.name
        folder.mkdir(parents=True)
        nbformat.write(solution, folder / ASSIGNMENT.notebook)
    before = [workers.received(n) for n in (1, 2)]
    batch = subprocess.Popen([sys.executable, "-m", "course.grade", "--queue", broker(), *late],
                             cwd=CENTRAL, env={**queue["environment"],
                                               "COURSE_DB_URL": queue["url"]},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while workers.received(1) == before[0]:
        assert time.monotonic() < deadline, "worker 1 never took a task"
        time.sleep(0.2)
    time.sleep(5)  # inside the task: the kernel is running the notebook
    workers.kill(1)
    output = batch.communicate(timeout=900)[0]
    assert batch.returncode == 0, output[-3000:]
    results = json.loads((CENTRAL / "reports" / ASSIGNMENT.name / "grading_results.json")
                         .read_text())
    full = sum(ASSIGNMENT.points.values())
    for student in late:
        record = results["submissions"][student]
        assert record["status"] == "graded", record
        assert sum(score for score, _ in record["scores"].values() if score) == full, record
        assert output.count(f"recorded {student}: ") == 1, output[-3000:]
    assert workers.received(1) - before[0] == 1  # the one it was killed in
    assert workers.received(2) - before[1] == len(late)  # its two, and the one given back
