"""What is graded: the submissions of submitted/ by assignment, each checked before nbgrader
takes it in; a share of the class (--shard); who else can read the course folder."""
import os
import stat
from pathlib import Path

import nbformat

from course.core import Course, escape, safe_id

# What a student with an account on the grading machine must not read (docs/instructor.md).
PRIVATE = ("source", "hidden", ".git", "gradebook.db", "submitted", "autograded", "feedback",
           "reports", "nbgrader_config.py")


def readable_by_others(root):
    """The course's private entries that accounts other than the owner and group can read:
    [] when the folder, or a folder above it, lets no other account through."""
    root = Path(root).resolve()
    if any(not os.stat(folder).st_mode & stat.S_IXOTH for folder in (root, *root.parents)):
        return []
    found = []
    for name in PRIVATE:
        path = root / name
        if path.exists() and os.stat(path).st_mode & stat.S_IROTH:
            found.append(name + ("/" if path.is_dir() else ""))
    return found


def permissions_warning(root):
    """One line when other accounts can read the course, else None."""
    found = readable_by_others(root)
    if not found:
        return None
    return (f"warning: other accounts of this machine can read the course folder {root} "
            f"({', '.join(found)}): a student with a shell account here reads the solutions, "
            f"the hidden references and every grade. Fix: `make protect` (chmod 700 {root}).")


def shard(students, spec):
    """The K-th of N shares of `students` (sorted) for --shard K/N."""
    try:
        k, n = (int(part) for part in spec.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise SystemExit(f"error: --shard {spec}: expected K/N with 1 <= K <= N, "
                         "e.g. 2/8.") from None
    return sorted(students)[k - 1::n]


def unsafe_files(folder, root):
    """Paths under `folder` (itself included), relative to `root`, that grading must not take
    in: links, hard links and anything but regular files and folders. Nothing is followed."""
    found = []

    def judge(path):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            found.append(f"{path.relative_to(root)} (a symbolic link)")
        elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            found.append(f"{path.relative_to(root)} (a hard link)")
        elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            found.append(f"{path.relative_to(root)} (not a regular file)")
        else:
            return stat.S_ISDIR(info.st_mode)
        return False

    if os.path.lexists(folder) and judge(folder):
        for parent, folders, files in os.walk(folder, followlinks=False):
            for name in [*folders, *files]:
                judge(Path(parent) / name)
    return found


def check_submission(assignment, student, root):
    """None if the course's submitted/STUDENT holds `assignment`'s notebook, readable, and
    nothing unsafe, else why it cannot be graded (one line, with the fix). `root`: a Course, or
    its folder."""
    if not safe_id(student):
        return (f"the student id {escape(ascii(student))} is not a safe name (letters and digits "
                "of any script, and . _ @ + -, at most 64, starting with a letter or digit). "
                "Fix: rename the folder in submitted/.")
    # a folder, or a Course (of this module, or of __main__ when run as python -m course.grade)
    course = Course(root) if isinstance(root, (str, os.PathLike)) else root
    unsafe = unsafe_files(course.path("submitted", student), course.root)
    if unsafe:
        return (f"{', '.join(escape(path, 120) for path in unsafe[:5])}"
                f"{f' and {len(unsafe) - 5} more' if len(unsafe) > 5 else ''}: grading takes in "
                "regular files and folders only. Fix: submit the notebook itself (no links, no "
                "special files).")
    name, notebook = assignment.name, assignment.notebook
    folder = course.path("submitted", student, name)
    path = folder / notebook
    if not path.exists():
        found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
        return (f"no {notebook} in submitted/{student}/{name}/ (found: "
                f"{escape(', '.join(found), 120) or 'no notebook'}). Fix: submit the notebook "
                "under its original name.")
    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as error:  # JSON or schema errors: nbformat raises several kinds
        return (f"submitted/{student}/{name}/{notebook} is not a valid notebook "
                f"({type(error).__name__}: {escape(str(error), 120)}). Fix: open "
                "it in Jupyter, save it, and submit again.")
    return None


def classes(root, names, known, students=()):
    """{assignment: [entry of root/submitted/]} to grade, for the assignments `names`: the
    `students` named (each for every one of `names` it has a folder of), else every entry with
    a folder of it; an entry with none, once, under the first (it gets a line saying what is
    missing). Links are included, so that they are refused with a line."""
    submitted = Course(root).path("submitted")
    if students:  # each for every assignment it has a folder of; one with none under the first
        found = {name: [s for s in students if os.path.lexists(submitted / s / name)]
                 for name in names}
        for student in students:
            if not any(student in entries for entries in found.values()):
                found[names[0]].append(student)
        return {name: entries for name, entries in found.items() if entries}
    entries = sorted(p.name for p in submitted.iterdir()
                     if p.is_dir() or p.is_symlink()) if submitted.is_dir() else []
    found = {name: [] for name in names}
    for entry in entries:
        has = [name for name in names if os.path.lexists(submitted / entry / name)]
        if not any(os.path.lexists(submitted / entry / other) for other in known):
            has = list(names[:1])
        for name in has:
            found[name].append(entry)
    return {name: found[name] for name in names if found[name]}
