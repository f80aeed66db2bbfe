"""What killed graders leave: scratch folders, control groups and runtime folders of boundaries
and batches whose process is gone, removed."""
import os
import shutil
import tempfile
from pathlib import Path

from course.core import SETTINGS
from course.sandbox.cgroup import Cgroup
from course.sandbox.identities import claim, live_processes, ours, kill_user

RUNTIME_PREFIX = "course-kernel-"  # a kernel's runtime folder: course-kernel-MANAGER_PID-...


GRADING_PREFIX = "course-grading-"  # a batch's or a task's scratch: course-grading-PID-...


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
        handle = claim(uid)
        if handle is None:  # in use
            continue
        with handle:
            kill_user(uid, settle=0)
            Cgroup(folder.name, SETTINGS).remove()
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(uid)
    return swept


def sweep_runtime_folders(folder=None):
    """Remove the kernels' runtime folders and the batches' scratch folders (RUNTIME_PREFIX,
    GRADING_PREFIX in `folder`, default the temporary folder), this user's or a boundary's,
    made for a process no longer alive: one killed (a grader stopped after SUBMISSION_SECONDS,
    a queue worker killed mid-task) cannot remove its own. The process id is in the folder's
    name; a live one's is in use (process ids of this PID namespace: graders in other
    containers must not share this temporary folder). Returns the names removed."""
    folder = Path(folder or tempfile.gettempdir())
    live = live_processes()
    removed = []
    for entry in os.scandir(folder):
        prefix = next((p for p in (RUNTIME_PREFIX, GRADING_PREFIX)
                       if entry.name.startswith(p)), None)
        owner = entry.name.removeprefix(prefix or "").split("-")[0]
        if prefix is None or not owner.isdigit() or int(owner) in live:
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or not ours(
                    entry.stat(follow_symlinks=False).st_uid):
                continue
        except OSError:  # another grader's sweep removed it meanwhile
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed
