"""The per-submission boundary (course/sandbox/), exercised directly: identity, file view,
network, processes, limits. The grade audit (tests/test_grading.py) checks the same through
nbgrader with hostile submissions."""
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT

from course import grade, sandbox
from course.core import SETTINGS


@pytest.fixture(scope="module", autouse=True)
def can_sandbox():
    problem = sandbox.unavailable()
    if problem:
        pytest.fail(f"the sandbox cannot run here: {problem}")


def run_python(box, code, timeout=60):
    """Run `code` in `box`; its stdout parsed as JSON."""
    done = subprocess.run(box.command([sys.executable, "-c", textwrap.dedent(code)]),
                          env=box.environment(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def notebook_folder():
    """An autograded-like folder inside the course (as in grading; not under /tmp, which each
    boundary replaces)."""
    base = ROOT / "build" / "test-sandbox"
    shutil.rmtree(base, ignore_errors=True)
    folder = base / "autograded" / "someone" / "resnets"
    folder.mkdir(parents=True)
    (folder / "Residual_Networks.ipynb").write_text("{}")
    (folder / "public_tests.py").write_text("X = 1\n")
    yield folder
    shutil.rmtree(base, ignore_errors=True)


def test_each_boundary_has_its_own_unprivileged_user_without_capabilities(notebook_folder):
    code = """
        import json, os
        caps = {l.split(":")[0]: l.split()[1] for l in open("/proc/self/status")
                if l.startswith("Cap")}
        print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                          "caps": caps, "home": os.environ["HOME"]}))
    """
    with sandbox.Boundary(notebook_folder) as first, sandbox.Boundary(notebook_folder) as second:
        seen = [run_python(box, code) for box in (first, second)]
        uids = (first.uid, second.uid)
    assert uids[0] != uids[1]
    for box_uid, inside in zip(uids, seen):
        assert inside["uid"] == inside["gid"] == box_uid >= SETTINGS.first_uid
        assert inside["groups"] == [] and inside["home"] == sandbox.HOME
        assert set(inside["caps"].values()) == {"0000000000000000"}, inside["caps"]


def test_the_file_view_holds_the_notebook_folder_python_and_datasets_only(notebook_folder):
    code = f"""
        import json, os
        from pathlib import Path
        def can_write(path):
            try:
                Path(path).write_text("x")
                return True
            except OSError:
                return False
        folder = Path.cwd()
        print(json.dumps({{
            "cwd": str(folder), "files": sorted(os.listdir(folder)),
            "course": sorted(os.listdir({str(ROOT)!r})),
            "root": sorted(os.listdir("/")),
            "tmp": os.listdir("/tmp"),
            "read": (folder / "public_tests.py").read_text(),
            "overwrite_test": can_write(folder / "public_tests.py"),
            "new_file": can_write(folder / "notes.txt"),
            "home": can_write(Path.home() / "x"), "tmp_write": can_write("/tmp/x"),
            "usr": can_write("/usr/x"),
            "datasets": sorted(os.listdir({str(ROOT / "datasets")!r})),
        }}))
    """
    (ROOT / "datasets").mkdir(exist_ok=True)
    with sandbox.Boundary(notebook_folder, read_only=sandbox.course_view(ROOT)) as box:
        inside = run_python(box, code)
    assert inside["cwd"] == str(notebook_folder)
    assert inside["read"] == "X = 1\n" and not inside["overwrite_test"] and not inside["usr"]
    assert inside["new_file"] and inside["home"] and inside["tmp_write"]
    # its /tmp is its own, empty but for the way to the course and its Python environment
    # where those live under /tmp (a clone there)
    assert set(inside["tmp"]) == {Path(p).relative_to("/tmp").parts[0]
                                  for p in (ROOT, *sandbox.python_prefixes())
                                  if Path(p).is_relative_to("/tmp")}
    # of the course folder only the Python environment and the datasets are there: no .git,
    # source/, hidden/, submitted/, autograded/, feedback/, gradebook
    assert set(inside["course"]) <= {".venv", "datasets", "build"}, inside["course"]
    assert set(inside["datasets"]) == {p.name for p in (ROOT / "datasets").iterdir()
                                       if not p.name.startswith(".")}
    assert not {"root", "work", "var", "srv", "mnt", "opt"} & (set(inside["root"]) - {
        ROOT.parts[1]}), inside["root"]
    assert not (notebook_folder / "notes.txt").exists()  # new files stay in the scratch


def test_no_network_not_even_the_grading_machines_loopback(notebook_folder):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    code = f"""
        import json, socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=5)
            result = "connected"
        except OSError as error:
            result = type(error).__name__
        interfaces = [line.split(":")[0].strip() for line in open("/proc/net/dev")][2:]
        print(json.dumps({{"result": result, "interfaces": interfaces}}))
    """
    with sandbox.Boundary(notebook_folder) as box:
        inside = run_python(box, code)
    server.close()
    assert inside == {"result": "ConnectionRefusedError", "interfaces": ["lo"]}


def test_its_own_processes_only_and_none_survives_it(notebook_folder):
    outside = subprocess.Popen(["sleep", "60"])  # another process it must not see or signal
    code = f"""
        import json, os, signal, subprocess
        subprocess.Popen(["sleep", "600"], start_new_session=True)  # a daemon
        subprocess.Popen(["sh", "-c", "sleep 600 & sleep 600 &"])
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        try:
            os.kill({outside.pid}, signal.SIGKILL)
            killed = True
        except OSError:
            killed = False
        print(json.dumps({{"pids": pids, "killed_outside": killed}}))
    """
    with sandbox.Boundary(notebook_folder) as box:
        inside = run_python(box, code)
        uid = box.uid
    try:
        assert not inside["killed_outside"] and outside.poll() is None
        assert max(inside["pids"]) < 20, inside["pids"]  # its own PID namespace
        assert sandbox.processes_of(uid) == []  # the daemons died with the boundary
    finally:
        outside.kill()


def test_limits_on_memory_cpu_files_and_processes(notebook_folder):
    code = """
        import json, resource
        names = ["RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE"]
        print(json.dumps({n: resource.getrlimit(getattr(resource, n))[0] for n in names}))
    """
    with sandbox.Boundary(notebook_folder) as box:
        inside = run_python(box, code)
    s = SETTINGS
    assert inside == {"RLIMIT_AS": int(s.memory_gib * 2**30), "RLIMIT_CPU": s.cpu_seconds,
                      "RLIMIT_FSIZE": int(s.file_gib * 2**30), "RLIMIT_NPROC": s.processes,
                      "RLIMIT_CORE": 0}


def test_leftovers_of_a_killed_grader_are_killed_by_the_next_boundary(notebook_folder, tmp_path):
    # one user id of its own (the range's last, in a state folder of its own): graders running
    # beside this test (make test runs two files at once) claim the range's first ids, so the
    # next boundary here gets this one again whatever they do meanwhile
    last = SETTINGS.first_uid + SETTINGS.identities - 1
    settings = dataclasses.replace(SETTINGS, first_uid=last, identities=1,
                                   state=str(tmp_path / "state"))
    with sandbox.Boundary(notebook_folder, settings=settings) as box:
        uid = box.uid
    stray = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                              "sleep", "600"])
    time.sleep(0.2)
    with sandbox.Boundary(notebook_folder, settings=settings) as box:
        assert box.uid == uid
    assert stray.wait(timeout=5) == -9


def test_without_root_grading_refuses_in_one_line_unless_told_unsafe(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    problem = sandbox.unavailable()
    assert problem.startswith("the grader is not root") and "Fix:" in problem
    monkeypatch.setattr(grade, "assignment_in_gradebook", lambda course, name: True)
    shutil.copytree(ROOT / "source" / "resnets", tmp_path / "source" / "resnets",
                    ignore=shutil.ignore_patterns("*.h5"))
    (tmp_path / "submitted" / "someone" / "resnets").mkdir(parents=True)
    assert grade.main(["--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--unsafe-no-sandbox" in err and "not root" in err


def test_each_boundary_is_a_control_group_with_its_limits(notebook_folder):
    with sandbox.Boundary(notebook_folder) as box:
        assert box.cgroup.controllers == ["cpu", "memory", "pids"]  # cgroup v1 on this machine
        process = subprocess.Popen(box.command(["sleep", "30"]), env=box.environment())
        time.sleep(1)
        values = {folder.parent.parent.name if folder.parts[4] != "memory" else "memory": (
            folder / "cgroup.procs").read_text().split() for folder in box.cgroup.folders}
        limits = {name: (folder / knob).read_text().strip()
                  for folder in box.cgroup.folders
                  for name, (knob, _) in sandbox.Cgroup.V1.items()
                  if (folder / knob).exists()}
        process.kill()
    assert all(values.values()), values  # its processes are in each group
    assert limits == {"cpu": "1024", "memory": str(int(SETTINGS.memory_gib * 2**30)),
                      "pids": str(SETTINGS.processes)}
    assert not any(folder.exists() for folder in box.cgroup.folders)


@pytest.fixture
def no_autogroup():
    """The kernel's autogroup (one scheduling group per session) off for a moment: bubblewrap's
    new session would otherwise share the CPU fairly by itself where autogroup is on, and the
    test would not show what the cpu control group adds (on machines where it is off)."""
    knob = Path("/proc/sys/kernel/sched_autogroup_enabled")
    before = knob.read_text() if knob.exists() else None
    if before is not None:
        knob.write_text("0")
    yield
    if before is not None:
        knob.write_text(before)


def _victim_seconds_beside_a_cpu_bomb(notebook_folder):
    work = "import time; s = time.time(); x = sum(range(30_000_000)); print(time.time() - s)"
    with sandbox.Boundary(notebook_folder) as bomb, sandbox.Boundary(notebook_folder) as victim:
        burners = subprocess.Popen(bomb.command(
            ["sh", "-c", "for i in $(seq 40); do (while :; do :; done) & done; wait"]),
            env=bomb.environment())
        time.sleep(1)
        seconds = float(subprocess.run(victim.command([sys.executable, "-c", work]),
                                       env=victim.environment(), capture_output=True,
                                       text=True).stdout)
        burners.kill()
    return seconds


def test_a_busy_neighbour_gets_no_more_than_its_share_of_the_cpu(notebook_folder, no_autogroup,
                                                                  monkeypatch):
    """A submission that starts 40 busy processes beside another: with the cpu groups the other
    runs at least 3 times faster than without them (measured here: 0.6 s against 5.3 s; 0.5 s
    alone), under the same load on the machine."""
    grouped = _victim_seconds_beside_a_cpu_bomb(notebook_folder)
    monkeypatch.setattr(sandbox.Cgroup, "command", lambda self, argv: list(argv))
    ungrouped = _victim_seconds_beside_a_cpu_bomb(notebook_folder)
    assert 3 * grouped < ungrouped, (grouped, ungrouped)


def test_memory_of_all_its_processes_together_is_limited(notebook_folder):
    """Three processes of 500 MB each: fine one by one (address space 1 GiB each), but the
    boundary's memory group (1 GiB here) kills at least one of them."""
    settings = dataclasses.replace(SETTINGS, memory_gib=1)
    code = """
        import json, subprocess, sys
        grab = ("import time; b = bytearray(500 * 2**20); "
                "b[::4096] = b'x' * len(range(0, len(b), 4096)); time.sleep(3)")
        children = [subprocess.Popen([sys.executable, "-c", grab]) for _ in range(3)]
        print(json.dumps([child.wait() for child in children]))
    """
    with sandbox.Boundary(notebook_folder, settings=settings) as box:
        codes = run_python(box, code)
    assert -9 in codes, codes  # the out-of-memory killer, inside the group only


def test_what_it_writes_stays_in_memory_and_is_bounded(notebook_folder):
    settings = dataclasses.replace(SETTINGS, scratch_gib=0.25)
    code = """
        import errno, json, os
        from pathlib import Path
        result = {}
        for place in ("/tmp", os.environ["HOME"], os.getcwd()):
            try:
                with open(Path(place) / "big", "wb") as handle:
                    for _ in range(300):
                        handle.write(b"x" * 2**20)
                result[place] = "written"
            except OSError as error:
                result[place] = errno.errorcode[error.errno]
        print(json.dumps(result))
    """
    with sandbox.Boundary(notebook_folder, settings=settings) as box:
        inside = run_python(box, code)
        on_disk = sorted(p.name for p in box.scratch.rglob("*"))
    assert set(inside.values()) == {"ENOSPC"}, inside
    assert on_disk == ["group", "passwd", "run"]  # nothing it wrote is on the disk


def test_what_a_killed_kernel_launcher_left_is_swept(notebook_folder):
    box = sandbox.Boundary(notebook_folder).__enter__()
    box.give("connection.json", '{"key": "of a dead kernel"}')
    box._lock.close()  # the launcher was killed: its lock is released, nothing cleaned up
    assert box.scratch.exists()
    assert box.uid in sandbox.sweep()
    assert not box.scratch.exists()


def test_a_killed_kernel_managers_runtime_folder_is_swept_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its process id names no live process now
    killed = tmp_path / f"{sandbox.RUNTIME_PREFIX}{dead.pid}-abc"
    scratch = tmp_path / f"{sandbox.GRADING_PREFIX}{dead.pid}-jkl"  # a killed grader's batch
    alive = tmp_path / f"{sandbox.RUNTIME_PREFIX}{os.getpid()}-def"
    busy = tmp_path / f"{sandbox.GRADING_PREFIX}{os.getpid()}-mno"
    other = tmp_path / f"{sandbox.RUNTIME_PREFIX}x-ghi"  # not named by a process: not ours
    for folder in (killed, scratch, alive, busy, other):
        folder.mkdir()
        (folder / "kernel.json").write_text("{}")
    assert sorted(sandbox.sweep_runtime_folders(tmp_path)) == sorted([killed.name, scratch.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, busy.name,
                                                                 other.name])
