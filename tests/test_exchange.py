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
from course import catalog, demo, grade, sandbox
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


STUDENT_PYTHON = None  # set by the student_python fixture


@pytest.fixture(scope="module", autouse=True)
def student_python():
    """The students' nbgrader, outside the course folder, which `make protect` closes to every
    other account: this environment hard-linked (no copy of its 2.5 GB) beside the course
    folder, or in the temporary folder when that is on the same file system. On a hub the
    students have an environment of their own (docs/instructor.md)."""
    global STUDENT_PYTHON
    tried = []
    for parent in (ROOT.parent, Path(tempfile.gettempdir())):
        target = parent / f".course-student-env-{os.getpid()}"
        shutil.rmtree(target, ignore_errors=True)
        linked = subprocess.run(["cp", "-al", sys.prefix, str(target)], capture_output=True,
                                text=True)
        if linked.returncode == 0:
            break
        shutil.rmtree(target, ignore_errors=True)
        tried.append(f"{target}: {linked.stderr.strip()[:200]}")
    else:
        pytest.fail(f"could not link {sys.prefix} for the student accounts ({'; '.join(tried)}). "
                    "Fix: keep the environment on the file system of the course folder's "
                    "parent or of the temporary folder.")
    os.chmod(target, 0o755)
    STUDENT_PYTHON = target / "bin" / "python"
    yield STUDENT_PYTHON
    shutil.rmtree(target, ignore_errors=True)


def _nbgrader(*args, cwd, user=None, exchange):
    command = [str(STUDENT_PYTHON) if user else sys.executable, "-m", "nbgrader", *args,
               f"--Exchange.root={exchange}"]
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


# --- a collect that trusts nothing the student wrote (course/exchange.py) ---------------------
HOSTILE = ROOT / "build" / "exchange-hostile"
HONEST, LINKER, HARD_LINKER, FORGER, BACKDATER = ACCOUNTS = [
    "course-honest", "course-linker", "course-hardlinker", "course-forger", "course-backdater"]
BACKDATED = "2020-01-01 00:00:00.000000 UTC"


def _as(user, *command):
    subprocess.run(["runuser", "-u", user, "--", *command], check=True)


def _inbound(exchange, user):
    """The inbound folders whose name starts with `user`."""
    return sorted((Path(exchange) / COURSE_ID / "inbound").glob(f"{user}+*"))


@pytest.fixture(scope="module")
def hostile(datasets_dir):
    """Five students submit through the exchange, four of them hostile, and root collects: a
    notebook replaced by a link to the instructor's, a hard link, a submission made in a
    classmate's name, and a backdated timestamp (timestamp.txt and the folder's name)."""
    if os.geteuid() != 0:
        pytest.fail("the collect test needs root (student accounts). Fix: run the tests as root.")
    for user in ACCOUNTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", user], check=True)
    exchange = tempfile.mkdtemp(prefix="course-exchange-")
    os.chmod(exchange, 0o777)
    demo.copy_course(HOSTILE, names=[ASSIGNMENT.name])
    name, solution = ASSIGNMENT.name, HOSTILE / "source" / ASSIGNMENT.name / ASSIGNMENT.notebook
    _nbgrader("release_assignment", name, cwd=HOSTILE, exchange=exchange)
    submitted = {}
    for user in ACCOUNTS:
        home = Path(f"/home/{user}")
        _nbgrader("fetch_assignment", name, cwd=home, user=user, exchange=exchange)
        notebook = home / name / ASSIGNMENT.notebook
        notebook.write_text(notebook.read_text().replace("YOUR ANSWER HERE", f"by {user}"))
        submitted[user] = notebook.read_bytes()
        forged = [f"--student={HONEST}"] if user == FORGER else []
        started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        _nbgrader("submit", name, *forged, cwd=home, user=user, exchange=exchange)
        folder = _inbound(exchange, HONEST if user == FORGER else user)[-1]
        if user == LINKER:
            _as(user, "ln", "-sf", str(solution), str(folder / ASSIGNMENT.notebook))
        elif user == HARD_LINKER:
            _as(user, "ln", str(folder / ASSIGNMENT.notebook), str(folder / "copy.ipynb"))
        elif user == BACKDATER:
            backdate_started = started
            _as(user, "sh", "-c", f"printf '{BACKDATED}' > '{folder / 'timestamp.txt'}'")
            _as(user, "mv", str(folder), str(folder.parent / f"{user}+{name}+{BACKDATED}+x"))
    collect = subprocess.run([sys.executable, "-m", "nbgrader", "collect", name,
                              f"--Exchange.root={exchange}"], cwd=HOSTILE,
                             env=nbgrader_environment(), capture_output=True, text=True)
    yield {"collect": collect, "submitted": submitted, "backdate_started": backdate_started}
    for user in ACCOUNTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
    shutil.rmtree(exchange, ignore_errors=True)


def _collected(user):
    return HOSTILE / "submitted" / user / ASSIGNMENT.name


def test_collect_refuses_links_hard_links_and_a_classmates_forgery_each_in_one_line(hostile):
    log = hostile["collect"].stderr
    assert hostile["collect"].returncode == 0, log[-2000:]
    refused = [line for line in log.splitlines() if "Refused " in line]
    assert len(refused) == 3, log[-3000:]
    assert any(f"Refused {LINKER}+" in line and f"{ASSIGNMENT.notebook} is a symbolic link" in line
               for line in refused), refused
    assert any(f"Refused {HARD_LINKER}+" in line and "is a hard link" in line
               for line in refused), refused
    assert any(f"Refused {HONEST}+" in line and f"owned by {FORGER}, not by the student it "
               "names" in line for line in refused), refused
    assert not _collected(LINKER).exists() and not _collected(HARD_LINKER).exists()
    assert not _collected(FORGER).exists()
    for path in (HOSTILE / "submitted").rglob("*"):
        assert not path.is_symlink() and (path.is_dir() or path.stat().st_nlink == 1), path
        if path.suffix == ".ipynb":
            assert "BEGIN SOLUTION" not in path.read_text(), path


def test_collect_keeps_the_honest_submission_whatever_a_classmate_forged(hostile):
    folder = _collected(HONEST)
    assert (folder / ASSIGNMENT.notebook).read_bytes() == hostile["submitted"][HONEST]
    home = Path(f"/home/{HONEST}") / ASSIGNMENT.name
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in ("timestamp.txt", "submission_secret.txt"):
            assert path.read_bytes() == (home / path.relative_to(folder)).read_bytes(), path


def test_the_submission_time_is_the_exchanges_not_the_students(hostile):
    from nbgrader.utils import parse_utc

    written = (_collected(BACKDATER) / "timestamp.txt").read_text()
    collected = parse_utc(written)
    assert hostile["backdate_started"] <= collected <= datetime.datetime.now(
        datetime.timezone.utc).replace(tzinfo=None), written
    log = hostile["collect"].stderr
    assert "timestamp.txt says 2020-01-01 00:00:00, the exchange's change time is" in log, log
    assert "the folder's name says 2020-01-01 00:00:00" in log, log
    assert (_collected(BACKDATER) / ASSIGNMENT.notebook).read_bytes() == (
        hostile["submitted"][BACKDATER])


def test_a_student_account_reads_nothing_of_the_course(hostile):
    """`make install` closes the course folder (`make protect`): a student with a shell account
    on the grading machine reads neither the solutions, the references nor the gradebook."""
    for path in (ROOT / "source" / ASSIGNMENT.name / ASSIGNMENT.notebook,
                 ROOT / "hidden" / ASSIGNMENT.name / "references.npz",
                 ROOT / "nbgrader_config.py", ROOT / ".git" / "HEAD"):
        run = subprocess.run(["runuser", "-u", HONEST, "--", "cat", str(path)],
                             capture_output=True, text=True)
        assert run.returncode != 0 and "Permission denied" in run.stderr, (
            f"{path} is readable by the student account {HONEST}. Fix: `make protect`.")
    assert grade.readable_by_others(ROOT) == []
