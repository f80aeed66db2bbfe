"""Run student code with fewer rights: an unprivileged user, a memory limit, a file-size limit.

    python -m course.sandbox kernel -f CONNECTION_FILE   # the grading kernel (kernel.json argv)

Used for everything that executes a submission: the Jupyter kernel that nbgrader autograde starts
(through the `resnets-sandbox` kernelspec that course.grade writes) and the process that computes
the hidden-test outputs (course.untrusted). When the grader runs as root, that code runs as
`nobody`: it can read what any local user can, and write only its own scratch folder (HOME). As
any other user, only the limits apply (docs/grading.md says what that leaves open).
"""
import json
import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile

SANDBOX_USER = "nobody"
MEMORY_BYTES = int(os.environ.get("RESNETS_SANDBOX_MEMORY_GIB", "8")) * 2**30  # address space
FILE_BYTES = 2**30  # largest file it may write
CPU_SECONDS = 30 * 60  # a backstop for processes left behind: grading a notebook takes about 30
KERNEL_NAME = "resnets-sandbox"
SCRATCH_PARENT = "RESNETS_SANDBOX_SCRATCH"  # env: where scratch folders go (the grader removes it)
# The grader's environment variables that sandboxed code gets; no others (tokens, credentials).
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "TF_CPP_MIN_LOG_LEVEL", "NBGRADER_EXECUTION",
                      "SIGNS_DATA_DIR", "RESNETS_SANDBOX_MEMORY_GIB", SCRATCH_PARENT)


def isolated():
    """True when the sandboxed code runs as another user (the grader is root)."""
    return os.geteuid() == 0


def scratch_folder():
    """A new folder that the sandboxed code owns: its HOME, caches and runtime files."""
    folder = tempfile.mkdtemp(prefix="resnets-sandbox-", dir=os.environ.get(SCRATCH_PARENT))
    if isolated():
        user = pwd.getpwnam(SANDBOX_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def environment(scratch):
    """The environment of sandboxed code: a few of the grader's variables, and everything it may
    write pointing into `scratch`."""
    return {**{name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ},
            "HOME": scratch, "MPLCONFIGDIR": scratch, "IPYTHONDIR": scratch,
            "JUPYTER_RUNTIME_DIR": scratch, "JUPYTER_DATA_DIR": scratch, "TMPDIR": scratch,
            "KERAS_HOME": os.path.join(scratch, ".keras")}


def enter():
    """Limit this process, then, as root, become SANDBOX_USER (irreversibly)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    if isolated():
        user = pwd.getpwnam(SANDBOX_USER)
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


def probe(course):
    """None if the sandbox user can run this interpreter and read the course's code, else why."""
    if not isolated():
        return None
    check = subprocess.run(
        [sys.executable, "-c", f"open({os.path.join(course, 'course', 'sandbox.py')!r}).close()"],
        preexec_fn=enter, capture_output=True, text=True, cwd="/")
    if check.returncode == 0:
        return None
    reason = (check.stderr.strip().splitlines() or ["no output"])[-1]
    return (f"the sandbox user '{SANDBOX_USER}' cannot run {sys.executable} or read {course} "
            f"({reason}). Fix: put the course in a folder every user can enter (not under "
            "/root), and build the environment from a system Python (make install "
            "PYTHON=/usr/bin/python3).")


def kernel_spec(folder):
    """Write the `resnets-sandbox` kernelspec under `folder` (a JUPYTER_PATH entry)."""
    spec = os.path.join(folder, "kernels", KERNEL_NAME)
    os.makedirs(spec, exist_ok=True)
    with open(os.path.join(spec, "kernel.json"), "w") as handle:
        json.dump({"argv": [sys.executable, "-m", "course.sandbox", "kernel", "-f",
                            "{connection_file}"],
                   "display_name": "Python 3 (grading sandbox)", "language": "python",
                   "env": {"PYTHONPATH": os.path.dirname(os.path.dirname(__file__))}}, handle)
    return folder


def kernel(connection_file):
    """Start an IPython kernel in the sandbox. The connection file is the grader's (readable by
    root only), so the kernel gets a copy in its own scratch folder."""
    scratch = scratch_folder()
    copy = os.path.join(scratch, "connection.json")
    shutil.copyfile(connection_file, copy)
    if isolated():
        user = pwd.getpwnam(SANDBOX_USER)
        os.chown(copy, user.pw_uid, user.pw_gid)
    variables = environment(scratch)  # the kernel sees the notebook's folder, not the course
    os.environ.clear()
    os.environ.update(variables)
    enter()
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", copy,
                              "--HistoryManager.hist_file=:memory:"])


if __name__ == "__main__":
    if sys.argv[1:2] != ["kernel"] or sys.argv[2:3] != ["-f"] or len(sys.argv) != 4:
        sys.exit("usage: python -m course.sandbox kernel -f CONNECTION_FILE")
    kernel(sys.argv[3])
