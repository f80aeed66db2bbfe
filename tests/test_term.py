"""course/term/ without a class: the students' environment against the grader's, the roster's
checks, the LMS files' layout, and every grades file (nbgrader's grades.csv, the Canvas and
Moodle files) read back as written whatever the names hold, none of them a spreadsheet formula
(course/core/spreadsheet.py). The term itself, with student accounts, grading and the exchange, is
tests/test_exchange.py's."""
import csv
import io
import json
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
from conftest import ROOT
from nbgrader.api import Gradebook

from course import term
from course.core import nbgrader_environment, spreadsheet


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
                 "scores": {"resnets": 18.900000000000002, "beyond": 0.0}, "to_grade": []}]
    for kind, key, name in (("canvas", "SIS User ID", "Student"), ("moodle", "ID number",
                                                                    "Last name")):
        header, rows = term.lms_rows(kind, assignments, students)
        text = io.StringIO()
        spreadsheet.writer(text, quoting=csv.QUOTE_ALL).writerows([header, *rows])
        parsed = list(csv.DictReader(io.StringIO(text.getvalue())))
        row = parsed[-1]
        assert row[key] == "lms-001" and (row["resnets"], row["beyond"]) == ("18.9", "0.0")
        assert 'O"Neil, Jr' in row[name]
    assert parsed[0]["ID number"] == "lms-001"  # moodle: no points row


# --- names that a spreadsheet would run, or that break a CSV file ------------------------------
FORGED = "g-forged,degradation,,100.0,0.0,100.0,100.0,x,y,z,w"  # a grades.csv row, 11 fields
# (first name, last name, email, lms_user_id) as the gradebook holds them -> as the files hold
# them: a text that a spreadsheet would run gets one leading ' and is otherwise the same
HOSTILE = {
    "s01": ("Ada", "O'Neil, Jr", "ada@uni.example", "lms-01"),
    "s02": ("Eve", f"Smith\n{FORGED}", "eve@uni.example", "lms-02"),
    "s03": ('Dwayne "The Rock"', 'Johnson "Jr"', "dj@uni.example", "lms-03"),
    "s04": ("Zoë", "名前", "zoe@uni.example", "lms-04"),
    "s05": ("Hy", '=HYPERLINK("http://x","y")', "hy@uni.example", "lms-05"),
    "s06": ("+cmd|' /C calc'!A0", "Cmd", "cmd@uni.example", "lms-06"),
    "s07": ("Sum", "@SUM(1+1)", "@SUM(1+1)@uni.example", "=lms-07"),
    "s08": ("-2+3", "Minus", "minus@uni.example", "lms-08"),
    "s09": ("Tab", "\tTab", "\rcr@uni.example", "lms-09"),
    "s10": ("Wide", "＝1+1", "＋wide@uni.example", "－lms-10"),
    "s11": ("Space", " =1+1", "space@uni.example", "lms-11"),
    "s12": ("Grace", "Hopper", "grace@uni.example", "lms-12"),
}
WRITTEN = {text: "'" + text for text in (
    '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "@SUM(1+1)@uni.example",
    "=lms-07", "-2+3", "\tTab", "\rcr@uni.example", "＝1+1", "＋wide@uni.example", "－lms-10",
    " =1+1")}
SCORES = {"s01": 7.5, "s02": 10.0, "s05": 2.25, "s12": 8.0}  # of 10; the others: nothing, 0
FORMULA = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _written(text):
    return WRITTEN.get(text, text)


@pytest.fixture(scope="module")
def hostile_exports(tmp_path_factory):
    """A course folder made from this one (its code and nbgrader_config.py) whose gradebook
    holds HOSTILE's students, one assignment (max 10) and SCORES' submissions; then its files:
    `nbgrader export` run there as anyone runs it, and the Canvas and Moodle files."""
    folder = tmp_path_factory.mktemp("hostile")
    shutil.copytree(ROOT / "course", folder / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment("resnets")
        gradebook.add_notebook("Residual_Networks", "resnets")
        gradebook.add_grade_cell("identity_block", "Residual_Networks", "resnets", max_score=10,
                                 cell_type="code")
        for student, (first, last, email, lms) in HOSTILE.items():
            gradebook.add_student(student, first_name=first, last_name=last, email=email,
                                  lms_user_id=lms)
        for student, score in SCORES.items():
            submission = gradebook.add_submission("resnets", student,
                                                  timestamp="2025-01-01 12:00:00")
            submission.notebooks[0].grades[0].auto_score = score
        gradebook.db.commit()
    environment = nbgrader_environment()
    # nbgrader's own plugin, and the course's, on names it writes correctly: the same bytes
    ordinary = ["--student=['s04', 's12']", "--assignment=['resnets']"]
    runs = [subprocess.run([sys.executable, "-m", "nbgrader", "export", *options], cwd=folder,
                           capture_output=True, text=True, env=environment)
            for options in ([], [*ordinary, "--to=ours.csv"],
                            [*ordinary, "--to=nbgraders.csv",
                             "--exporter=nbgrader.plugins.CsvExportPlugin"])]
    runs += [subprocess.run([sys.executable, "-m", "course.term", "export", "--format", kind],
                            cwd=folder, capture_output=True, text=True, env=environment)
             for kind in ("canvas", "moodle")]
    for run in runs:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    files = {"nbgrader": folder / "grades.csv", "canvas": folder / "reports" / "grades-canvas.csv",
             "moodle": folder / "reports" / "grades-moodle.csv"}
    exports = {}
    for kind, path in files.items():
        with open(path, newline="", encoding="utf-8") as handle:  # a \r in a field kept
            exports[kind] = list(csv.reader(handle))
    exports["ours"], exports["nbgraders"] = ((folder / name).read_bytes()
                                             for name in ("ours.csv", "nbgraders.csv"))
    return exports


def _table(rows):
    """{column: value} of each row after the header; every row as wide as the header."""
    header, *rows = rows
    assert [len(row) for row in rows] == [len(header)] * len(rows)
    return [dict(zip(header, row)) for row in rows]


def test_nbgraders_grades_csv_has_one_row_per_student_whatever_the_names(hostile_exports):
    rows = _table(hostile_exports["nbgrader"])
    assert sorted(row["student_id"] for row in rows) == list(HOSTILE)  # no forged row
    for row in rows:
        first, last, email, _ = HOSTILE[row["student_id"]]
        assert (row["first_name"], row["last_name"], row["email"]) == (
            _written(first), _written(last), _written(email))
        score = SCORES.get(row["student_id"], 0.0)
        assert (row["assignment"], row["raw_score"], row["score"], row["max_score"]) == (
            "resnets", str(score), str(score), "10.0")


def test_the_courses_grades_csv_is_nbgraders_for_ordinary_names_and_honours_its_options(
        hostile_exports):
    ours = hostile_exports["ours"].decode("utf-8")
    assert ours.count("\n") == 3 and ",s04,名前,Zoë,zoe@uni.example,0.0,0.0,0.0,10.0" in ours
    assert ",s12,Hopper,Grace,grace@uni.example,8.0,0.0,8.0,10.0" in ours
    # the csv module ends a row with \r\n (RFC 4180), so that a \r in a name is quoted too
    assert hostile_exports["ours"] == hostile_exports["nbgraders"].replace(b"\n", b"\r\n")


def test_the_lms_files_have_one_row_per_student_whatever_the_names(hostile_exports):
    points, *canvas = _table(hostile_exports["canvas"])
    assert (points["Student"], float(points["resnets"])) == ("Points Possible", 10)
    moodle = _table(hostile_exports["moodle"])
    for rows in (canvas, moodle):
        assert sorted(row[id_column] for row in rows
                      for id_column in ("SIS User ID", "ID number") if id_column in row) == (
            sorted(_written(lms) for *_, lms in HOSTILE.values()))
    by_lms = {lms: student for student, (*_, lms) in HOSTILE.items()}
    for row in canvas:
        student = by_lms[row["SIS User ID"].removeprefix("'")]
        first, last, email, _ = HOSTILE[student]
        assert row["Student"] == f"{_written(last)}, {first}"  # a formula at its start only
        assert row["SIS Login ID"] == _written(email)
        assert float(row["resnets"]) == SCORES.get(student, 0)
    for row in moodle:
        student = by_lms[row["ID number"].removeprefix("'")]
        first, last, email, _ = HOSTILE[student]
        assert (row["First name"], row["Last name"], row["Email address"]) == (
            _written(first), _written(last), _written(email))
        assert float(row["resnets"]) == SCORES.get(student, 0)


def test_no_field_of_an_exported_file_starts_a_formula(hostile_exports):
    files = ("nbgrader", "canvas", "moodle")
    started = {kind: [field for row in hostile_exports[kind] for field in row
                      if field.startswith(FORMULA)] for kind in files}
    assert started == {kind: [] for kind in files}


@pytest.mark.parametrize("field, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("＠A1", "'＠A1"), ("\n=1", "'\n=1"), ("  -1", "'  -1"),
    ("Ada", "Ada"), ("O'Neil, Jr", "O'Neil, Jr"), ("a=b", "a=b"), ("", ""), (None, ""),
    (-2.5, "-2.5"), (0, "0"), (18.9, "18.9"),  # numbers stay numbers, even negative ones
])
def test_a_field_a_spreadsheet_would_run_gets_a_leading_quote_and_numbers_stay(field, written):
    text = io.StringIO()
    spreadsheet.writer(text).writerow([field, "end"])
    assert list(csv.reader(io.StringIO(text.getvalue()))) == [[written, "end"]]
