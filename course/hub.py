"""The hub's server made ready for the course, in one command run as root in the course folder:

    python -m course.hub setup [--students-python PREFIX] [--grader ACCOUNT] [--data DIR]
                               [--close-homes]

- the exchange: the folder nbgrader_config.py names (`Exchange.root`; the students' configuration
  names the same), made and set to 1777: every account can make entries, only an entry's owner
  can rename or delete it (a student could otherwise rename the course's folder in it and stop
  the class's fetch and submit);
- the students' Python (PREFIX: the environment their Jupyter runs in, e.g. their image's
  /opt/conda): hub/students/nbgrader_config.py and jupyter_server_config.py into its
  etc/jupyter (what their Assignments tab and Validate read; nothing in the machine's
  /etc/jupyter, which every Jupyter here reads), and course_validate.py into its site-packages
  (Validate without stopping their server);
- the teaching team (--grader ACCOUNT: the account formgrader runs as, a hub service): the
  course folder shared with that account's group (group-owned, setgid folders, readable by it,
  writable only where formgrader's buttons write: submitted/, autograded/, feedback/ and the
  gradebook's folder; the folder itself closed to every other account, as `make protect`
  leaves it) and the course's folder in the exchange made for that group (before any student
  can make it), so that what root writes (collect, grading, feedback) the grader account can
  change from formgrader's buttons, and the reverse (nbgrader_config.py:
  `CourseDirectory.groupshared` and open_to_team after each step);
- the data (--data DIR): datasets/ copied there with its links followed, readable by every
  account and writable by root only; the hub gives it to every notebook as SIGNS_DATA_DIR
  (hub/jupyterhub_config.py);
- the students' homes (--close-homes): `HOME_MODE 0700` in /etc/login.defs, so that accounts
  made from now on have closed homes (Debian's `useradd -m` makes them 755: a classmate reads
  your notebook), and every home under /home closed now.

Each step says what it did in one line; an error is one line naming the thing and the fix, with
exit code 2, and nothing after it is done."""
import argparse
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from course.core import default_root, nbgrader_config
from course.plugins import GRADEBOOK, TEAM_WRITES, give_group

STUDENTS = Path(__file__).resolve().parents[1] / "hub" / "students"


STUDENT_CONFIGS = ("nbgrader_config.py", "jupyter_server_config.py")


VALIDATE = "course_validate.py"


class SetupError(Exception):
    """One line: what is wrong and the fix."""


def exchange_root(course):
    """The exchange folder the course's nbgrader_config.py names."""
    root = nbgrader_config(course).Exchange.get("root")
    if not root:
        raise SetupError(f"{course}/nbgrader_config.py names no exchange. Fix: set "
                         "c.Exchange.root there and in hub/students/nbgrader_config.py.")
    return Path(root)


def make_exchange(folder):
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o1777)
    return f"exchange: {folder} (1777: anyone makes entries, only their owner renames them)"


def site_packages(prefix):
    """The students' Python's site-packages, as that Python says."""
    python = Path(prefix) / "bin" / "python3"
    if not python.exists():
        raise SetupError(f"{python} not found: --students-python is the folder of the students' "
                         "environment (its bin/python3), e.g. /opt/conda.")
    asked = subprocess.run([str(python), "-c", "import sysconfig; "
                            "print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, timeout=60)
    if asked.returncode != 0:
        said = (asked.stderr.strip().splitlines() or ["no message"])[-1]
        raise SetupError(f"{python} did not run ({said}). Fix: give the students' environment "
                         "with a working Python.")
    return Path(asked.stdout.strip())


def install_students(prefix):
    """The students' configuration and course_validate.py into their Python, readable by all."""
    packages = site_packages(prefix)
    etc = Path(prefix) / "etc" / "jupyter"
    etc.mkdir(parents=True, exist_ok=True)
    placed = [(STUDENTS / name, etc / name) for name in STUDENT_CONFIGS]
    placed.append((STUDENTS / VALIDATE, packages / VALIDATE))
    for source, target in placed:
        target.unlink(missing_ok=True)  # never written through: it may be a hard link
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)
    return f"students' Python: {', '.join(str(target) for _, target in placed)}"


def share_course(course, grader, exchange):
    """The course folder and the course's folder in `exchange` shared with `grader`'s group:
    readable by it, and writable where formgrader's buttons write (TEAM_WRITES; gradebook.db
    becomes a link to gradebook/gradebook.db, whose folder SQLite writes its journal in)."""
    try:
        group = pwd.getpwnam(grader).pw_gid
    except KeyError:
        raise SetupError(f"no account {grader!r} on this machine. Fix: make the grader account "
                         f"first (`useradd -m -U {grader}`), then run this again.") from None
    course = Path(course).resolve()
    for name in TEAM_WRITES:
        (course / name).mkdir(exist_ok=True)
    database, kept = course / "gradebook.db", course / GRADEBOOK
    if database.is_file() and not database.is_symlink() and not kept.exists():
        database.rename(kept)
    if not database.is_symlink():
        if database.exists():
            raise SetupError(f"both {database} and {kept} exist. Fix: keep one of them.")
        database.symlink_to(GRADEBOOK)
    # other accounts keep the bits they had inside (the grading sandbox reads the course's code
    # and each submission's files as another user): the course folder itself is closed to them
    for path in [course, *course.rglob("*")]:
        info = path.lstat()
        os.lchown(path, -1, group)  # a link's own group; what it points at is not the course's
        writes = path != course and path.relative_to(course).parts[0] in TEAM_WRITES
        give_group(path, info, writes)
    os.chmod(course, 0o2750)
    course_id = nbgrader_config(course).CourseDirectory.course_id
    shared = Path(exchange) / course_id
    shared.mkdir(exist_ok=True)
    os.chown(shared, -1, group)
    os.chmod(shared, 0o2775)  # nbgrader's own mode for it with groupshared; students list it
    name = grp.getgrgid(group).gr_name
    return (f"team: {course} shared with group {name} ({grader}'s), writable by it in "
            f"{', '.join(TEAM_WRITES)} only; {shared} made for it; the course folder closed "
            "to other accounts")


def copy_data(course, folder):
    """datasets/ into `folder`, links followed: every account reads it, root alone writes."""
    source = Path(course) / "datasets"
    if not source.is_dir():
        raise SetupError(f"{source} not found. Fix: `make data model` in the course folder first.")
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, symlinks=False)
    for path in [partial, *partial.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return (f"data: {folder} (read-only to all; the hub sets SIGNS_DATA_DIR={folder}, "
            "hub/jupyterhub_config.py)")


def close_homes(login_defs, homes):
    """HOME_MODE 0700 for accounts made from now on, and every home under `homes` closed now."""
    text = Path(login_defs).read_text() if Path(login_defs).exists() else ""
    line = "HOME_MODE\t0700"
    text, found = re.subn(r"^\s*#?\s*HOME_MODE\b.*$", line, text, count=1, flags=re.MULTILINE)
    if not found:
        text = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    Path(login_defs).write_text(text)
    closed = []
    for home in sorted(Path(homes).iterdir()) if Path(homes).is_dir() else []:
        mode = home.lstat().st_mode
        if stat.S_ISDIR(mode) and mode & 0o077:  # a folder, not a link, open to others
            os.chmod(home, stat.S_IMODE(mode) & 0o700)
            closed.append(home.name)
    return (f"homes: {line.replace(chr(9), ' ')} in {login_defs}; closed now: "
            f"{', '.join(closed) or 'none was open'}")


def setup(course, students_python=None, grader=None, data=None, homes=False, exchange=None,
          login_defs="/etc/login.defs", home_folder="/home"):
    """Run each step asked for; the lines they print."""
    exchange = Path(exchange) if exchange else exchange_root(course)
    yield make_exchange(exchange)
    if students_python:
        yield install_students(students_python)
    if grader:
        yield share_course(course, grader, exchange)
    if data:
        yield copy_data(course, data)
    if homes:
        yield close_homes(login_defs, home_folder)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.hub", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="the course folder")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("setup", help="exchange, students' Python, data, homes")
    made.add_argument("--students-python", type=Path,
                      help="the students' environment (the folder holding bin/python3)")
    made.add_argument("--grader", help="the account formgrader runs as: the course folder "
                      "shared with its group")
    made.add_argument("--data", type=Path, help="copy datasets/ to this folder for everyone")
    made.add_argument("--close-homes", action="store_true",
                      help="HOME_MODE 0700 in /etc/login.defs and chmod 700 on /home/*")
    made.add_argument("--exchange", type=Path, help=argparse.SUPPRESS)  # tests: not the real one
    made.add_argument("--login-defs", default="/etc/login.defs", help=argparse.SUPPRESS)
    made.add_argument("--home-folder", default="/home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    course = args.root or default_root()
    try:
        for line in setup(course, args.students_python, args.grader, args.data,
                          args.close_homes, args.exchange, args.login_defs, args.home_folder):
            print(line, flush=True)
    except PermissionError as error:
        print(f"error: {error}. Fix: run it as root, in the course folder.", file=sys.stderr)
        return 2
    except (SetupError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
