"""The teaching team's share of a course folder (`python -m course.hub setup --grader`): what root
writes there opened to the team's group (nbgrader's post-convert hooks), and no link the team
made in its folders followed by root."""
import os
import stat
from pathlib import Path

# What formgrader's buttons write (Collect, hand grades, Generate and Release Feedback): the
# grader account's group may change these and nothing else. Root runs the rest (the course's
# code, nbgrader_config.py, its Python), and every TA has the grader account's terminal:
# nothing root runs may be the group's to change, nor may the course folder itself (a new
# `numpy.py` there would be imported by root's `python -m course.grade`).
TEAM_WRITES = ("submitted", "autograded", "feedback", "gradebook")


GRADEBOOK = Path("gradebook") / "gradebook.db"  # its folder the group's: SQLite's journal


def open_to_team(*paths):
    """Each of `paths` (a team folder's entry: submitted/, autograded/ or feedback/ and what is
    in them) writable by the course's group, where the course is shared (its folder setgid):
    what root writes there, formgrader's buttons replace. Root's files keep umask 022 elsewhere
    (a group-writable __pycache__ root imports from would be the team's code)."""
    for top in map(Path, paths):
        if not top.exists() or top.is_symlink():
            continue
        team_folder = next((parent for parent in top.resolve().parents
                            if parent.name in TEAM_WRITES), None)
        if team_folder is None or not team_folder.parent.stat().st_mode & stat.S_ISGID:
            continue  # not in a shared course's team folder
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            info = path.lstat()
            if info.st_uid == os.geteuid():
                give_group(path, info, writes=True)


def give_group(path, info, writes):
    """The group's bits of `path` (its lstat `info`): read (and enter, setgid, for a folder),
    and write if `writes`, else not; a link or a special file is left as it is."""
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        os.chmod(path, (mode | 0o2070) if writes else (mode | 0o2050) & ~0o020)
    elif stat.S_ISREG(info.st_mode):
        os.chmod(path, (mode | 0o060) if writes else (mode | 0o040) & ~0o020)


def team_may_write(assignment, student, notebooks):
    """nbgrader's post_convert_hook for autograde and generate_feedback (run in the course
    folder): the student's folders there open to the team (nbgrader's groupshared opens the
    assignment's folder, not the student's around it)."""
    open_to_team(*(Path(step) / student for step in ("autograded", "feedback")))


def shared_course_problem(course):
    """Why root must not run nbgrader in a shared course now, or None. The teaching team may
    change gradebook/, submitted/, autograded/ and feedback/, and root's nbgrader steps open,
    remove and write there following links: a link for the gradebook would have root write a
    database wherever it points, and a student's or an assignment's folder swapped for a link
    would have root remove or write what it points at. nbgrader_config.py stops every nbgrader
    process of the course on it. (A link made after this look, while root works, is not seen.)"""
    course = Path(course)
    kept = course / GRADEBOOK
    if os.geteuid() != 0 or not kept.parent.exists():
        return None
    for path in (kept.parent, kept):
        if path.is_symlink() or (path.exists() and not (path.is_dir() or path.is_file())):
            return (f"{path} is a link or a special file: the teaching team may change "
                    "gradebook/, so root does not open it. Fix: put the gradebook back as a "
                    "plain file there, or remove it and make it again.")
    for name in ("submitted", "autograded", "feedback"):  # STUDENT/ASSIGNMENT in each
        for student in _entries(course / name):
            for path in (student, *_entries(student)):
                if not path.is_dir() or path.is_symlink():
                    return (f"{path} is not a folder (a link, or a file): the teaching team may "
                            f"change {name}/, so root does not work in it. Fix: look at who "
                            "made it and remove it.")
    return None


def _entries(folder):
    """What nbgrader's steps look at in `folder` (not `.gitkeep` and the like: its globs skip
    names that start with a dot)."""
    try:
        return [] if folder.is_symlink() else [
            path for path in folder.iterdir() if not path.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []
