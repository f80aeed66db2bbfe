"""course/term.py without a class: the students' environment against the grader's, the roster's
checks, and the LMS files' layout. The term itself, with student accounts, grading and the
exchange, is tests/test_exchange.py's."""
import csv
import io
import json
import subprocess
import sys
from importlib import metadata

import pytest

from conftest import ROOT
from course import term


def _student_python(folder, keras=None, formgrader=True):
    """A stand-in for the students' Python: this one, with a keras of another version in front
    of its own (a distribution's metadata on PYTHONPATH) and formgrader turned off in their
    Jupyter configuration, or not."""
    folder.mkdir()
    path = folder / "site"
    if keras:
        info = path / f"keras-{keras}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: keras\nVersion: {keras}\n")
    config = folder / "config"
    config.mkdir()
    if not formgrader:
        (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
            "jpserver_extensions": {"nbgrader.server_extensions.formgrader": False}}}))
    wrapper = folder / "python"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={path} JUPYTER_CONFIG_DIR={config} "
                       f"JUPYTER_PREFER_ENV_PATH=0 exec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def _environment(python):
    return subprocess.run([sys.executable, "-m", "course.term", "--root", str(ROOT),
                           "environment", str(python)], capture_output=True, text=True)


def test_the_students_environment_matches_or_each_difference_is_named(tmp_path):
    same = _environment(_student_python(tmp_path / "same", formgrader=False))
    assert same.returncode == 0, same.stdout + same.stderr
    packages = len(term.required_packages(ROOT))
    assert f"the grader's versions of all {packages} packages" in same.stdout
    assert "formgrader hidden" in same.stdout
    other = _environment(_student_python(tmp_path / "other", keras="3.14.0"))
    assert other.returncode == 1, other.stdout + other.stderr
    mine = metadata.version("keras")
    assert f"differs: keras 3.14.0 (students) against {mine} (grader)" in other.stdout
    assert "differs: formgrader is enabled for the students" in other.stdout
    assert "2 differences" in other.stdout
    missing = _environment(tmp_path / "no-such-python")
    assert missing.returncode == 2 and "cannot run it" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("text, says", [
    ("name,email\nalice,a@x\n", "no 'id' column (found: name, email)"),
    ("id,email\nalice,a@x\nalice,b@x\n", "line 3: alice is listed twice"),
    ("id\n../alice\n", "line 2: the id '../alice' is not a name grading accepts"),
])
def test_a_roster_that_cannot_be_imported_says_which_line_and_why(tmp_path, text, says):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(term.TermError, match="Fix:") as raised:
        term.read_roster(roster)
    assert says in str(raised.value)


def test_the_lms_files_have_one_quoted_row_per_student_and_the_lms_id():
    assignments = [("resnets", 21.0), ("beyond", 21.0)]
    students = [{"id": "jupyter-ada", "first_name": "Ada", "last_name": 'O"Neil, Jr',
                 "email": "ada@uni.example", "lms_user_id": "lms-001",
                 "scores": {"resnets": 18.9, "beyond": 0.0}, "to_grade": []}]
    for kind, key, name in (("canvas", "SIS User ID", "Student"), ("moodle", "ID number",
                                                                    "Last name")):
        header, rows = term.lms_rows(kind, assignments, students)
        text = io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL).writerows([header, *rows])
        parsed = list(csv.DictReader(io.StringIO(text.getvalue())))
        row = parsed[-1]
        assert row[key] == "lms-001" and (row["resnets"], row["beyond"]) == ("18.9", "0")
        assert 'O"Neil, Jr' in row[name]
    assert parsed[0]["ID number"] == "lms-001"  # moodle: no points row
