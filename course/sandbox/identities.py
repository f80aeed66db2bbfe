"""The boundaries' user ids: one claimed with a lock file per running boundary, and the
processes of an id killed or found when no boundary holds it."""
import fcntl
import os
import signal
import time
from pathlib import Path

from course.core import SETTINGS


class SandboxError(RuntimeError):
    """This machine cannot run a boundary; the message says why and the fix."""


SandboxError.__module__ = "course.sandbox"  # its name where it is shown: the package's face


def live_processes():
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


def processes_of(uid):
    return [pid for pid, owner in live_processes().items() if owner == uid]


def kill_user(uid, settle=2.0, seconds=10.0):
    """Kill the processes of `uid` that are still alive `settle` seconds after its sandbox ended
    (the end of a PID namespace kills the rest of it: this is a backstop); returns how many."""
    deadline = time.monotonic() + settle
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    killed, deadline = set(), time.monotonic() + seconds
    while pids := processes_of(uid):
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


def claim(uid, state=SETTINGS.state):
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


def ours(uid):
    """Whether a file of user `uid` is this grader's: its own, or a boundary's (a kernel's
    runtime folder belongs to its boundary's user while the kernel runs)."""
    low, high = SETTINGS.first_uid, SETTINGS.first_uid + SETTINGS.identities
    return uid == os.getuid() or low <= uid < high


def leftover_processes(uids=None):
    """{uid: [pid, ...]} of processes running under a boundary's user id that no boundary holds
    now (a boundary running for another grader on this machine is not a leftover). `uids`: the
    user ids to look at (default: all of them)."""
    low, high = SETTINGS.first_uid, SETTINGS.first_uid + SETTINGS.identities
    running = {}
    for pid, uid in live_processes().items():
        if low <= uid < high and (uids is None or uid in uids):
            running.setdefault(uid, []).append(pid)
    found = {}
    for uid, pids in running.items():
        handle = claim(uid)
        if handle is None:  # in use: a boundary is running
            continue
        with handle:
            live = [pid for pid in processes_of(uid) if pid in pids]
            if live:
                found[uid] = live
    return found
