"""A boundary's control groups (cpu, memory, pids), where the machine lets us make them."""
from pathlib import Path


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
