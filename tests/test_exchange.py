"""The whole nbgrader course cycle, as on a shared JupyterHub: a local exchange folder, two
student accounts (real users of this machine), one submission on time and one late, graded by
`python -m course.grade` with the course's late policy (course/plugins/late.py), feedback released
and fetched by each student. docs/instructor.md walks through the same commands."""
import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, Workers, broker
from nbgrader.api import Gradebook

from course import demo, sandbox
from course import term as course_term
from course.audit import catalog, submissions, with_answers
from course.core import assignments, nbgrader_environment, solution_sources, written_answers
from course.grading import readable_by_others

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


def _timestamp(exchange, user, name=ASSIGNMENT.name):
    """When `user`'s submission of `name` reached the exchange (nbgrader's timestamp.txt)."""
    inbound = Path(exchange) / COURSE_ID / "inbound"
    folder = next(p for p in inbound.iterdir() if p.name.startswith(f"{user}+{name}+"))
    text = (folder / "timestamp.txt").read_text().strip()  # "2026-11-27 18:08:30.039757 UTC"
    return datetime.datetime.fromisoformat(text.removesuffix(" UTC")).replace(
        tzinfo=datetime.UTC)


def _accounts_and_exchange(users, what):
    """Fresh student accounts `users` and a new exchange folder every account may write to;
    `what` (the test) fails first without root and the grading sandbox."""
    if os.geteuid() != 0 or sandbox.unavailable():
        pytest.fail(f"{what} needs root (student accounts, the grading sandbox): "
                    f"{sandbox.unavailable() or 'not root'}. Fix: run the tests as root.")
    for user in users:
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", user], check=True)
    exchange = tempfile.mkdtemp(prefix="course-exchange-")
    os.chmod(exchange, 0o777)
    return exchange


@pytest.fixture(scope="module")
def term(datasets_dir):
    exchange = _accounts_and_exchange(STUDENTS, "the course cycle test")
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


# --- a collect that trusts nothing the student wrote (course/plugins/exchange.py)
# ---------------------
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
        started = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
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
        datetime.UTC).replace(tzinfo=None), written
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
    assert readable_by_others(ROOT) == []


# --- one student's folder never stops the class's collect (course/plugins/exchange.py)
# -----------------
UNRULY = ROOT / "build" / "exchange-unruly"
# collected in this order (by name): the classmate comes after both of the others
OVERSIZED, SWAPPER, CLASSMATE = UNRULY_ACCOUNTS = [
    "course-oversized", "course-swapper", "course-zz-classmate"]
MAX_DIR_KB = 1000  # CourseDirectory.max_dir_size of these collects: a submission is ~160 kB
ROUNDS = 3  # collects while the swapper swaps; the last one is formgrader's
FORGED = "FORGED LOG LINE"
OVERFLOWING = "99999999999999999999"  # a timestamp.txt that dateutil's parser overflows on
SECRET = "ONLY ROOT MAY READ THIS"
SWAP = """import os, sys
entry, aside, target, stop = sys.argv[1:]
while not os.path.exists(stop):
    os.rename(entry, aside)
    os.symlink(target, entry)
    os.unlink(entry)
    os.rename(aside, entry)
"""
FORMGRADER_COLLECT = """import json, sys
from nbgrader.apps import NbGrader, NbGraderAPI
app = NbGrader()
app.load_config_file()
app.config.Exchange.root = sys.argv[2]
app.config.CourseDirectory.max_dir_size = int(sys.argv[3])
print(json.dumps(NbGraderAPI(config=app.config).collect(sys.argv[1])))
"""


def _collect_unruly(exchange, *options, formgrader=False):
    """(exit code, log) of one collect of the unruly class: `nbgrader collect`, or formgrader's
    Collect button (nbgrader's API, with the course's config)."""
    if formgrader:
        run = subprocess.run([sys.executable, "-c", FORMGRADER_COLLECT, ASSIGNMENT.name, exchange,
                              str(MAX_DIR_KB)], cwd=UNRULY, env=nbgrader_environment(),
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        return (0 if result["success"] else 1), result.get("log", "") + result.get("error", "")
    run = subprocess.run([sys.executable, "-m", "nbgrader", "collect", ASSIGNMENT.name, *options,
                          f"--Exchange.root={exchange}",
                          f"--CourseDirectory.max_dir_size={MAX_DIR_KB}"],
                         cwd=UNRULY, env=nbgrader_environment(), capture_output=True, text=True)
    return run.returncode, run.stderr


def _unruly_state():
    """What submitted/ holds: each student's collected notebook (None: nothing collected), the
    entries beside each collected assignment, and any link or file holding the secret."""
    submitted = UNRULY / "submitted"
    notebooks = {user: (submitted / user / ASSIGNMENT.name / ASSIGNMENT.notebook).read_bytes()
                 if (submitted / user / ASSIGNMENT.name / ASSIGNMENT.notebook).exists() else None
                 for user in UNRULY_ACCOUNTS}
    beside = sorted(path.name for user in UNRULY_ACCOUNTS if (submitted / user).is_dir()
                    for path in (submitted / user).iterdir() if path.name != ASSIGNMENT.name)
    read_through = [str(path) for path in submitted.rglob("*") if path.is_symlink()
                    or (path.is_file() and SECRET.encode() in path.read_bytes())]
    return {"notebooks": notebooks, "beside": beside, "read through": read_through,
            "students": sorted(path.name for path in submitted.iterdir())}


@pytest.fixture(scope="module")
def unruly():
    """Three students submit. One then writes a file over max_dir_size into their inbound
    folder, a time that overflows dateutil's parser into its timestamp.txt, and makes a folder
    whose name holds a forged log line; root collects. Then another swaps their inbound folder
    for a link to a folder only root may read, and back, in a tight loop, while root collects
    ROUNDS times (--update; the classmate's collected copy removed before each, so each
    collects it again). The first student takes the big file out before the first round and
    puts it back before the second."""
    exchange = _accounts_and_exchange(UNRULY_ACCOUNTS, "the unruly collect test")
    secret = Path(tempfile.mkdtemp(prefix="course-secret-"))  # 0o700: root's only
    (secret / ASSIGNMENT.notebook).write_text(SECRET)
    name = ASSIGNMENT.name
    shutil.rmtree(UNRULY, ignore_errors=True)  # all that releasing and collecting need
    shutil.copytree(ROOT / "course", UNRULY / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "release" / name, UNRULY / "release" / name)
    shutil.copy(ROOT / "nbgrader_config.py", UNRULY)
    _nbgrader("release_assignment", name, cwd=UNRULY, exchange=exchange)
    submitted, seen = {}, {"rounds": []}
    for user in UNRULY_ACCOUNTS:
        home = Path(f"/home/{user}")
        shutil.copytree(UNRULY / "release" / name, home / name)  # what fetch_assignment gives
        notebook = home / name / ASSIGNMENT.notebook
        notebook.write_text(notebook.read_text().replace("YOUR ANSWER HERE", f"by {user}"))
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home / name)], check=True)
        submitted[user] = notebook.read_bytes()
    with ThreadPoolExecutor(len(UNRULY_ACCOUNTS)) as pool:  # the collect takes them by name
        list(pool.map(lambda user: _nbgrader("submit", name, cwd=f"/home/{user}", user=user,
                                             exchange=exchange), UNRULY_ACCOUNTS))
    entry = {user: _inbound(exchange, user)[-1] for user in UNRULY_ACCOUNTS}
    big = entry[OVERSIZED] / "weights.h5"
    write_big = ["sh", "-c", f"head -c {2000 * MAX_DIR_KB} /dev/zero > '{big}'"]
    _as(OVERSIZED, *write_big)
    _as(OVERSIZED, "mkdir", str(entry[OVERSIZED].parent / f"{OVERSIZED}+{name}+x\n{FORGED}"))
    _as(OVERSIZED, "sh", "-c", f"printf {OVERFLOWING} > '{entry[OVERSIZED] / 'timestamp.txt'}'")
    seen["first"] = _collect_unruly(exchange)
    seen["after first"] = _unruly_state()
    stop = Path(f"/home/{SWAPPER}/stop")
    aside = entry[SWAPPER].parent / f"{SWAPPER}-aside"  # not STUDENT+ASSIGNMENT+...: not listed
    swapping = subprocess.Popen(["runuser", "-u", SWAPPER, "--", str(STUDENT_PYTHON), "-c", SWAP,
                                 str(entry[SWAPPER]), str(aside), str(secret), str(stop)])
    try:
        for number in range(ROUNDS):
            if number < 2:  # out before the first round, back before the second
                _as(OVERSIZED, *(["rm", str(big)] if number == 0 else write_big))
            shutil.rmtree(UNRULY / "submitted" / CLASSMATE, ignore_errors=True)
            code, log = _collect_unruly(exchange, "--update", formgrader=number == ROUNDS - 1)
            seen["rounds"].append({"code": code, "log": log, **_unruly_state()})
    finally:
        stop.touch()  # the loop ends with the folder back in its place
        try:
            swapping.wait(timeout=30)
        except subprocess.TimeoutExpired:
            swapping.kill()
    seen["swapped back"] = entry[SWAPPER].is_dir() and not entry[SWAPPER].is_symlink()
    yield {**seen, "submitted": submitted}
    for user in UNRULY_ACCOUNTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
    shutil.rmtree(exchange, ignore_errors=True)
    shutil.rmtree(secret, ignore_errors=True)


def _refused(log, prefix):
    return [line for line in log.splitlines() if f"Refused {prefix}" in line]


def test_a_folder_over_max_dir_size_is_refused_in_one_line_and_the_class_collected(unruly):
    code, log = unruly["first"]
    assert code == 0, log[-3000:]
    over = [line for line in _refused(log, f"{OVERSIZED}+") if "max_dir_size" in line]
    assert len(over) == 1 and over[0].endswith("Nothing of it was collected."), log[-3000:]
    state = unruly["after first"]
    assert state["students"] == [SWAPPER, CLASSMATE]  # nothing of the refused one, not a folder
    for user in (SWAPPER, CLASSMATE):  # the classmate is collected after the refused folder
        assert state["notebooks"][user] == unruly["submitted"][user], log[-3000:]
    assert state["beside"] == [] and state["read through"] == []


def test_a_folder_name_with_a_forged_log_line_is_refused_on_one_escaped_line(unruly):
    code, log = unruly["first"]
    assert len(_refused(log, "")) == 2, log[-3000:]  # the big folder, this one
    assert not any(line.startswith(FORGED) for line in log.splitlines()), log[-3000:]
    assert f"Refused {OVERSIZED}+{ASSIGNMENT.name}+x\\n{FORGED}: its name is not" in log, log


def test_a_student_swapping_their_folder_for_a_link_never_stops_the_collect(unruly):
    assert len(unruly["rounds"]) == ROUNDS and unruly["swapped back"]
    for number, seen in enumerate(unruly["rounds"]):
        said = f"round {number}: {seen['log'][-3000:]}"
        assert seen["code"] == 0, said
        assert seen["notebooks"][CLASSMATE] == unruly["submitted"][CLASSMATE], said
        assert len(_refused(seen["log"], f"{SWAPPER}+")) <= 1, said
        assert seen["read through"] == [] and seen["beside"] == [], said
        # collected before the swapping began, and kept or collected again: never half of it
        assert seen["notebooks"][SWAPPER] == unruly["submitted"][SWAPPER], said


def test_a_refused_resubmission_keeps_the_one_collected_before(unruly):
    first, *later = unruly["rounds"]
    assert first["notebooks"][OVERSIZED] == unruly["submitted"][OVERSIZED], first["log"][-3000:]
    assert "timestamp.txt holds no valid time" in first["log"], first["log"][-3000:]
    for seen in later:  # the big file back in: refused, the one collected before kept
        over = [line for line in _refused(seen["log"], f"{OVERSIZED}+") if "max_dir_size" in line]
        assert len(over) == 1, seen["log"][-3000:]
        assert seen["notebooks"][OVERSIZED] == unruly["submitted"][OVERSIZED]


@pytest.mark.parametrize("change", ["grows", "shrinks"])
def test_a_file_that_changes_while_it_is_copied_is_refused_and_read_no_further(
        tmp_path, monkeypatch, change):
    """The copy reads each file to the size it was listed with (within max_dir_size): a file
    written to after it was opened is refused, not read on past that size."""
    from course.plugins import exchange

    notebook = tmp_path / "inbound" / "sub" / ASSIGNMENT.notebook
    notebook.parent.mkdir(parents=True)
    notebook.write_bytes(b"x" * 3000)
    opened = exchange._open_listed

    def open_then_change(name, folder_fd, listed, what):
        fd = opened(name, folder_fd, listed, what)
        if name == ASSIGNMENT.notebook:  # as the student's own process would, meanwhile
            with open(notebook, "ab" if change == "grows" else "r+b") as handle:
                handle.write(b"y" * 5_000_000) if change == "grows" else handle.truncate(1000)
        return fd

    monkeypatch.setattr(exchange, "_open_listed", open_then_change)
    with pytest.raises(exchange.RefusedEntry, match=f"sub/{ASSIGNMENT.notebook} changed while"):
        exchange.copy_without_following(tmp_path / "inbound", tmp_path / "copy",
                                         lambda relative, size: True, max_size=4000)
    assert (tmp_path / "copy" / "sub" / ASSIGNMENT.notebook).stat().st_size <= 3000


def test_a_folder_too_large_too_deep_or_with_a_forged_name_is_refused_unread(tmp_path):
    from course.plugins import MAX_DEPTH, RefusedEntry, inspect

    large = tmp_path / "large"
    large.mkdir()
    with open(large / "weights.h5", "wb") as handle:
        handle.truncate(10**10)  # 10 GB, sparse: refused from its size, never read
    with pytest.raises(RefusedEntry, match="more than the 100,000,000 bytes"):
        inspect(large, max_size=100_000_000)
    (large / "weights.h5").unlink()
    deep = tmp_path / "deep"
    os.makedirs(deep / os.path.join(*["d"] * MAX_DEPTH))
    inspect(deep)  # as deep as allowed
    os.mkdir(deep / os.path.join(*["d"] * (MAX_DEPTH + 1)))
    with pytest.raises(RefusedEntry, match=f"is nested more than {MAX_DEPTH} folders deep"):
        inspect(deep)
    (large / f"x\n{FORGED}").symlink_to("/")  # what the watcher prints too: on one line
    with pytest.raises(RefusedEntry, match=rf"^x\\n{FORGED} is a symbolic link$"):
        inspect(large)


# --- a term (course/term/): roster, extension, resubmission, hand grades, the LMS ------------
SEMESTER = ROOT / "build" / "exchange-term"
WRITTEN = next(a for a in assignments(ROOT).values() if a.manual)  # hand-graded answers
KEPT, CHANGED = list(WRITTEN.manual)[:2]  # the answer left as it was, the one rewritten
ON_TIME, LATE, ABSENT = TERM_STUDENTS = ["course-term-1", "course-term-2", "course-term-3"]
ROSTER = [  # a name with a comma and a quote, to be quoted in the LMS files
    {"id": ON_TIME, "first_name": "Ada", "last_name": 'O"Neil, Jr', "email": "ada@uni.example",
     "lms_user_id": "lms-001"},
    {"id": LATE, "first_name": "Ben", "last_name": "Bo", "email": "ben@uni.example",
     "lms_user_id": "lms-002"},
    {"id": ABSENT, "first_name": "Cy", "last_name": "Cole", "email": "cy@uni.example",
     "lms_user_id": "lms-003"}]
HAND = {"score": 1.5, "comment": "Clear, and with your own numbers."}


def _png(shade):
    """A small PNG image (base64) of one grey `shade`: a plot pasted into an answer."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (4, 4), shade).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _with_picture(notebook, answer, picture):
    """`notebook` with a plot pasted into the written answer `answer` (an attachment, as
    JupyterLab saves a pasted image)."""
    cell = next(c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == answer)
    cell.source += "\n\n![my plot](attachment:plot.png)"
    cell.attachments = {"plot.png": {"image/png": picture}}
    return notebook


def _term(*args, exchange=None):
    return subprocess.run([sys.executable, "-m", "course.term",
                           *([f"--exchange={exchange}"] if exchange else []), *args],
                          cwd=SEMESTER, capture_output=True, text=True, env=nbgrader_environment())


def _submission(student):
    with Gradebook(f"sqlite:///{SEMESTER / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(WRITTEN.name, student)
        grades = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                  for g in submission.notebooks[0].grades}
        comments = {c.name: c.manual_comment for c in submission.notebooks[0].comments}
        return {"score": submission.score, "penalty": submission.late_submission_penalty or 0,
                "late": submission.total_seconds_late, "grades": grades, "comments": comments}


@pytest.fixture(scope="module")
def semester(datasets_dir, tmp_path_factory):
    """Three students on the roster: one hands in on time (a plot pasted into each written
    answer), is graded by hand, resubmits after the due date (one function broken, one written
    answer with the same text and another plot); one hands in late and gets an extension; one
    never hands in. Everything through the course's commands."""
    exchange = _accounts_and_exchange(TERM_STUDENTS, "the term test")
    demo.copy_course(SEMESTER, names=[WRITTEN.name])
    name, seen = WRITTEN.name, {}
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    with open(roster, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROSTER[0]))
        writer.writeheader()
        writer.writerows(ROSTER)
    seen["roster"] = _term("roster", str(roster))
    _nbgrader("release_assignment", name, cwd=SEMESTER, exchange=exchange)
    code, written = solution_sources(WRITTEN.source()), written_answers(WRITTEN.source())
    solution = with_answers(WRITTEN, code | written)
    for answer in (KEPT, CHANGED):
        _with_picture(solution, answer, _png(64))
    for user in (ON_TIME, LATE):
        home = Path(f"/home/{user}")
        _nbgrader("fetch_assignment", name, cwd=home, user=user, exchange=exchange)
        nbformat.write(solution, home / name / WRITTEN.notebook)
        shutil.chown(home / name / WRITTEN.notebook, user, user)
        _nbgrader("submit", name, cwd=home, user=user, exchange=exchange)
        if user == ON_TIME:  # due a second after it: LATE's submission is late
            due = _timestamp(exchange, user, name) + datetime.timedelta(seconds=1)
            _nbgrader("db", "assignment", "add", name, f"--duedate={due.isoformat()}",
                      cwd=SEMESTER, exchange=exchange)
            while datetime.datetime.now(due.tzinfo) <= due + datetime.timedelta(seconds=1):
                pass
    _nbgrader("collect", name, cwd=SEMESTER, exchange=exchange)
    grading = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "2"],
                             cwd=SEMESTER, capture_output=True, text=True)
    assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-2000:]
    seen["late before"] = _submission(LATE)
    seen["extend"] = _term("extend", name, LATE, "--days", "1")
    seen["late after"] = _submission(LATE)
    with Gradebook(f"sqlite:///{SEMESTER / 'gradebook.db'}") as gradebook:  # as formgrader does
        for answer in (KEPT, CHANGED):
            grade = gradebook.find_grade(answer, WRITTEN.stem, name, ON_TIME)
            grade.manual_score, grade.needs_manual_grade = HAND["score"], False
            gradebook.find_comment(answer, WRITTEN.stem, name, ON_TIME).manual_comment = (
                HAND["comment"])
        gradebook.db.commit()
    seen["first"] = _submission(ON_TIME)
    broken = catalog.apply(catalog.of(WRITTEN).samples[0], code)
    again = _with_picture(_with_picture(with_answers(WRITTEN, broken | written), KEPT, _png(64)),
                          CHANGED, _png(200))  # the same text, another plot
    home = Path(f"/home/{ON_TIME}")
    nbformat.write(again, home / name / WRITTEN.notebook)
    _nbgrader("submit", name, cwd=home, user=ON_TIME, exchange=exchange)
    seen["resubmit"] = _term("resubmit", name, ON_TIME, exchange=exchange)
    seen["second"] = _submission(ON_TIME)
    seen["feedback"] = _term("feedback", name)
    seen["absent extension"] = _term("extend", name, ABSENT, "--days", "3")
    for kind in course_term.FORMATS:
        seen[kind] = _term("export", "--format", kind)
    seen["bad roster"] = _term("roster", str(WRITTEN.source()))
    seen["bad extension"] = _term("extend", name, "nobody", "--days", "1")
    yield seen
    for user in TERM_STUDENTS:
        subprocess.run(["userdel", "-r", user], capture_output=True)
    shutil.rmtree(exchange, ignore_errors=True)


def _ok(run):
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run.stdout


def _csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_roster_puts_a_student_who_never_submitted_in_the_export_with_0(semester):
    assert "3 students" in _ok(semester["roster"]) and "3 new" in semester["roster"].stdout
    rows = {row["student_id"]: row for row in _csv(SEMESTER / "reports" / "grades.csv")}
    assert set(rows) == set(TERM_STUDENTS)
    assert rows[ABSENT]["score"] == "0.0" and rows[ABSENT]["timestamp"] == ""


def test_an_extension_turns_the_late_submission_on_time_and_remakes_its_feedback(semester):
    before, after = semester["late before"], semester["late after"]
    assert before["late"] > 0 and before["penalty"] == pytest.approx(before["score"] / 10)
    assert after["late"] == 0 and after["penalty"] == 0 and after["score"] == before["score"]
    said = _ok(semester["extend"])
    assert "extended by 24 h" in said and "on time, late penalty" in said
    assert "feedback made again" in said
    page = (SEMESTER / "feedback" / LATE / WRITTEN.name / f"{WRITTEN.stem}.html").read_text()
    assert "Late submission penalty" not in page


def test_an_extension_before_any_submission_waits_on_an_empty_row_that_scores_0(semester):
    said = _ok(semester["absent extension"])
    assert "extended by 72 h" in said and "nothing submitted yet" in said
    absent = _submission(ABSENT)
    assert absent["score"] == 0 and absent["late"] == 0
    assert all(grade == (0, None, False) for grade in absent["grades"].values())  # no one to grade
    rows = {row["student_id"]: row for row in _csv(SEMESTER / "reports" / "grades.csv")}
    assert rows[ABSENT]["score"] == "0.0" and rows[ABSENT]["timestamp"] == ""


def test_a_resubmission_replaces_the_first_and_keeps_the_hand_grade_of_an_unchanged_answer(
        semester):
    _ok(semester["resubmit"])
    first, second = semester["first"], semester["second"]
    loses = catalog.of(WRITTEN).samples[0].loses
    assert first["grades"][loses][0] > 0 and second["grades"][loses][0] == 0  # the new notebook
    assert second["grades"][KEPT][1:] == (HAND["score"], False)  # kept, not "to grade"
    assert second["comments"][KEPT] == HAND["comment"]
    assert second["grades"][CHANGED][1:] == (None, True) and second["comments"][CHANGED] is None
    report = (SEMESTER / "reports" / WRITTEN.name / "grading_report.txt").read_text()
    assert f"{ON_TIME}: {CHANGED}: the answer changed since it was graded by hand" in report


def test_the_late_penalty_counts_the_hand_graded_points(semester):
    second = semester["second"]  # resubmitted after the due date: late, one day started
    assert second["late"] > 0 and HAND["score"] <= second["score"]
    assert second["penalty"] == pytest.approx(second["score"] / 10)


def test_the_remade_feedback_shows_the_hand_grade_and_its_comment(semester):
    assert "feedback made again for 2 students" in _ok(semester["feedback"])
    page = (SEMESTER / "feedback" / ON_TIME / WRITTEN.name / f"{WRITTEN.stem}.html").read_text()
    assert HAND["comment"] in page
    penalty = round(semester["second"]["penalty"], 2)  # as nbgrader's template rounds it
    assert penalty > 0 and f"Late submission penalty (Score: -{penalty})" in page


def test_the_lms_files_parse_back_to_the_gradebooks_numbers(semester):
    expected = {}
    with Gradebook(f"sqlite:///{SEMESTER / 'gradebook.db'}") as gradebook:
        for row in ROSTER:
            try:
                found = gradebook.find_submission(WRITTEN.name, row["id"])
                expected[row["lms_user_id"]] = max(0.0, found.score
                                                   - (found.late_submission_penalty or 0))
            except Exception:  # noqa: BLE001 - MissingEntry: never submitted
                expected[row["lms_user_id"]] = 0.0
        maximum = gradebook.find_assignment(WRITTEN.name).max_score
    assert expected["lms-003"] == 0 and expected["lms-001"] > 0
    canvas = _csv(SEMESTER / "reports" / "grades-canvas.csv")
    assert canvas[0]["Student"] == "Points Possible" and float(canvas[0][WRITTEN.name]) == maximum
    assert {row["SIS User ID"]: float(row[WRITTEN.name]) for row in canvas[1:]} == expected
    assert 'O"Neil, Jr, Ada' in [row["Student"] for row in canvas]
    moodle = _csv(SEMESTER / "reports" / "grades-moodle.csv")
    assert {row["ID number"]: float(row[WRITTEN.name]) for row in moodle} == expected
    assert {row["Last name"] for row in moodle} == {r["last_name"] for r in ROSTER}
    raw = (SEMESTER / "reports" / "grades-moodle.csv").read_text().splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in raw)  # every field quoted
    assert "still to grade by hand" in semester["moodle"].stdout  # the rewritten answer


def test_a_roster_or_an_extension_that_cannot_be_used_is_one_error_line(semester):
    for run, says in ((semester["bad roster"], "no 'id' column"),
                      (semester["bad extension"], "no student 'nobody'")):
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert says in run.stderr and "Fix:" in run.stderr


# --- graded as they submit (course/queue/, watch) ---------------------------------------------
WATCHER = "course-watch-1"
WATCHED = ROOT / "build" / "exchange-watch"


@pytest.fixture(scope="module")
def watched(datasets_dir):
    """One student submits twice on one day; a watcher that grades at most one submission a
    day per student and releases feedback grades the first on a Celery worker, and leaves the
    second to the final grading."""
    exchange = _accounts_and_exchange([WATCHER], "the watch test")
    demo.copy_course(WATCHED, names=[ASSIGNMENT.name])
    name, home = ASSIGNMENT.name, Path(f"/home/{WATCHER}")
    environment = {**nbgrader_environment(),  # a queue of its own: another run may be on
                   "COURSE_QUEUE_NAME": f"test-exchange-watch-{os.getpid()}"}
    workers = Workers(1, environment, "watch-worker", [name])
    looks = []

    def look():
        looks.append(subprocess.run(
            [sys.executable, "-m", "course.term", f"--exchange={exchange}", "watch", name,
             "--broker", broker(), "--per-day", "1", "--release-feedback", "--once"],
            cwd=WATCHED, env=environment, capture_output=True, text=True))

    try:
        _nbgrader("release_assignment", name, cwd=WATCHED, exchange=exchange)
        _nbgrader("fetch_assignment", name, cwd=home, user=WATCHER, exchange=exchange)
        answers = submissions(ASSIGNMENT)
        for sample in ("instructor-solution", WRONG.student):
            nbformat.write(answers[sample], home / name / ASSIGNMENT.notebook)
            shutil.chown(home / name / ASSIGNMENT.notebook, WATCHER, WATCHER)
            _nbgrader("submit", name, cwd=home, user=WATCHER, exchange=exchange)
            look()
            _nbgrader("fetch_feedback", name, cwd=home, user=WATCHER, exchange=exchange)
        # the student's pages, oldest submission first (fetch_feedback: feedback/TIMESTAMP/)
        pages = [path.read_text() for path in sorted((home / name / "feedback").rglob("*.html"))]
        yield looks, pages
    finally:
        workers.stop()
        subprocess.run(["userdel", "-r", WATCHER], capture_output=True)
        shutil.rmtree(exchange, ignore_errors=True)


def test_a_submission_is_graded_on_the_queue_and_its_feedback_released_as_it_arrives(watched):
    (first, _), (page, _) = watched
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert f"{WATCHER}+{ASSIGNMENT.name}+" in first.stdout
    assert "graded, feedback released" in first.stdout, first.stdout
    assert f"Score: {TOTAL:.1f} / {MAXIMUM:.1f}" in page
    # the line at the top of its page: graded on submission, the attempts left today
    assert page.index('<p class="course-attempts"') < page.index("Score:")
    assert ("Graded attempts left today (UTC): 0 of 1. The next one can be graded from 00:00 "
            "UTC tomorrow.</p>") in page


def test_a_submission_over_the_daily_limit_is_left_to_the_final_grading(watched):
    (_, second), (_, page) = watched
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert ("over the limit of 1 a day: left to the final grading (the last submission "
            "counts), the student told why") in second.stdout
    # the student's Fetch Feedback brings a page saying so
    assert (f"<h1>{ASSIGNMENT.name}: not graded now: today&#x27;s graded attempts are used</h1>"
            in page)
    assert "It is kept: the final grading, after the due date, grades your last submission." in page
    assert "Score:" not in page
    with Gradebook(f"sqlite:///{WATCHED / 'gradebook.db'}") as gradebook:  # still the first
        assert gradebook.find_submission(ASSIGNMENT.name, WATCHER).score == TOTAL
    seen = json.loads((WATCHED / "reports" / ASSIGNMENT.name / "watched.json").read_text())
    assert [record["outcome"] for record in seen.values()] == [
        "graded", "over the limit of 1 a day: left to the final grading (the last submission "
        "counts)"]


# --- a teaching team: root grades, the grader account presses formgrader's buttons -------------
TEAM_STUDENT, GRADER = "course-team-student", "course-team-grader"
GRADER_BUTTONS = """import json, sys
from nbgrader.api import Gradebook
from nbgrader.apps import NbGrader, NbGraderAPI
assignment, notebook, student, answer, exchange = sys.argv[1:]
app = NbGrader()
app.load_config_file()
app.config.Exchange.root = exchange
api = NbGraderAPI(config=app.config)
pressed = {"collect": api.collect(assignment)}
with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:  # a hand grade saved
    grade = gradebook.find_grade(answer, notebook, assignment, student)
    grade.manual_score, grade.needs_manual_grade = 2.0, False
    gradebook.db.commit()
pressed["generate_feedback"] = api.generate_feedback(assignment, student)
pressed["release_feedback"] = api.release_feedback(assignment, student)
pressed["autograde"] = api.autograde(assignment, student)
print(json.dumps({button: {"success": result["success"],
                           "said": (result.get("log", "") + (result.get("error") or ""))[-1500:]}
                  for button, result in pressed.items()}))
"""


@pytest.fixture(scope="module")
def team(datasets_dir):
    """The course as a hub runs it (docs/instructor.md, "A teaching team"): the course folder and
    the exchange shared with the grader account by `python -m course.hub setup --grader`; root
    releases, collects, grades and makes the feedback; the student submits again; then the
    grader account, in a Python outside the course folder, presses formgrader's buttons through
    nbgrader's API as formgrader does: Collect, a hand grade, Generate Feedback, Release Feedback,
    Autograde."""
    if os.geteuid() != 0 or sandbox.unavailable():
        pytest.fail("the teaching-team test needs root (accounts, the grading sandbox): "
                    f"{sandbox.unavailable() or 'not root'}. Fix: run the tests as root.")
    for user, group in ((TEAM_STUDENT, []), (GRADER, ["-U"])):
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", *group, user], check=True)
    parent = Path(tempfile.mkdtemp(prefix="course-team-"))  # the grader reaches it, others not
    os.chmod(parent, 0o755)
    course, exchange = parent / "course", parent / "exchange"
    name = WRITTEN.name
    try:
        demo.copy_course(course, names=[name])
        shared = subprocess.run([sys.executable, "-m", "course.hub", "--root", str(course),
                                 "setup", "--exchange", str(exchange), "--grader", GRADER],
                                cwd=course, capture_output=True, text=True)
        assert shared.returncode == 0, shared.stderr
        _nbgrader("release_assignment", name, cwd=course, exchange=exchange)
        home = Path(f"/home/{TEAM_STUDENT}")
        _nbgrader("fetch_assignment", name, cwd=home, user=TEAM_STUDENT, exchange=exchange)
        solution = with_answers(WRITTEN, solution_sources(WRITTEN.source())
                                | written_answers(WRITTEN.source()))
        nbformat.write(solution, home / name / WRITTEN.notebook)
        shutil.chown(home / name / WRITTEN.notebook, TEAM_STUDENT, TEAM_STUDENT)
        _nbgrader("submit", name, cwd=home, user=TEAM_STUDENT, exchange=exchange)
        _nbgrader("collect", name, cwd=course, exchange=exchange)
        grading = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "1"],
                                 cwd=course, capture_output=True, text=True)
        assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-2000:]
        made = subprocess.run([sys.executable, "-m", "course.term", f"--exchange={exchange}",
                               "feedback", name, "--release"], cwd=course, capture_output=True,
                              text=True, env=nbgrader_environment())
        assert made.returncode == 0, made.stderr[-2000:]
        graded = course / "autograded" / TEAM_STUDENT / name / WRITTEN.notebook
        before = graded.read_bytes()
        _nbgrader("submit", name, cwd=home, user=TEAM_STUDENT, exchange=exchange)  # again
        pressed = subprocess.run(
            ["runuser", "-u", GRADER, "--", "env", f"HOME=/home/{GRADER}", str(STUDENT_PYTHON),
             "-c", GRADER_BUTTONS, name, WRITTEN.stem, TEAM_STUDENT, next(iter(WRITTEN.manual)),
             str(exchange)], cwd=course, capture_output=True, text=True,
            env=nbgrader_environment())
        assert pressed.returncode == 0, pressed.stderr[-3000:]
        _nbgrader("fetch_feedback", name, cwd=home, user=TEAM_STUDENT, exchange=exchange)
        yield {"buttons": json.loads(pressed.stdout.strip().splitlines()[-1]),
               "setup": shared.stdout, "graded": graded, "before": before,
               "feedback": sorted((home / name / "feedback").rglob("*.html")),
               "course": course, "exchange": exchange}
    finally:
        for user in (TEAM_STUDENT, GRADER):
            subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def test_the_grader_account_presses_every_formgrader_button_after_root(team):
    buttons = team["buttons"]
    for button in ("collect", "generate_feedback", "release_feedback"):
        assert buttons[button]["success"], (button, buttons[button]["said"])
    # the newer submission collected over root's copy; the student's fetched feedback has the
    # hand grade (2 points) the grader account saved, released by the grader account
    assert f"Updating submission: {TEAM_STUDENT} {WRITTEN.name}" in buttons["collect"]["said"]
    # (root's release before it said 0.0: nothing was graded by hand then)
    [page] = [path.read_text() for path in team["feedback"]]
    answer = next(iter(WRITTEN.manual))
    assert f'<a href="#{answer}">Written response</a> (Score: 2.0 /' in page


def test_autograde_pressed_by_the_grader_account_refuses_and_keeps_the_graded_copy(team):
    autograde = team["buttons"]["autograde"]
    assert not autograde["success"]
    assert "cannot sandbox student code: the grader is not root" in autograde["said"]
    assert "Nothing was changed" in autograde["said"]
    assert team["graded"].read_bytes() == team["before"]


def test_the_shared_course_is_closed_to_others_and_the_teams_where_root_runs_code(team):
    """The group writes where formgrader's buttons write, and nothing root runs: every TA has
    the grader account's terminal."""
    from course.plugins import TEAM_WRITES

    course = team["course"]
    assert team["setup"].splitlines()[-1].startswith(f"team: {course.resolve()} shared with ")
    assert oct(course.stat().st_mode & 0o7777) == "0o2750"
    assert os.readlink(course / "gradebook.db") == "gradebook/gradebook.db"
    modes = {path: path.lstat().st_mode for path in course.rglob("*") if not path.is_symlink()}
    writes = {path: path.relative_to(course).parts[0] in TEAM_WRITES for path in modes}
    assert all(mode & 0o2070 == 0o2070 for path, mode in modes.items()
               if path.is_dir() and writes[path])
    assert all(mode & 0o060 == 0o060 for path, mode in modes.items() if writes[path])
    assert [str(path) for path, mode in modes.items() if not writes[path] and mode & 0o020] == []
    assert all(mode & 0o040 for mode in modes.values())  # the team reads the rest
    for command in (["touch", str(course / "numpy.py")],
                    ["sh", "-c", f"echo x >> {course / 'nbgrader_config.py'}"],
                    ["touch", str(course / "course" / "sitecustomize.py")]):
        refused = subprocess.run(["runuser", "-u", GRADER, "--", *command],
                                 capture_output=True, text=True)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr, command
    denied = subprocess.run(["runuser", "-u", TEAM_STUDENT, "--", "ls", str(course)],
                            capture_output=True, text=True)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr


def test_root_refuses_a_gradebook_the_team_replaced_with_a_link(team, tmp_path):
    kept = team["course"] / "gradebook" / "gradebook.db"
    aside = tmp_path / "gradebook.db"
    shutil.move(kept, aside)
    try:
        kept.symlink_to(tmp_path / "elsewhere.db")
        run = subprocess.run([sys.executable, "-m", "nbgrader", "db", "student", "list"],
                             cwd=team["course"], env=nbgrader_environment(),
                             capture_output=True, text=True)
        assert run.returncode != 0
        assert run.stderr.strip().splitlines()[-1] == (
            f"error: {kept} is a link or a special file: the teaching team may change "
            "gradebook/, so root does not open it. Fix: put the gradebook back as a plain file "
            "there, or remove it and make it again.")
        assert not (tmp_path / "elsewhere.db").exists()
    finally:
        kept.unlink()
        shutil.move(aside, kept)


def test_root_refuses_a_students_graded_folder_the_team_swapped_for_a_link(team, tmp_path):
    """Root's autograde would remove and write the assignment's folder under it, following the
    link: a TA with the grader account's terminal would have root write where they chose."""
    graded = team["course"] / "autograded" / TEAM_STUDENT
    aside = tmp_path / "graded"
    shutil.move(graded, aside)
    try:
        (tmp_path / "target" / WRITTEN.name).mkdir(parents=True)
        graded.symlink_to(tmp_path / "target")
        run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "1"],
                             cwd=team["course"], capture_output=True, text=True)
        assert run.returncode != 0
        assert run.stderr.strip().splitlines()[-1] == (
            f"error: {graded} is not a folder (a link, or a file): the teaching team may change "
            "autograded/, so root does not work in it. Fix: look at who made it and remove it.")
        assert (tmp_path / "target" / WRITTEN.name).is_dir()  # nothing removed through it
    finally:
        graded.unlink()
        shutil.move(aside, graded)


def test_a_course_folder_a_student_made_first_in_the_exchange_is_refused_in_one_line(team):
    """The exchange lets every account make entries: a student who makes the course's folder
    before the instructor releases would own where every classmate submits. nbgrader's check of
    the owner is off with groupshared; the course's release and collect refuse it."""
    exchange = Path(tempfile.mkdtemp(prefix="course-squatted-"))
    try:
        os.chmod(exchange, 0o1777)
        for folder in (COURSE_ID, f"{COURSE_ID}/inbound", f"{COURSE_ID}/outbound"):
            subprocess.run(["runuser", "-u", TEAM_STUDENT, "--", "mkdir", "-m", "777",
                            str(exchange / folder)], check=True)
        said = {}
        for step in ("release_assignment", "collect"):
            run = subprocess.run([sys.executable, "-m", "nbgrader", step, WRITTEN.name,
                                  f"--Exchange.root={exchange}"], cwd=team["course"],
                                 env=nbgrader_environment(), capture_output=True, text=True)
            said[step] = (run.returncode, [line.split("CRITICAL] ", 1)[1]
                                           for line in run.stderr.splitlines()
                                           if "CRITICAL" in line])
        expected = (f"{exchange}/{COURSE_ID} is owned by {TEAM_STUDENT}, not the "
                    "course's: whoever owns it reads every submission and changes what students "
                    "fetch. Fix: remove it (as root), then `python -m course.hub setup` before "
                    "releasing.")
        assert said == {"release_assignment": (1, [expected]), "collect": (1, [expected])}
        assert list((exchange / COURSE_ID / "outbound").iterdir()) == []  # nothing released
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
