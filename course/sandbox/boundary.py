"""One submission's boundary: bubblewrap namespaces, a user id of its own, resource limits;
whether this machine can run one."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course.core import SETTINGS
from course.sandbox.cgroup import Cgroup
from course.sandbox.identities import SandboxError, claim, kill_user
from course.sandbox.view import HOME, file_view

# The grader's environment variables that sandboxed code gets (no tokens, no credentials).
PASSED_ENVIRONMENT = ("LANG", "LC_ALL", "TZ", "TF_CPP_MIN_LOG_LEVEL", "NBGRADER_EXECUTION",
                      "SIGNS_DATA_DIR", "TF_ENABLE_ONEDNN_OPTS")
RECORD = "COURSE_SANDBOX_RECORD"  # env: a file to which kernel launchers append one JSON line each


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
            self._lock = claim(uid, state)
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
        TensorFlow reads TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS when it starts. Its
        intra-op pool keeps two threads at least: with one, and oneDNN on where TensorFlow 2.21
        leaves it off (an AVX2 CPU, the notebooks' onednn.py), a GradientTape over
        BatchNormalization aborts the kernel ("double free or corruption", 2026-12-07, AMD EPYC
        Zen 3), so `--jobs 2` on 2 cores graded nothing there."""
        n = self.settings.threads
        if n <= 0:
            return {}
        return {"TF_NUM_INTRAOP_THREADS": str(max(n, 2)), "TF_NUM_INTEROP_THREADS": "1",
                "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n),
                "MKL_NUM_THREADS": str(n)}

    def command(self, argv):
        """The full command line that runs `argv` in this boundary."""
        s = self.settings
        limits = ["prlimit", f"--as={int(s.memory_gib * 2**30)}", f"--cpu={s.cpu_seconds}",
                  f"--fsize={int(s.file_gib * 2**30)}", f"--nofile={s.open_files}", "--core=0",
                  "--"]
        # setpriv --pdeathsig: bubblewrap dies with whoever started it (a killed kernel launcher)
        sandbox = ["setpriv", "--pdeathsig=KILL", "--", "bwrap", "--unshare-pid", "--unshare-net",
                   "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
                   "--new-session", "--hostname", "sandbox", *file_view(self),
                   "--chdir", str(self.folder), "--"]
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "prlimit",
                f"--nproc={s.processes}", "--"]
        return self.cgroup.command([*limits, *sandbox, *drop, *argv])


def course_view(course):
    """{path: path} of what every boundary of `course` shows read-only besides its folder: the
    datasets (each entry of datasets/, links resolved, or $SIGNS_DATA_DIR)."""
    datasets = Path(os.environ.get("SIGNS_DATA_DIR") or Path(course) / "datasets")
    if not datasets.is_dir():
        return {}
    return {entry.path: entry.path for entry in os.scandir(datasets)
            if not entry.name.startswith(".")}
