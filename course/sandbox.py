"""A boundary of its own for every submission: bubblewrap namespaces, a user id that no other
running submission has, and resource limits.

    python -m course.sandbox kernel --course ROOT -f CONNECTION_FILE   # the kernel's argv
    python -m course.sandbox check [--course ROOT]   # a real grading kernel: exit 0, or 2 and why

Everything that runs a submission's code goes through `Boundary`: the Jupyter kernel in which
`nbgrader autograde` runs the notebook and then its hidden tests (`SandboxKernelManager`, set in
nbgrader_config.py, so every way of starting nbgrader uses it). Inside a boundary the code

- runs as a user id of its own (`Settings.first_uid` + n, claimed with a lock file, held by no
  other running boundary), with no capabilities, no supplementary groups and no way to gain
  privileges (`setpriv --no-new-privs`);
- has its own PID namespace: it sees and signals only its own processes, and all of them are
  killed when the boundary ends (bubblewrap's PID 1 dies, the kernel kills the namespace; then
  any process of its user id that is left is killed and counted);
- has no network (its own network namespace: only an unconfigured loopback), its own IPC and
  UTS namespaces;
- sees a file view holding only what the notebook needs: /usr, a few /etc files, the Python
  environment, the datasets (read-only), its working folder (the files there read-only, new
  files go to a private memory file system), a private HOME and /tmp (memory file systems of
  `Settings.scratch_gib` each: nothing it writes reaches the disk); and nothing of the course's
  .git, source/, hidden/, submitted/, autograded/ (other than its own folder's files) or
  feedback/;
- holds no descriptor of the grader's: its standard input is /dev/null and its standard output
  and error a pipe that its launcher drains (`KernelOutput`), so nothing it prints, nor what it
  writes to ipykernel's saved copies of them, reaches the grader's logs;
- gets per-process limits on address space, CPU time and file size, and a limit on the number
  of processes and threads of its user id (`prlimit`); where the machine lets us create control
  groups (cgroup v1, or v2 with the controllers delegated), its processes are also one group
  each for cpu (an equal share beside other submissions), memory and pids (`Cgroup`).

Why bubblewrap (Debian's `bubblewrap`, the sandbox of Flatpak): it does namespaces and a file
view from one command line, is small and audited, and runs where Docker does not (no daemon).
It runs as root here and `setpriv` (util-linux) drops to the submission's user id as the last
step, so no unprivileged user namespaces are needed and the user id is a real one outside the
sandbox. A container per submission (Docker, Podman) is the production alternative
(docs/grading.md).
"""
import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

CODE = Path(__file__).resolve().parents[1]  # where the `course` package is
ROOT = CODE  # the default course folder


def setting(default, help):
    """A field of Settings: its default and what it bounds (`Settings.described`)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """The numbers that bound grading: each submission's boundary, and its grading as a whole.
    Each is overridable by an environment variable COURSE_SANDBOX_<NAME> (e.g.
    COURSE_SANDBOX_MEMORY_GIB=4); `python -m course.sandbox check` prints them all."""
    memory_gib: float = setting(8, "address space of each process: an allocation past it is a "
                                "MemoryError")
    cpu_seconds: int = setting(30 * 60, "CPU time of each process, a backstop (a notebook's "
                               "grading takes about 30 s)")
    submission_seconds: int = setting(30 * 60, "wall time of one submission's whole grading "
                                      "(nbgrader's autograde, on top of its per-cell timeout): "
                                      "then its grading process is killed and it is not graded")
    processes: int = setting(512, "processes and threads of the user id (TensorFlow starts "
                             "about 60)")
    file_gib: float = setting(1, "the largest file it may write")
    scratch_gib: float = setting(1, "each of HOME, /tmp and new files in its folder (tmpfs, in "
                                 "memory)")
    open_files: int = setting(4096, "open files of each process")
    output_bytes: int = setting(2**26, "what the hidden tests may publish for one graded "
                                "function (about 20 kB when correct)")
    first_uid: int = setting(3_000_000, "the first of the boundaries' user ids (no login user "
                             "may have one)")
    identities: int = setting(1024, "boundaries that can run at once on one machine")
    state: str = setting("/var/tmp/course-sandbox", "root-only folder: lock files and each "
                         "boundary's scratch")
    threads: int = setting(0, "threads of each kernel's thread pools (TensorFlow's, oneDNN's, "
                           "OpenMP's), 0 for all cores; course.grade sets cores / jobs, so "
                           "that --jobs N on N cores does not oversubscribe")

    @classmethod
    def from_environment(cls):
        found = {}
        for each in fields(cls):
            value = os.environ.get(f"COURSE_SANDBOX_{each.name.upper()}")
            if value is not None:
                found[each.name] = type(each.default)(value)
        return cls(**found)

    def described(self):
        return described(self, "COURSE_SANDBOX_")


def described(settings, prefix):
    """A line per field of the dataclass `settings`: its name, value, the environment variable
    (`prefix` + NAME) that overrides it and what it bounds (the field's help)."""
    return [f"{each.name} = {getattr(settings, each.name)!r} ({prefix}{each.name.upper()}): "
            f"{each.metadata['help']}" for each in fields(settings)]


SETTINGS = Settings.from_environment()
# The grader's environment variables that sandboxed code gets (no tokens, no credentials).
PASSED_ENVIRONMENT = ("LANG", "LC_ALL", "TZ", "TF_CPP_MIN_LOG_LEVEL", "NBGRADER_EXECUTION",
                      "SIGNS_DATA_DIR", "TF_ENABLE_ONEDNN_OPTS")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "alternatives",
       "mime.types", "nsswitch.conf")
HOME = "/home/student"
RUNTIME_PREFIX = "course-kernel-"  # a kernel's runtime folder: course-kernel-MANAGER_PID-...
GRADING_PREFIX = "course-grading-"  # a batch's scratch (grade.Grader): course-grading-PID-...
RECORD = "COURSE_SANDBOX_RECORD"  # env: a file to which kernel launchers append one JSON line each


class SandboxError(RuntimeError):
    """This machine cannot run a boundary; the message says why and the fix."""


def describe():
    """One line on what a boundary gets on this machine (after `unavailable()` said None)."""
    with Boundary(Path("/")) as box:
        groups = ", ".join(box.cgroup.controllers) or "none (limits per process and user id only)"
    s = SETTINGS
    return (f"bubblewrap, a user id of its own, no network; {s.memory_gib:g} GiB, "
            f"{s.processes} processes, {s.cpu_seconds} s CPU; control groups: {groups}")


def unavailable():
    """None if boundaries can run here, else why (one line with the fix)."""
    if os.geteuid() != 0:
        return ("the grader is not root, so it cannot give each submission a user id and "
                "namespaces of its own. Fix: grade as root (sudo), or in a container.")
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not found. Fix: `make install` (installs Debian's "
                "bubblewrap and util-linux), or `apt-get install bubblewrap util-linux`.")
    try:
        with Boundary(Path("/")) as box:
            check = subprocess.run(box.command(["/bin/sh", "-c", "id -u"]), capture_output=True,
                                   text=True, env=box.environment(), timeout=60)
    except (OSError, SandboxError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start ({error}). Fix: see docs/grading.md, 'The sandbox'."
    if check.returncode != 0 or check.stdout.strip() != str(box.uid):
        reason = (check.stderr.strip().splitlines() or ["no output"])[-1]
        if any(sign in reason.lower() for sign in ("fork", "resource temporarily")):
            # its user id or control group at its limit of processes
            return (f"a sandbox could not start its processes ({reason}) with "
                    f"{box.settings.processes} processes and threads allowed. Fix: raise "
                    "COURSE_SANDBOX_PROCESSES (docs/grading.md, 'The sandbox').")
        return (f"bubblewrap could not start a sandbox ({reason}). Fix: run on a kernel with "
                "namespaces enabled (docs/grading.md, 'The sandbox').")
    return None


def _live_processes():
    """{pid: real user id} of the live (not zombie) processes of this PID namespace."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:  # gone meanwhile
            continue
        if fields["State"].split()[0] not in "ZX":
            found[int(entry.name)] = int(fields["Uid"].split()[0])
    return found


def _processes_of(uid):
    return [pid for pid, owner in _live_processes().items() if owner == uid]


def kill_user(uid, settle=2.0, seconds=10.0):
    """Kill the processes of `uid` that are still alive `settle` seconds after its sandbox ended
    (the end of a PID namespace kills the rest of it: this is a backstop); returns how many."""
    deadline = time.monotonic() + settle
    while _processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    killed, deadline = set(), time.monotonic() + seconds
    while pids := _processes_of(uid):
        if time.monotonic() > deadline:
            raise SandboxError(f"processes of user id {uid} still alive after {seconds} s: "
                               f"{pids[:10]}")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    return len(killed)


def _claim(uid, state=SETTINGS.state):
    """The lock file of `uid`, open and locked, or None when a running boundary holds it."""
    locks = Path(state) / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    handle = open(locks / str(uid), "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def sweep():
    """Remove what boundaries whose launcher was killed left: the scratch folder and control
    groups of every user id that no boundary holds now (a killed kernel launcher cannot clean
    up; its processes died with its PID namespace), and the kernels' runtime folders whose
    kernel manager was killed (sweep_runtime_folders). Returns the user ids swept."""
    sweep_runtime_folders()
    state = Path(SETTINGS.state)
    swept = []
    if not state.is_dir():
        return swept
    for folder in state.iterdir():
        if not folder.name.isdigit():
            continue
        uid = int(folder.name)
        handle = _claim(uid)
        if handle is None:  # in use
            continue
        with handle:
            kill_user(uid, settle=0)
            Cgroup(folder.name, SETTINGS).remove()
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(uid)
    return swept


def _ours(uid):
    """Whether a file of user `uid` is this grader's: its own, or a boundary's (a kernel's
    runtime folder belongs to its boundary's user while the kernel runs)."""
    low, high = SETTINGS.first_uid, SETTINGS.first_uid + SETTINGS.identities
    return uid == os.getuid() or low <= uid < high


def sweep_runtime_folders(folder=None):
    """Remove the kernels' runtime folders and the batches' scratch folders (RUNTIME_PREFIX,
    GRADING_PREFIX in `folder`, default the temporary folder), this user's or a boundary's,
    made for a process no longer alive: one killed (a grader stopped after SUBMISSION_SECONDS,
    a queue worker killed mid-task) cannot remove its own. The process id is in the folder's
    name; a live one's is in use (process ids of this PID namespace: graders in other
    containers must not share this temporary folder). Returns the names removed."""
    folder = Path(folder or tempfile.gettempdir())
    live = _live_processes()
    removed = []
    for entry in os.scandir(folder):
        prefix = next((p for p in (RUNTIME_PREFIX, GRADING_PREFIX)
                       if entry.name.startswith(p)), None)
        owner = entry.name.removeprefix(prefix or "").split("-")[0]
        if prefix is None or not owner.isdigit() or int(owner) in live:
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or not _ours(
                    entry.stat(follow_symlinks=False).st_uid):
                continue
        except OSError:  # another grader's sweep removed it meanwhile
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed


def leftover_processes(uids=None):
    """{uid: [pid, ...]} of processes running under a boundary's user id that no boundary holds
    now (a boundary running for another grader on this machine is not a leftover). `uids`: the
    user ids to look at (default: all of them)."""
    low, high = SETTINGS.first_uid, SETTINGS.first_uid + SETTINGS.identities
    running = {}
    for pid, uid in _live_processes().items():
        if low <= uid < high and (uids is None or uid in uids):
            running.setdefault(uid, []).append(pid)
    found = {}
    for uid, pids in running.items():
        handle = _claim(uid)
        if handle is None:  # in use: a boundary is running
            continue
        with handle:
            live = [pid for pid in _processes_of(uid) if pid in pids]
            if live:
                found[uid] = live
    return found


def python_prefixes():
    """The folders of the grader's Python environment that a sandbox must show (outside /usr,
    which it shows anyway): the environment as the interpreter names it and, where that is
    reached through a symbolic link, where it really is."""
    found = []
    for prefix in (sys.prefix, sys.base_prefix):
        for path in (Path(prefix), Path(prefix).resolve()):
            if not str(path).startswith("/usr") and path != Path("/") and str(path) not in found:
                found.append(str(path))
    return found


class Cgroup:
    """The boundary's processes as one control group per controller, so its limits hold for the
    submission as a whole: an equal CPU share beside other submissions however many processes
    it starts (cpu), its memory (memory), its number of processes and threads (pids).

    cgroup v1 (a hierarchy per controller, as here) or v2 (one hierarchy, controllers enabled
    in our cgroup's subtree_control); a controller that is not there is left out and
    `controllers` says which are used.
    """
    V1 = {"cpu": ("cpu.shares", lambda s: "1024"),
          "memory": ("memory.limit_in_bytes", lambda s: str(int(s.memory_gib * 2**30))),
          "pids": ("pids.max", lambda s: str(s.processes))}
    V2 = {"cpu": ("cpu.weight", lambda s: "100"),
          "memory": ("memory.max", lambda s: str(int(s.memory_gib * 2**30))),
          "pids": ("pids.max", lambda s: str(s.processes))}

    def __init__(self, name, settings):
        self.folders = []
        mine = {}
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for controller in controllers.split(",") if controllers else [""]:
                    mine[controller] = path.lstrip("/")
        base = Path("/sys/fs/cgroup")
        self.controllers = []
        for controller, (knob, value) in self.V1.items():
            if (base / controller / "tasks").exists():
                folder = base / controller / mine.get(controller, "") / "course-sandbox" / name
                self._make(folder, {knob: value(settings)}, [controller])
        parent = base / mine.get("", "")
        if (base / "cgroup.controllers").exists() and (parent / "cgroup.subtree_control").exists():
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            wanted = [c for c in self.V2 if c in enabled and c not in self.controllers]
            self._make(parent / f"course-sandbox-{name}",
                       {self.V2[c][0]: self.V2[c][1](settings) for c in wanted}, wanted)

    def _make(self, folder, knobs, controllers):
        if not controllers:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for knob, value in knobs.items():
                (folder / knob).write_text(value)
        except OSError:  # not ours to create (no delegation, read-only): left out
            return
        try:  # a reused group's old high-water mark (cgroup v1 lets us reset it)
            (folder / "memory.max_usage_in_bytes").write_text("0")
        except OSError:  # not there (v2, no memory controller): the peak measured as it is
            pass
        self.folders.append(folder)
        self.controllers += controllers

    def command(self, argv):
        """`argv` started inside the groups: a shell moves itself in, then becomes `argv`."""
        if not self.folders:
            return list(argv)
        moves = " && ".join(f"echo $$ > {folder / 'cgroup.procs'}" for folder in self.folders)
        return ["/bin/sh", "-c", f'{moves} && exec "$@"', "sh", *argv]

    def peak_memory(self):
        """The most memory the group's processes held together, in bytes (its memory
        controller's high-water mark), or None without one."""
        for folder in self.folders:
            for knob in ("memory.max_usage_in_bytes", "memory.peak"):  # cgroup v1, v2
                try:
                    return int((folder / knob).read_text())
                except (OSError, ValueError):
                    continue
        return None

    def remove(self):
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:  # processes still leaving: the next boundary of this name reuses it
                pass


class Boundary:
    """One sandbox for one submission's process: `with Boundary(folder) as box:` then run
    `box.command(argv)` (with `box.environment()`); leaving the block kills whatever the code
    left running (`box.killed` counts it) and deletes the scratch folder.

    folder: the working folder (the notebook's): its files are visible read-only at the same
        path, new files go to the boundary's scratch.
    read_only: {outside path: path inside} of further files or folders to show read-only.
    writable: outside folders shown at the same path, writable by the submission (the kernel's
        runtime folder, which holds its sockets).
    """

    def __init__(self, folder, read_only=None, writable=(), settings=SETTINGS):
        self.folder = Path(folder)
        self.read_only = dict(read_only or {})
        self.writable = [Path(path) for path in writable]
        self.settings = settings
        self.uid = None
        self.killed = 0
        self.peak_memory = None
        self._lock = None

    # --- lifetime -------------------------------------------------------------------------
    def __enter__(self):
        state = Path(self.settings.state)
        state.mkdir(parents=True, exist_ok=True)
        os.chmod(state, 0o700)
        for number in range(self.settings.identities):
            uid = self.settings.first_uid + number
            self._lock = _claim(uid, state)
            if self._lock is not None:
                self.uid = uid
                break
        else:
            raise SandboxError(f"all {self.settings.identities} sandbox user ids are in use. "
                               "Fix: grade fewer submissions at once (--jobs).")
        kill_user(self.uid)  # a boundary whose grader was killed may have left some
        self.cgroup = Cgroup(str(self.uid), self.settings)
        self.scratch = state / str(self.uid)
        shutil.rmtree(self.scratch, ignore_errors=True)
        (self.scratch / "run").mkdir(parents=True)  # read-only files given to it (/run/course)
        (self.scratch / "passwd").write_text(
            f"root:x:0:0::/:/usr/sbin/nologin\nstudent:x:{self.uid}:{self.uid}::{HOME}:/bin/sh\n")
        (self.scratch / "group").write_text(f"root:x:0:\nstudent:x:{self.uid}:\n")
        for path in self.writable:
            os.chown(path, self.uid, self.uid)
        return self

    def give(self, name, text):
        """A read-only file for the sandboxed code, at /run/course/NAME (readable by it only)."""
        path = self.scratch / "run" / name
        path.write_text(text)
        os.chown(path, self.uid, self.uid)
        os.chmod(path, 0o400)
        return f"/run/course/{name}"

    def __exit__(self, *exc):
        try:
            self.killed = kill_user(self.uid)
            self.peak_memory = self.cgroup.peak_memory()
            self.cgroup.remove()
            shutil.rmtree(self.scratch, ignore_errors=True)
        finally:
            self._lock.close()
        return False

    # --- the command line -----------------------------------------------------------------
    def environment(self, extra=None):
        """The whole environment of the sandboxed code: a few of the grader's variables."""
        python_bin = str(Path(sys.executable).parent)
        return {**{name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ},
                "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": HOME,
                "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
                "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
                **self.thread_caps(), **(extra or {})}

    def thread_caps(self):
        """The variables that cap a kernel's thread pools at `settings.threads` (none at 0):
        TensorFlow reads TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS when it starts."""
        n = self.settings.threads
        if n <= 0:
            return {}
        return {"TF_NUM_INTRAOP_THREADS": str(n), "TF_NUM_INTEROP_THREADS": "1",
                "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n),
                "MKL_NUM_THREADS": str(n)}

    def _view(self):
        """bubblewrap's arguments for the file view."""
        args, made = [], {"/"}

        def parents(path):
            for parent in reversed(Path(path).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    args.extend(["--perms", "0755", "--dir", str(parent)])

        def bind(option, source, target):
            parents(target)
            made.add(str(target))
            args.extend([option, str(source), str(target)])

        for name in ("bin", "lib", "lib32", "lib64", "sbin"):  # Debian's merged /usr
            path = Path("/") / name
            if path.is_symlink():
                args.extend(["--symlink", os.readlink(path), str(path)])
            elif path.is_dir():
                bind("--ro-bind", path, path)
        bind("--ro-bind", "/usr", "/usr")
        for name in ETC:
            if (Path("/etc") / name).exists():
                bind("--ro-bind", Path("/etc") / name, Path("/etc") / name)
        bind("--ro-bind", self.scratch / "passwd", "/etc/passwd")
        bind("--ro-bind", self.scratch / "group", "/etc/group")
        args.extend(["--proc", "/proc", "--dev", "/dev"])
        size = str(int(self.settings.scratch_gib * 2**30))

        def scratch(path, mode):  # a memory file system, writable by the sandbox's only user
            parents(path)
            made.add(str(path))
            args.extend(["--size", size, "--perms", mode, "--tmpfs", str(path)])

        scratch(HOME, "0777")
        scratch("/tmp", "1777")
        # every real path after the scratch file systems, which would hide what lies under them
        # (a course, or its Python environment, under /tmp)
        for prefix in python_prefixes():  # the Python environment
            bind("--ro-bind", prefix, prefix)
        bind("--ro-bind", self.scratch / "run", "/run/course")
        for source, target in self.read_only.items():
            bind("--ro-bind", Path(source).resolve(), target)
        for path in self.writable:
            bind("--bind", path, path)
        if self.folder != Path("/"):
            scratch(self.folder, "0777")
            for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False):
                    bind("--ro-bind", entry.path, entry.path)
        return args

    def command(self, argv):
        """The full command line that runs `argv` in this boundary."""
        s = self.settings
        limits = ["prlimit", f"--as={int(s.memory_gib * 2**30)}", f"--cpu={s.cpu_seconds}",
                  f"--fsize={int(s.file_gib * 2**30)}", f"--nofile={s.open_files}", "--core=0",
                  "--"]
        # setpriv --pdeathsig: bubblewrap dies with whoever started it (a killed kernel launcher)
        sandbox = ["setpriv", "--pdeathsig=KILL", "--", "bwrap", "--unshare-pid", "--unshare-net",
                   "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
                   "--new-session", "--hostname", "sandbox", *self._view(),
                   "--chdir", str(self.folder), "--"]
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "prlimit",
                f"--nproc={s.processes}", "--"]
        return self.cgroup.command([*limits, *sandbox, *drop, *argv])


class Unsandboxed(Boundary):
    """The same interface with no boundary (`course.grade --unsafe-no-sandbox`): the code runs
    as the grader, with the grader's rights, in a scratch HOME and the reduced environment."""

    def __enter__(self):
        import tempfile

        self.scratch = Path(tempfile.mkdtemp(prefix="course-unsandboxed-"))
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.scratch, ignore_errors=True)
        return False

    def give(self, name, text):
        (self.scratch / name).write_text(text)
        return str(self.scratch / name)

    def environment(self, extra=None):
        home = str(self.scratch)
        return {**super().environment(extra), "HOME": home, "TMPDIR": home,
                "MPLCONFIGDIR": f"{home}/.config/matplotlib"}

    def command(self, argv):
        return list(argv)


def course_view(course):
    """{path: path} of what every boundary of `course` shows read-only besides its folder: the
    datasets (each entry of datasets/, links resolved, or $SIGNS_DATA_DIR)."""
    datasets = Path(os.environ.get("SIGNS_DATA_DIR") or Path(course) / "datasets")
    if not datasets.is_dir():
        return {}
    return {entry.path: entry.path for entry in os.scandir(datasets)
            if not entry.name.startswith(".")}


# --- the kernel --------------------------------------------------------------------------------
class SandboxKernelManager(AsyncKernelManager):
    """nbgrader's kernel manager for autograding (nbgrader_config.py sets it as
    `ExecuteWithHiddenTests.kernel_manager_class`): every kernel runs in a Boundary of its own.

    Its kernelspec is made here, not looked up: `python -m course.sandbox kernel`, interrupted
    by message (the launcher cannot signal into the sandbox's session). The kernel talks over
    Unix sockets (transport "ipc": the sandbox has no network) in a runtime folder of its own,
    made for it and removed after it. Needs root and bubblewrap; refuses in one line otherwise.
    """
    course = Unicode(str(ROOT), help="The course folder, whose datasets/ the kernel sees "
                     "read-only.").tag(config=True)

    @property
    def kernel_spec(self):
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "course.sandbox", "kernel", "--course", self.course,
                      "-f", "{connection_file}"],
                display_name="Python 3 (grading sandbox)", language="python",
                interrupt_mode="message", env={"PYTHONPATH": str(CODE)})
        return self._kernel_spec

    async def _async_pre_start_kernel(self, **kw):
        problem = unavailable()
        if problem:
            raise SandboxError(f"cannot sandbox student code: {problem}")
        # root's, 0700; named by this process, so that sweep_runtime_folders can tell it is
        # left when this process is killed
        self._runtime = Path(tempfile.mkdtemp(prefix=f"{RUNTIME_PREFIX}{os.getpid()}-"))
        self.transport = "ipc"
        self.connection_file = str(self._runtime / "kernel.json")
        self.ip = str(self._runtime / "ipc")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_runtime", None):
            shutil.rmtree(self._runtime, ignore_errors=True)

    # AsyncKernelManager binds cleanup_resources to the base class's coroutine; nbclient calls
    # it directly after a kernel died, so route it through the method above
    async def cleanup_resources(self, restart=False):
        await self._async_cleanup_resources(restart=restart)


class KernelOutput:
    """The sandboxed kernel's standard output and error, a pipe read to its end by a thread of
    the launcher, which keeps only the last `keep` bytes: what the kernel prints, however much,
    reaches no file outside its sandbox (the launcher's own stderr is the grader's log) and no
    more memory than that. `last_line()` is what a kernel that died said last."""

    def __init__(self, pipe, keep=4096):
        self.pipe, self.keep, self.tail = pipe, keep, b""
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        for chunk in iter(lambda: self.pipe.read1(1 << 16), b""):
            self.tail = (self.tail + chunk)[-self.keep:]

    def last_line(self, timeout=5.0):
        """The last non-empty line read (escaped: one line, at most 300 characters), or ""."""
        self.thread.join(timeout)  # the pipe closes when the boundary's last process ends
        lines = [line for line in self.tail.decode(errors="replace").splitlines() if line.strip()]
        return ascii(lines[-1].strip()[-300:])[1:-1] if lines else ""


def kernel(course, connection_file, arguments=()):
    """Run an IPython kernel in a boundary, in this (the notebook's) working folder.

    nbgrader runs this as root. The kernel speaks to nbgrader over Unix sockets (transport
    "ipc": the sandbox has no network) in the connection file's folder, which must hold this
    kernel's files only (SandboxKernelManager makes one for each kernel). `arguments` (the
    kernel manager's extra arguments) go to the IPython kernel.
    """
    connection = Path(connection_file).resolve()
    info = json.loads(connection.read_text())
    runtime = connection.parent
    others = [p.name for p in runtime.iterdir() if p != connection]
    if info.get("transport") != "ipc" or others:
        raise SandboxError(
            f"the sandboxed kernel needs transport 'ipc' and a runtime folder of its own, got "
            f"transport {info.get('transport')!r} and {len(others)} other files in {runtime}. "
            "Fix: start it with SandboxKernelManager (nbgrader_config.py), which sets both.")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts come as messages
    with Boundary(Path.cwd(), read_only=course_view(course), writable=[runtime]) as box:
        copy = box.give("connection.json", connection.read_text())  # the original: root only
        process = subprocess.Popen(box.command(
            [sys.executable, "-m", "ipykernel_launcher", "-f", copy,
             *dict.fromkeys(["--HistoryManager.hist_file=:memory:", *arguments])]),
            env=box.environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        output = KernelOutput(process.stdout)
        signal.signal(signal.SIGTERM, lambda *_: process.kill())
        code = process.wait()
    said = output.last_line()
    if code != 0 and said:  # one line, for a grader to tell why a kernel died
        print(f"course.sandbox: the sandboxed kernel exited with {code}; its last line: {said}",
              file=sys.stderr, flush=True)
    if os.environ.get(RECORD):
        with open(os.environ[RECORD], "a") as handle:
            handle.write(json.dumps({"folder": str(box.folder), "uid": box.uid,
                                     "exit": code, "killed": box.killed,
                                     "peak_memory": box.peak_memory}) + "\n")
    return code


# --- the check: a real grading kernel -------------------------------------------------------------
# What a grading kernel needs: the packages the notebooks import, and the data folder's entries
# (resnets_utils.DATA_FILES and the pretrained model), each opened as the notebooks open it.
OPTIONAL_DATA = ("resnet50.h5",)  # sections 8 and 9 only, which grading skips
CHECK_PACKAGES = ("numpy", "tensorflow", "keras", "h5py", "matplotlib", "PIL", "ipykernel")
CHECK_CODE = r"""
import importlib, json, os, sys
found = {"python": sys.executable, "uid": os.getuid(), "packages": {}, "data": {}}
for name in PACKAGES:
    try:
        found["packages"][name] = getattr(importlib.import_module(name), "__version__", "?")
    except BaseException as error:
        found["packages"][name] = "error: " + f"{type(error).__name__}: {error}".splitlines()[0]
folder = os.environ.get("SIGNS_DATA_DIR") or DATASETS
found["folder"] = folder
for name in ("train_signs.h5", "test_signs.h5", "example_hand.jpg", "sign-language-digits-6to9",
             "resnet50.h5"):
    path = os.path.join(folder, name)
    try:
        if name.endswith(".h5"):
            import h5py
            with h5py.File(path, "r") as handle:
                found["data"][name] = f"{len(handle)} entries"
        elif name.endswith(".jpg"):
            from PIL import Image
            found["data"][name] = "x".join(map(str, Image.open(path).size))
        else:
            found["data"][name] = f"{sum(len(files) for _, _, files in os.walk(path))} files"
            if found["data"][name] == "0 files":
                raise FileNotFoundError(f"{path} is empty or missing")
    except FileNotFoundError:
        found["data"][name] = "error: not found"
    except BaseException as error:
        found["data"][name] = "error: " + f"{type(error).__name__}: {error}".splitlines()[0][:120]
print(json.dumps(found))
"""


class KernelCheckError(RuntimeError):
    """A grading kernel did not run the check; the message ends with the kernel's last line."""


async def _run_in_kernel(course, code, timeout):
    """The stdout of `code` run in a grading kernel (SandboxKernelManager) for `course`."""
    folder = Path(tempfile.mkdtemp(prefix="course-sandbox-check-"))
    manager = SandboxKernelManager(course=str(course))
    output = []

    def collect(message):
        if message["msg_type"] == "stream":
            output.append(message["content"]["text"])

    with tempfile.TemporaryFile("w+") as log:  # what the kernel and its launcher print
        try:
            await manager.start_kernel(cwd=str(folder), stdout=log, stderr=log)
            client = manager.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=timeout)
                reply = await client.execute_interactive(code, timeout=timeout,
                                                         output_hook=collect)
            finally:
                client.stop_channels()
                await manager.shutdown_kernel(now=True)
            if reply["content"]["status"] != "ok":
                raise KernelCheckError(f"the check failed in the kernel: "
                                       f"{reply['content'].get('evalue')}")
        except Exception as error:
            log.seek(0)
            said = [line for line in log.read().splitlines() if line.strip()]
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            raise KernelCheckError(reason + (f"; the kernel said: {said[-1][:200]}"
                                             if said else "")) from error
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return "".join(output)


def limits(course=ROOT):
    """Lines on every limit of grading: the Settings, nbgrader's as the course's
    nbgrader_config.py sets them (or nbgrader's defaults), and the task queue's
    (course.queue.Delivery)."""
    from nbgrader.preprocessors import Execute, LimitOutput

    from course.grade import nbgrader_config
    from course.preprocessors import ExecuteWithHiddenTests
    from course.queue import Delivery

    config = nbgrader_config(course)

    def configured(classes, name):
        """The value nbgrader_config.py sets for the first of `classes`, else the default of the
        last (a class of nbgrader's)."""
        found = [config[c][name] for c in classes if c in config and name in config[c]]
        default = {"Execute": Execute, "LimitOutput": LimitOutput,
                   "ExecuteWithHiddenTests": ExecuteWithHiddenTests}[classes[-1]]
        return found[0] if found else default.class_traits()[name].default_value

    execute, limit = ("ExecuteWithHiddenTests", "Execute"), ("LimitOutput",)
    ours = ("ExecuteWithHiddenTests",)
    return [*SETTINGS.described(),
            f"cell timeout = {configured(execute, 'timeout')!r} (nbgrader_config.py's "
            "Execute.timeout): wall time of one cell of a submission (None: no limit)",
            f"output wait = {configured(execute, 'iopub_timeout')!r} (Execute.iopub_timeout): "
            "seconds nbclient waits for a cell's outputs once the kernel has answered",
            f"output lines = {configured(limit, 'max_lines')!r} (LimitOutput.max_lines): lines "
            "of a cell's output kept; the rest is cut",
            f"traceback lines = {configured(limit, 'max_traceback')!r} (LimitOutput."
            "max_traceback): lines of a cell's error traceback kept",
            *(f"{name.replace('_', ' ')} = {configured(ours, name)!r} (ExecuteWithHiddenTests."
              f"{name}): " + ExecuteWithHiddenTests.class_traits()[name].help
              for name in ("max_cell_output_characters", "max_notebook_output_characters",
                           "max_error_characters")),
            *Delivery.from_environment().described()]


def check(course=ROOT, timeout=120):
    """[(ok, line)]: the machine can run boundaries; a grading kernel starts in one with the
    grader's interpreter; every package the notebooks need imports in it; the data folder is
    readable from it. Stops at the first step that fails."""
    import asyncio

    problem = unavailable()
    if problem:
        return [(False, f"sandbox: {problem}")]
    lines = [(True, f"sandbox: ok: {describe()}"),
             *((True, f"limit: {line}") for line in limits(course))]
    code = (f"PACKAGES = {CHECK_PACKAGES!r}\n"
            f"DATASETS = {str(Path(course) / 'datasets')!r}\n{CHECK_CODE}")
    try:
        printed = asyncio.run(_run_in_kernel(course, code, timeout))
        found = json.loads(printed.strip().splitlines()[-1])
    except (KernelCheckError, ValueError, IndexError) as error:  # no kernel, or no answer
        reason = str(error) or type(error).__name__
        return lines + [(False, f"kernel: a grading kernel with {sys.executable} did not run "
                         f"({reason[:300]}). Fix: what the kernel said; the grader's Python "
                         "environment must be readable in the sandbox and its limits enough for "
                         "TensorFlow (docs/grading.md, 'The sandbox')")]
    lines.append((True, f"kernel: ok: {found['python']} as user id {found['uid']}, in a sandbox"))
    broken = {n: v for n, v in found["packages"].items() if str(v).startswith("error")}
    lines.append((not broken, "packages: " + (
        "ok: " + ", ".join(f"{n} {v}" for n, v in found["packages"].items()) if not broken else
        "; ".join(f"{n} {v}" for n, v in broken.items())
        + ". Fix: `make install` (requirements.txt) in the grader's environment")))
    missing = {n: v for n, v in found["data"].items() if str(v).startswith("error")
               and n not in OPTIONAL_DATA}
    for name in OPTIONAL_DATA:
        if str(found["data"].get(name, "")).startswith("error"):
            found["data"][name] = "not there: optional, grading skips the cells that load it"
    lines.append((not missing, f"data: {found['folder']}: " + (
        "ok: " + ", ".join(f"{n} ({v})" for n, v in found["data"].items()) if not missing else
        "; ".join(f"{n} {v}" for n, v in missing.items())
        + ". Fix: `make data` (and `make model`), or set SIGNS_DATA_DIR to the data folder")))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("kernel", help="run a grading kernel (kernel.json's argv)")
    start.add_argument("--course", default=str(ROOT))
    start.add_argument("-f", dest="connection_file", required=True)
    verify = commands.add_parser("check", help="start a real grading kernel in a sandbox and "
                                 "check what it needs, a line each")
    verify.add_argument("--course", default=str(ROOT), help="the course folder (its datasets/)")
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "kernel":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check":
        lines = check(Path(args.course).resolve())
        for ok, line in lines:
            print(line if ok else f"error: {line}", file=sys.stdout if ok else sys.stderr)
        return 0 if all(ok for ok, _ in lines) else 2
    return kernel(args.course, args.connection_file, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
