"""The whole nbgrader course cycle, as on a shared JupyterHub: a local exchange folder, two
student accounts (real users of this machine), one submission on time and one late, graded by
`python -m course.grade` with the course's late policy (course/late.py), feedback released and
fetched by each student. docs/instructor.md walks through the same commands."""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from course import catalog, demo, sandbox
from course.assignments import assignments
from course.grade import nbgrader_environment
from course.submissions import submissions

COURSE = ROOT / "build" / "exchange-course"
COURSE_ID = "resnets-course"  # nbgrader_config.py's CourseDirectory.course_id
ASSIGNMENT = next(iter(assignments(ROOT).values()))  # any one: the cycle is the same for all
WRONG = catalog.of(ASSIGNMENT).samples[0]  # a sample mistake: its function's points lost
# student account -> the sample whose answers they hand in
STUDENTS = {"course-student-1": "instructor-solution", "course-student-2": WRONG.student}
TOTAL = ASSIGNMENT.total  # what autograding gives the solution; written answers wait for a hand
MAXIMUM = TOTAL + sum(ASSIGNMENT.manual.values())  # grade (feedback released before: 0 for them)
LATE_SCORE = TOTAL - ASSIGNMENT.points[WRONG.loses]


def _nbgrader(*args, cwd, user=None, exchange):
    command = [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"]
    if user:
        command = ["runuser", "-u", user, "--", "env", f"HOME=/home/{user}", *command,
                   f"--course={COURSE_ID}"]
    run = subprocess.run(command, cwd=cwd, env=nbgrader_environment(), capture_output=True,
                         text=True)
    assert run.returncode == 0, f"{' '.join(args)} ({user or 'instructor'}): {run.stderr[-2000:]}"
    return run


def _timestamp(exchange, user):
    """When `user`'s submission reached the exchange (nbgrader's timestamp.txt)."""
    inbound = Path(exchange) / COURSE_ID / "inbound"
    folder = next(p for p in inbound.iterdir()
                  if p.name.startswith(f"{user}+{ASSIGNMENT.name}+"))
    text = (folder / "timestamp.txt").read_text().strip()  # "2026-11-27 18:08:30.039757 UTC"
    return datetime.datetime.fromisoformat(text.removesuffix(" UTC")).replace(
        tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def term(datasets_dir):
    if os.geteuid() != 0 or sandbox.unavailable():
        pytest.fail("the course cycle test needs root (student accounts, the grading sandbox): "
                    f"{sandbox.unavailable() or 'not root'}. Fix: run the tests as root.")
    for user in STUDENTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", user], check=True)
    exchange = tempfile.mkdtemp(prefix="course-exchange-")
    os.chmod(exchange, 0o777)
    demo.copy_course(COURSE)
    name = ASSIGNMENT.name
    _nbgrader("release_assignment", name, cwd=COURSE, exchange=exchange)
    answers = submissions(ASSIGNMENT)
    for number, (user, sample) in enumerate(STUDENTS.items()):
        home = Path(f"/home/{user}")
        _nbgrader("fetch_assignment", name, cwd=home, user=user, exchange=exchange)
        fetched = home / name / ASSIGNMENT.notebook
        assert fetched.exists(), f"{user} fetched nothing"
        nbformat.write(answers[sample], fetched)  # the student's work on the fetched notebook
        shutil.chown(fetched, user, user)
        _nbgrader("submit", name, cwd=home, user=user, exchange=exchange)
        if number == 0:  # due one second after the first submission: the second one is late
            due = _timestamp(exchange, user) + datetime.timedelta(seconds=1)
            _nbgrader("db", "assignment", "add", name, f"--duedate={due.isoformat()}",
                      cwd=COURSE, exchange=exchange)
            while datetime.datetime.now(due.tzinfo) <= due + datetime.timedelta(seconds=1):
                pass
    _nbgrader("collect", name, cwd=COURSE, exchange=exchange)
    grading = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "2"], cwd=COURSE,
                             capture_output=True, text=True)
    assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-2000:]
    _nbgrader("release_feedback", name, cwd=COURSE, exchange=exchange)
    for user in STUDENTS:
        _nbgrader("fetch_feedback", name, cwd=f"/home/{user}", user=user, exchange=exchange)
    yield exchange
    for user in STUDENTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
    shutil.rmtree(exchange, ignore_errors=True)


def test_collect_takes_each_students_submission_with_its_timestamp(term):
    for user in STUDENTS:
        folder = COURSE / "submitted" / user / ASSIGNMENT.name
        assert (folder / ASSIGNMENT.notebook).exists() and (folder / "timestamp.txt").exists()


def test_the_late_submission_loses_ten_percent_the_on_time_one_nothing(term):
    with Gradebook(f"sqlite:///{COURSE / 'gradebook.db'}") as gradebook:
        on_time = gradebook.find_submission(ASSIGNMENT.name, "course-student-1")
        late = gradebook.find_submission(ASSIGNMENT.name, "course-student-2")
        assert on_time.total_seconds_late == 0
        assert (on_time.score, on_time.late_submission_penalty) == (TOTAL, 0)
        assert late.total_seconds_late > 0
        assert late.notebooks[0].score == LATE_SCORE  # one function wrong: its points lost
        assert late.late_submission_penalty == pytest.approx(LATE_SCORE / 10)  # one day started


def test_each_student_fetches_their_own_feedback_only(term):
    for user, sample in STUDENTS.items():
        found = list(Path(f"/home/{user}/{ASSIGNMENT.name}/feedback").rglob("*.html"))
        assert len(found) == 1, found
        html = found[0].read_text()
        if sample == "instructor-solution":
            assert f"Score: {TOTAL:.1f} / {MAXIMUM:.1f}" in html
            assert "Late submission penalty" not in html
        else:  # less 10% for starting a day late
            assert f"Score: {LATE_SCORE * 0.9:.1f} / {MAXIMUM:.1f}" in html
            assert f"Late submission penalty (Score: -{LATE_SCORE / 10:.1f})" in html
