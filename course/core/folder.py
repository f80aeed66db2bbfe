"""A course folder as nbgrader sees it (`Course`), its nbgrader_config.py, and nbgrader's command
line run in it."""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course import ROOT
from course.core.assignments import assignments
from course.core.text import safe_id

PROTECTED = ["source", "hidden", "release", "nbgrader_config.py", "course"]  # must not change


# nbgrader's command line, in an interpreter that imports `course` first (which spares it an
# import nbgrader does not need: course/__init__.py); run in the course folder, whose course/
# it imports, as the workers and nbgrader_config.py do
NBGRADER = [sys.executable, "-c", "import sys, course\nfrom nbgrader.apps.nbgraderapp import main\n"
            "sys.exit(main())"]


def nbgrader_environment():
    """os.environ with this environment's bin/ first: nbgrader runs `alembic` from PATH."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_logged(command, log, note, **popen):
    """Run `command`, its output appended to `log` after a `note` line; its exit code."""
    with open(log, "a") as handle:
        handle.write(f"$ {note}\n")
        handle.flush()
        return subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, **popen).returncode


class Course:
    """A course folder as nbgrader sees it: nbgrader's CourseDirectory configured by the
    folder's nbgrader_config.py answers where each step's files are (`path`) and the gradebook's
    URL (`db_url`: CourseDirectory.db_url, whose default is the folder's gradebook.db); the
    course's own reports go in reports/."""

    def __init__(self, root):
        from nbgrader.coursedir import CourseDirectory

        self.root = Path(root).resolve()
        self.config = nbgrader_config(self.root)
        self.coursedir = CourseDirectory(config=self.config, root=str(self.root))
        default = CourseDirectory.class_traits()["directory_structure"].default_value
        if self.coursedir.directory_structure != default:  # course.grade reads a student's id
            raise SystemExit(  # and finds its submissions by that layout
                f"error: {self.root}/nbgrader_config.py sets CourseDirectory.directory_structure "
                f"to {self.coursedir.directory_structure!r}; the course's tools need nbgrader's "
                f"default {default!r}. Fix: remove that setting.")
        self.db_url = self.coursedir.db_url
        self.reports = self.root / "reports"

    def path(self, step, student="", assignment=""):
        """The folder of nbgrader's `step` ("submitted", "autograded", "feedback", "source",
        "release"), of `student` and `assignment` when given: CourseDirectory.format_path."""
        folder = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(folder, student, assignment))

    def students(self, step, assignment):
        """Every student (a safe id) with a notebook of `assignment` (an Assignment) in `step`
        ("submitted", "autograded"), sorted."""
        folder = self.path(step)
        if not folder.is_dir():
            return []
        return sorted(path.name for path in folder.iterdir() if safe_id(path.name) and (
            self.path(step, path.name, assignment.name) / assignment.notebook).is_file())

    def files_digest(self):
        """{path: SHA-256} of the files that grading must not change."""
        return {str(file.relative_to(self.root)): hashlib.sha256(file.read_bytes()).hexdigest()
                for name in PROTECTED for file in files_under(self.root / name)}


def files_under(path):
    """The file `path`, or the files under the folder `path` (sorted, no __pycache__); none if
    it is missing."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def nbgrader_config(root):
    """The configuration nbgrader reads from `root`/nbgrader_config.py (empty without one)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(root) / "nbgrader_config.py").exists():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def default_root():
    """The current folder when it holds nbgrader_config.py, else this code's course."""
    return Path.cwd() if (Path.cwd() / "nbgrader_config.py").exists() else ROOT


def copy_course(folder, environment=None, names=None):
    """A fresh copy of the course in `folder`, its assignments (or those `names`) generated
    (into the gradebook that `environment`'s COURSE_DB_URL names, if it does), nothing
    submitted."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("course", "source", "hidden"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    (folder / "datasets").symlink_to((ROOT / "datasets").resolve())
    for assignment in names or assignments(ROOT):
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                        "--log-level=ERROR"], cwd=folder, check=True,
                       env={**nbgrader_environment(), **(environment or {})})
    return folder
