"""A boundary's file view: bubblewrap's arguments that show the submission only what its
notebook needs (course/sandbox/__init__.py lists it), each path's parent folders made once."""
import os
import sys
from pathlib import Path

ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "alternatives",
       "mime.types", "nsswitch.conf")
HOME = "/home/student"


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


class View:
    """bubblewrap's arguments, built path by path; a path's parent folders are made once."""

    def __init__(self, scratch_bytes):
        self.args, self.made, self.size = [], {"/"}, str(scratch_bytes)

    def parents(self, path):
        for parent in reversed(Path(path).parents):
            if str(parent) not in self.made:
                self.made.add(str(parent))
                self.args.extend(["--perms", "0755", "--dir", str(parent)])

    def bind(self, option, source, target):
        self.parents(target)
        self.made.add(str(target))
        self.args.extend([option, str(source), str(target)])

    def scratch(self, path, mode):
        """A memory file system at `path`, writable by the sandbox's only user."""
        self.parents(path)
        self.made.add(str(path))
        self.args.extend(["--size", self.size, "--perms", mode, "--tmpfs", str(path)])


def file_view(box):
    """bubblewrap's arguments for the file view of the Boundary `box`."""
    view = View(int(box.settings.scratch_gib * 2**30))
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):  # Debian's merged /usr
        path = Path("/") / name
        if path.is_symlink():
            view.args.extend(["--symlink", os.readlink(path), str(path)])
        elif path.is_dir():
            view.bind("--ro-bind", path, path)
    view.bind("--ro-bind", "/usr", "/usr")
    for name in ETC:
        if (Path("/etc") / name).exists():
            view.bind("--ro-bind", Path("/etc") / name, Path("/etc") / name)
    view.bind("--ro-bind", box.scratch / "passwd", "/etc/passwd")
    view.bind("--ro-bind", box.scratch / "group", "/etc/group")
    view.args.extend(["--proc", "/proc", "--dev", "/dev"])
    view.scratch(HOME, "0777")
    view.scratch("/tmp", "1777")
    # every real path after the scratch file systems, which would hide what lies under them
    # (a course, or its Python environment, under /tmp)
    for prefix in python_prefixes():  # the Python environment
        view.bind("--ro-bind", prefix, prefix)
    view.bind("--ro-bind", box.scratch / "run", "/run/course")
    for source, target in box.read_only.items():
        view.bind("--ro-bind", Path(source).resolve(), target)
    for path in box.writable:
        view.bind("--bind", path, path)
    if box.folder != Path("/"):
        view.scratch(box.folder, "0777")
        for entry in sorted(os.scandir(box.folder), key=lambda e: e.name):
            if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False):
                view.bind("--ro-bind", entry.path, entry.path)
    return view.args
