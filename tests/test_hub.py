"""The students' side of the hub as the project ships it (hub/students/): their nbgrader
configuration agrees with the course's, and a real Jupyter server with their configuration
answers while Validate runs a notebook, with the grader's per-cell limit."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import free_ports
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ROOT / "hub" / "students"


def _config(folder):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_the_students_nbgrader_configuration_is_the_courses():
    course, students = _config(ROOT), _config(STUDENTS)
    for section, key in (("CourseDirectory", "course_id"), ("Exchange", "root"),
                         ("Execute", "timeout"), ("Execute", "iopub_timeout")):
        assert students[section][key] == course[section][key], (section, key)
    assert course.Exchange.root == "/usr/local/share/nbgrader/exchange"  # nbgrader 0.9's default


def _slow_notebook(path, seconds):
    """An nbgrader notebook: a cell that takes `seconds`, then a graded test cell of 1 point."""
    slow = nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})\nanswer = 42")
    test = nbformat.v4.new_code_cell("assert answer == 42")
    test.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "points": 1,
                              "grade_id": "answer_test", "schema_version": 3}
    nbformat.write(nbformat.v4.new_notebook(cells=[slow, test]), path)


@pytest.fixture
def student_server(tmp_path):
    """A Jupyter server as a student's: their home its folder and working folder, the
    students' configuration as the setup puts it (an etc/jupyter of its own, course_validate
    importable), no user or system configuration of this machine."""
    etc = tmp_path / "etc" / "jupyter"
    etc.mkdir(parents=True)
    for name in ("nbgrader_config.py", "jupyter_server_config.py"):
        shutil.copy(STUDENTS / name, etc / name)
    home = tmp_path / "home"
    home.mkdir()
    [port], token = free_ports(1), "student-token"
    environment = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_PATH": str(etc),
                   "JUPYTER_CONFIG_DIR": str(tmp_path / "user"),
                   "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
                   "PYTHONPATH": str(STUDENTS)}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", "--no-browser", f"--ServerApp.root_dir={home}",
         "--allow-root"],
        cwd=home, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(url, token, "/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the student's Jupyter server did not start: "
                                + (tmp_path / "server.log").read_text()[-2000:])
                time.sleep(0.5)
        yield url, token, home, tmp_path / "server.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _request(url, token, path, data=None, timeout=10):
    request = urllib.request.Request(url + path, data=data,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


def test_validate_leaves_the_server_answering_and_gives_a_cell_the_graders_limit(
        student_server):
    """A cell of 35 s: past nbgrader's own 30 s limit, within the grader's 120 s. While it runs,
    the server answers every request within a second (nbgrader's handler runs it on the
    server's event loop: nothing is answered until it ends; measured, the first /api/status
    after the click timed out at 5 s)."""
    url, token, home, log = student_server
    _slow_notebook(home / "slow.ipynb", 35)
    result = {}

    def validate():
        started = time.monotonic()
        result["answer"] = _request(url, token, "/assignments/validate",
                                    data=b"path=slow.ipynb", timeout=300)
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=validate)
    thread.start()
    waits = []
    while thread.is_alive():
        started = time.monotonic()
        _request(url, token, "/api/status", timeout=5)
        waits.append(time.monotonic() - started)
        time.sleep(0.5)
    thread.join()
    # nbgrader's answer for a notebook whose test cells pass: nothing failed, nothing changed
    # (with nbgrader's 30 s: {"failed": [the test cell, NameError: answer]})
    assert result["answer"] == {"success": True, "value": {}}, (
        result["answer"], log.read_text()[-3000:])
    assert result["seconds"] >= 35
    assert len(waits) >= 30 and max(waits) < 1.0, waits
    assert "course_validate: Validate runs beside the server's event loop" in log.read_text()


def test_setup_makes_the_exchange_the_students_python_the_data_and_closed_homes(tmp_path):
    students = tmp_path / "students-env"
    # the students' own environment, with the grader's packages (as an image built from the
    # same requirements.txt has them)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(students)], check=True)
    packages = next((students / "lib").glob("python3*/site-packages"))
    (packages / "same-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    homes = tmp_path / "home"
    for name, mode in (("alice", 0o755), ("bob", 0o700)):
        (homes / name).mkdir(parents=True)
        os.chmod(homes / name, mode)
    (homes / "link").symlink_to(tmp_path)  # not a home: left as it is
    login_defs = tmp_path / "login.defs"
    login_defs.write_text("UMASK\t\t022\n#HOME_MODE\t0700\nUSERGROUPS_ENAB yes\n")
    exchange, data = tmp_path / "srv" / "exchange", tmp_path / "srv" / "data"
    run = subprocess.run(
        [sys.executable, "-m", "course.hub", "setup", "--students-python", str(students),
         "--data", str(data), "--close-homes", "--exchange", str(exchange),
         "--login-defs", str(login_defs), "--home-folder", str(homes)],
        cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert [line.split(":")[0] for line in run.stdout.splitlines()] == [
        "exchange", "students' Python", "data", "homes"]
    assert oct(exchange.stat().st_mode & 0o7777) == "0o1777"
    # the students' Python imports course_validate and reads the configuration from its etc
    asked = subprocess.run(
        [str(students / "bin" / "python3"), "-c", "import course_validate, jupyter_core.paths; "
         "print(course_validate.__file__); print(jupyter_core.paths.jupyter_config_path())"],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.splitlines()[0].startswith(str(students))
    assert str(students / "etc" / "jupyter") in asked.stdout
    for name in ("nbgrader_config.py", "jupyter_server_config.py"):
        assert (students / "etc" / "jupyter" / name).read_text() == (STUDENTS / name).read_text()
    # the data: every entry, links followed, nobody but root writes
    linked = sorted(path.name for path in (ROOT / "datasets").iterdir())
    assert sorted(path.name for path in data.iterdir()) == linked
    assert not any(path.is_symlink() for path in data.rglob("*"))
    assert all(path.stat().st_mode & 0o022 == 0 and path.stat().st_mode & 0o004
               for path in [data, *data.rglob("*")])
    assert login_defs.read_text() == "UMASK\t\t022\nHOME_MODE\t0700\nUSERGROUPS_ENAB yes\n"
    assert [oct((homes / name).stat().st_mode & 0o777) for name in ("alice", "bob")] == [
        "0o700", "0o700"]
    assert run.stdout.splitlines()[-1].endswith("closed now: alice")


def test_setup_refuses_a_students_python_that_is_not_there(tmp_path):
    run = subprocess.run([sys.executable, "-m", "course.hub", "setup", "--students-python",
                          str(tmp_path / "nowhere"), "--exchange", str(tmp_path / "exchange")],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and run.stdout.startswith("exchange: ")
    assert run.stderr == (f"error: {tmp_path}/nowhere/bin/python3 not found: --students-python "
                          "is the folder of the students' environment (its bin/python3), e.g. "
                          "/opt/conda.\n")
