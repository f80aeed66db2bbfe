"""The grading kernel in a boundary: nbgrader's kernel manager (`SandboxKernelManager`) and the
launcher it starts (`python -m course.sandbox kernel`)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from course import ROOT
from course.sandbox.boundary import RECORD, Boundary, course_view, unavailable
from course.sandbox.housekeeping import RUNTIME_PREFIX
from course.sandbox.identities import SandboxError


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
                interrupt_mode="message", env={"PYTHONPATH": str(ROOT)})
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
