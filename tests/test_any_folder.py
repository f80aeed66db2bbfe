"""Grading works from any folder the course may live in, through nbgrader, as root: a course and
its Python environment under /tmp (which every sandbox covers with a memory file system of its
own), a home folder with spaces in its path, a virtual environment reached through a symbolic
link, the data folder outside the course (SIGNS_DATA_DIR). And a grader that cannot run a
kernel says so and exits 2, instead of grading every submission 0."""
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, full_marks, graded

from course import sandbox
from course.audit import SOLUTION, submissions
from course.core import Settings, copy_course, find

RESNETS = find("resnets")
VENV = Path(sys.prefix)  # this interpreter's virtual environment, shown under other paths


@pytest.fixture(scope="module", autouse=True)
def sandboxed(datasets_dir):
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"grading needs the per-submission sandbox: {problem}")
    if sys.prefix == sys.base_prefix:
        pytest.fail("these tests show this virtual environment under other paths: run them with "
                    "the course's .venv (make test)")


def _course(folder):
    """A copy of the course in `folder` with the instructor solution submitted."""
    copy_course(folder, names=[RESNETS.name])
    path = folder / "submitted" / SOLUTION / RESNETS.name / RESNETS.notebook
    path.parent.mkdir(parents=True)
    nbformat.write(submissions(RESNETS)[SOLUTION], path)
    return folder


def _grade(folder, python, prefix=(), environment=None):
    command = [*prefix, str(python), "-m", "course.grade", "--assignment", RESNETS.name,
               "--jobs", "1"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True,
                          env={**os.environ, **(environment or {})})


def _full_marks(folder, run):
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    results, scores = graded(folder, RESNETS)
    assert scores[SOLUTION] == ("graded", full_marks(RESNETS)), results.submissions[SOLUTION]
    assert results.batch.processes_left == 0


def test_a_course_and_its_environment_under_tmp_grade_the_solution_and_a_broken_grader_exits_2():
    base = Path(tempfile.mkdtemp(prefix="course-under-tmp-", dir="/tmp"))
    try:
        folder = _course(base / "main")
        # the environment at folder/.venv, as a clone under /tmp has it: this one, bind-mounted
        # there in a mount namespace of the grader's own (nothing changes outside it)
        target = folder / ".venv"
        inside = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                  'mkdir -p "$1" && mount --bind "$2" "$1" && shift 2 && exec "$@"', "sh",
                  str(target), str(VENV.resolve())]
        _full_marks(folder, _grade(folder, target / "bin" / "python", inside))

        # the same grader with kernels that cannot start: 12 open files are enough for the
        # sandbox's own check (sh), not for a kernel's sockets. (A limit on processes is not
        # a sure way: the boundary just ended may still be counted while its threads exit, and
        # the check's sh could not fork, as it happened on one CI run.)
        broken = _grade(folder, target / "bin" / "python", inside,
                        {"COURSE_SANDBOX_OPEN_FILES": "12"})
        assert broken.returncode == 2
        errors = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1
        assert errors[0].startswith("error: the grader cannot run a submission: kernel: a grading "
                                    f"kernel with {target / 'bin' / 'python'} did not run")
        assert "Kernel died before replying to kernel_info" in errors[0]
        assert "Too many open files" in errors[0]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_home_folder_with_spaces_a_linked_environment_and_the_data_outside_the_course():
    base = Path(tempfile.mkdtemp(prefix="course any folder ", dir=Path.home()))
    try:
        folder = _course(base / "My Course")
        (folder / "datasets").unlink()  # the data only through SIGNS_DATA_DIR
        link = base / "venv link"
        link.symlink_to(VENV.resolve())
        _full_marks(folder, _grade(folder, link / "bin" / "python", environment={
            "SIGNS_DATA_DIR": str((ROOT / "datasets").resolve())}))
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("environment, line", [
    ({"SIGNS_DATA_DIR": "/nonexistent/data"},
     "error: data: /nonexistent/data: train_signs.h5 error: not found;"),
    ({"COURSE_SANDBOX_MEMORY_GIB": "1"}, "error: packages: tensorflow error: ImportError"),
])
def test_the_sandbox_check_starts_a_real_kernel_and_names_what_is_broken(environment, line):
    run = subprocess.run([sys.executable, "-m", "course.sandbox", "check"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, **environment})
    assert run.returncode == 2
    assert "kernel: ok: " in run.stdout
    assert [e for e in run.stderr.splitlines() if e.startswith("error:")][0].startswith(line)


def test_a_sandbox_without_processes_to_start_names_the_limit_to_raise():
    # bubblewrap, its init and the check's shell and `id` are 4 processes: 3 cannot start them
    run = subprocess.run([sys.executable, "-m", "course.sandbox", "check"], cwd=ROOT,
                         capture_output=True, text=True,
                         env={**os.environ, "COURSE_SANDBOX_PROCESSES": "3"})
    assert run.returncode == 2
    errors = [e for e in run.stderr.splitlines() if e.startswith("error:")]
    assert len(errors) == 1 and "kernel:" not in run.stdout
    assert errors[0].startswith("error: sandbox: a sandbox could not start its processes (")
    assert errors[0].endswith("with 3 processes and threads allowed. Fix: raise "
                              "COURSE_SANDBOX_PROCESSES (docs/grading.md, 'The sandbox').")


def test_the_sandbox_check_passes_here_and_reads_every_data_entry():
    run = subprocess.run([sys.executable, "-m", "course.sandbox", "check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    limits = [line for line in run.stdout.splitlines() if line.startswith("limit: ")]
    lines = [line for line in run.stdout.splitlines() if not line.startswith("limit: ")]
    assert [line.split(":")[0] for line in lines] == ["sandbox", "kernel", "packages", "data"]
    # every limit of grading with its value and what sets it: the settings, nbgrader's (four of
    # execution, three of output), the queue's two
    assert len(limits) == len(dataclasses.fields(Settings)) + 9
    for shown in ("submission_seconds = 1800 (COURSE_SANDBOX_SUBMISSION_SECONDS): wall time",
                  "cell timeout = 120 (nbgrader_config.py's Execute.timeout)",
                  "max notebook output characters = 8388608 (ExecuteWithHiddenTests.",
                  "time_limit = 2100 (COURSE_QUEUE_TIME_LIMIT)"):
        assert any(line.startswith(f"limit: {shown}") for line in limits), (shown, limits)
    assert f"kernel: ok: {sys.executable} as user id " in lines[1]
    for name in ("train_signs.h5", "test_signs.h5", "example_hand.jpg",
                 "sign-language-digits-6to9", "resnet50.h5"):
        assert f"{name} (" in lines[3]
