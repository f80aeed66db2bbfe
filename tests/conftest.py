"""Shared set-up: instructor solutions as namespaces, the dataset check."""
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course import ROOT
from course.audit import catalog
from course.core import SUFFIX, Results, assignments, run_answers, solution_sources

# nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

ASSIGNMENTS = assignments(ROOT)


@functools.cache
def _solution(name):
    source = ASSIGNMENTS[name].source()
    return run_answers(solution_sources(source), source)


def namespace(name, mistake=None):
    """The namespace of assignment `name`'s instructor solution, with `mistake` (a catalog
    entry) made if given; its folder first on sys.path (its public_tests importable)."""
    source = ASSIGNMENTS[name].source()
    if mistake is None:
        run_answers({}, source)  # the assignment's folder on sys.path, its modules current
        return _solution(name)
    return run_answers(catalog.apply(mistake, solution_sources(source)), source)


def graded(course, assignment):
    """The last batch of `assignment` graded in `course` (its grading_results.json), and
    {student: (status, {graded function: score})} of its submissions."""
    results = Results.read(Path(course) / "reports" / assignment.name / "grading_results.json")
    return results, {student: (record.status, {cell: score for cell, (score, _) in
                                               record.scores.items()
                                               if cell in assignment.functions})
                     for student, record in results.submissions.items()}


def full_marks(assignment):
    """{graded function: its points} of `assignment`."""
    return {f: float(assignment.points[f + SUFFIX]) for f in assignment.functions}


def broker():
    """The test's Celery broker (`make test` starts one: .ci/redis)."""
    url = os.environ.get("COURSE_TEST_BROKER_URL")
    if not url:
        pytest.fail("COURSE_TEST_BROKER_URL is not set: this test needs a Redis broker. Fix: "
                    "run `make test`, which starts one (.ci/redis).")
    return url


class Workers:
    """Celery workers (course/queue/) as root, each grading in a course copy of its own, as
    on a machine of its own: build/PREFIX-N/, its log build/PREFIX-N.log."""

    def __init__(self, count, environment, prefix, names):
        from course import sandbox
        from course.core import copy_course

        self.sandbox = sandbox
        self.environment, self.processes, self.logs, self.copies = environment, [], [], []
        for number in range(1, count + 1):
            copy = copy_course(ROOT / "build" / f"{prefix}-{number}", names=names)
            log = ROOT / "build" / f"{prefix}-{number}.log"
            self.copies.append(copy)
            self.logs.append(log)
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "course.queue", "worker", "--broker", broker(), "--root",
                 str(copy), "--name", f"worker{number}"], cwd=copy, env=environment,
                stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while not all("ready." in log.read_text() for log in self.logs):
            assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in self.logs]
            assert all(p.poll() is None for p in self.processes), [
                log.read_text()[-2000:] for log in self.logs]
            time.sleep(0.5)

    def received(self, number):
        return len(re.findall(r"Task course\.run_submission\[[^]]+\] received",
                               self.logs[number - 1].read_text()))

    def kill(self, number):
        os.killpg(self.processes[number - 1].pid, signal.SIGKILL)
        self.processes[number - 1].wait()

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for uid in self.sandbox.leftover_processes():  # what a killed worker's kernel left
            self.sandbox.kill_user(uid, settle=0)
        self.sandbox.sweep()


@pytest.fixture(scope="session")
def datasets_dir():
    folder = ROOT / "datasets"
    for name in ("train_signs.h5", "test_signs.h5", "sign-language-digits-6to9"):
        if not (folder / name).exists():
            pytest.fail(f"{folder / name} is missing: run `make data` (tests need the datasets)")
    return folder



class SecondsByFile:
    """Each test file's share of the run, the notebooks under nbval included (.ci/run prints
    it). A plugin of the whole session: a conftest's own hooks would see tests/ only."""

    def __init__(self, config):
        self.config, self.seconds = config, {}

    def pytest_runtest_logreport(self, report):
        path = report.nodeid.split("::")[0] or str(report.fspath)
        self.seconds[path] = self.seconds.get(path, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter):
        if not self.seconds:
            return
        total = sum(self.seconds.values())
        terminalreporter.section("seconds per test file (set-up, test and tear-down)")
        for path, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:8.1f} s {seconds / total:6.1%}  {path}")
        workers = self.config.getoption("numprocesses", None)
        summed = (f", summed over {workers} workers (pytest's last line is the wall time)"
                  if workers else "")
        terminalreporter.write_line(f"{total:8.1f} s in all{summed}")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("seconds-by-file"):
        config.pluginmanager.register(SecondsByFile(config), "seconds-by-file")


def free_ports(count):
    """`count` distinct TCP ports of 127.0.0.1 that nothing listens on now (each held open
    until all are found, so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()
