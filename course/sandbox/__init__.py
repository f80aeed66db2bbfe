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

The package, by module: boundary.py (`Boundary`, whether this machine can run one), view.py (its
file view), identities.py (the user ids), cgroup.py, kernel.py (`SandboxKernelManager` and the
launcher), housekeeping.py (what killed graders leave), probe.py (`check`). Its numbers are
course.core's Settings.
This file is the face the other packages call."""
from course.sandbox.boundary import (Boundary, PASSED_ENVIRONMENT, RECORD, course_view, describe,
                                     unavailable)
from course.sandbox.cgroup import Cgroup
from course.sandbox.housekeeping import GRADING_PREFIX, RUNTIME_PREFIX, sweep, sweep_runtime_folders
from course.sandbox.identities import SandboxError, kill_user, leftover_processes, processes_of
from course.sandbox.kernel import SandboxKernelManager
from course.sandbox.probe import check, limits
from course.sandbox.view import HOME, python_prefixes

__all__ = ["Boundary", "Cgroup", "GRADING_PREFIX", "HOME", "PASSED_ENVIRONMENT", "RECORD",
           "RUNTIME_PREFIX", "SandboxError", "SandboxKernelManager", "check", "course_view",
           "describe", "kill_user", "leftover_processes", "limits", "processes_of",
           "python_prefixes", "sweep", "sweep_runtime_folders", "unavailable"]
