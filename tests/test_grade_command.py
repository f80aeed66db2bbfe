"""course.grade's own logic, without running nbgrader: shards, the submission check, bad input,
report lines, the stderr preprocessor."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course import ROOT, grade
from course.core import (FAILED, GRADED, NOT_GRADED, REFUSED, TIMED_OUT, Course, Finding,
                         SubmissionResult, escape, find, nbgrader_config, safe_id)
from course.grading import (broken_grader, check_submission, classes, findings, readable_by_others,
                            render, shard)
from course.hidden import HiddenTests
from course.plugins import DropLibraryLogs, KeepPointsForStderr, OnlyVerdictsScore

RESNETS = find("resnets")


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_split_the_class_into_disjoint_shares_that_cover_it(n):
    students = [f"student-{i:03d}" for i in range(23)]
    shares = [shard(students, f"{k}/{n}") for k in range(1, n + 1)]
    assert sorted(s for share in shares for s in share) == students
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize("spec", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_a_bad_shard_is_one_error_line(spec):
    with pytest.raises(SystemExit, match=r"--shard .*expected K/N with 1 <= K <= N"):
        shard(["a"], spec)


def _submit(root, student, name, data):
    folder = root / "submitted" / student / "resnets"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)


def test_submission_check_names_the_file_the_problem_and_the_fix(tmp_path):
    _submit(tmp_path, "renamed", "Residual_Networks (1).ipynb", b"{}")
    _submit(tmp_path, "cut", "Residual_Networks.ipynb", b'{"cells": [')
    _submit(tmp_path, "fine", "Residual_Networks.ipynb",
            b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert check_submission(RESNETS, "renamed", tmp_path) == (
        "no Residual_Networks.ipynb in submitted/renamed/resnets/ (found: Residual_Networks (1)"
        ".ipynb). Fix: submit the notebook under its original name.")
    cut = check_submission(RESNETS, "cut", tmp_path)
    assert cut.startswith("submitted/cut/resnets/Residual_Networks.ipynb is not a valid notebook")
    assert cut.endswith("Fix: open it in Jupyter, save it, and submit again.")
    assert check_submission(RESNETS, "fine", tmp_path) is None
    assert check_submission(RESNETS, "absent", tmp_path).startswith(
        "no Residual_Networks.ipynb in submitted/absent/resnets/ (found: no notebook)")


def test_no_submissions_or_no_gradebook_is_one_error_line_and_exit_2(tmp_path, capsys):
    shutil.copytree(RESNETS.source().parent, tmp_path / "source" / "resnets",
                    ignore=shutil.ignore_patterns("*.h5"))
    assert grade.main(["--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: submitted/ has no submissions. Fix: collect them (`nbgrader collect ASSIGNMENT`, "
        "docs/instructor.md) or copy each to submitted/STUDENT/ASSIGNMENT/; `make demo` grades "
        "the sample submissions in a copy of the course.")
    _submit(tmp_path, "someone", "Residual_Networks.ipynb", b"{}")
    assert grade.main(["--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: the gradebook has no assignment resnets. Fix: run `make release` (nbgrader "
        "generate_assignment records it) first.")
    assert grade.main(["--root", str(tmp_path), "--assignment", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: no assignment nope in {tmp_path / 'source'} (there are: resnets). Fix: name one "
        "of them.")


@pytest.mark.parametrize("student", ["a\nb", "../x", "x/y", ".hidden", "-rf", "tab\there",
                                     "e\u202ed", "", "x" * 65])
def test_an_unsafe_student_id_is_refused_with_the_id_escaped(tmp_path, student):
    problem = check_submission(RESNETS, student, tmp_path)
    assert problem.startswith("the student id ") and "is not a safe name" in problem
    assert problem.isprintable() and problem.endswith("Fix: rename the folder in submitted/.")


@pytest.mark.parametrize("student", ["ünïcødé-名前", "u\u0308ber", "jupyter-alice",
                                     "a.b@x+y-z_1", "Ελένη", "١٢٣"])
def test_a_student_id_in_any_script_is_a_safe_name(tmp_path, student):
    assert safe_id(student)
    problem = check_submission(RESNETS, student, tmp_path)
    assert problem.startswith(f"no {RESNETS.notebook} in submitted/{student}/"), problem


def test_links_hard_links_and_special_files_are_refused_naming_them(tmp_path):
    secret = tmp_path / "source" / "secret.ipynb"
    secret.parent.mkdir()
    secret.write_text("{}")
    notebook = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    for student in ("link", "beside", "hard", "pipe", "folder"):
        _submit(tmp_path, student, "Residual_Networks.ipynb", notebook)
    target = tmp_path / "submitted" / "link" / "resnets" / "Residual_Networks.ipynb"
    target.unlink()
    target.symlink_to(secret)
    (tmp_path / "submitted" / "beside" / "resnets" / "refs").symlink_to(tmp_path / "source")
    os.link(secret, tmp_path / "submitted" / "hard" / "resnets" / "copy.ipynb")
    os.mkfifo(tmp_path / "submitted" / "pipe" / "resnets" / "pipe")
    folder = tmp_path / "submitted" / "folder" / "resnets"
    shutil.rmtree(folder)
    folder.symlink_to(tmp_path / "submitted" / "link" / "resnets")
    expected = {"link": "submitted/link/resnets/Residual_Networks.ipynb (a symbolic link)",
                "beside": "submitted/beside/resnets/refs (a symbolic link)",
                "hard": "submitted/hard/resnets/copy.ipynb (a hard link)",
                "pipe": "submitted/pipe/resnets/pipe (not a regular file)",
                "folder": "submitted/folder/resnets (a symbolic link)"}
    for student, named in expected.items():
        assert check_submission(RESNETS, student, tmp_path) == (
            f"{named}: grading takes in regular files and folders only. Fix: submit the notebook "
            "itself (no links, no special files).")


def test_report_lines_escape_whatever_a_submission_chose():
    finding = Finding("alice", "a cell the student added", "error",
                      "Error\ncourse files: unchanged\rFORGED\x1b[2K \u2028x")
    line = render(finding)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line == ("alice: a cell the student added: Error\\ncourse files: unchanged\\rFORGED"
                    "\\x1b[2K \\u2028x")
    assert render(Finding("bob", None, "not graded", "why")) == "bob: NOT GRADED: why"
    assert len(escape("y" * 1000)) == 300


def _grade_cell(outputs, points=3):
    cell = nbformat.v4.new_code_cell("identity_block_test(identity_block)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "points": points, "grade_id": "identity_block_tests",
                                 "schema_version": 3}
    cell.outputs = [nbformat.v4.new_output(**output) for output in outputs]
    return cell


def test_a_passing_grade_cell_that_warned_keeps_its_points_and_is_reported():
    from nbgrader.utils import determine_grade

    warning = {"output_type": "stream", "name": "stderr",
               "text": "/x/functional.py:259: UserWarning: The structure of `inputs`\n"}
    passed = {"output_type": "stream", "name": "stdout", "text": "All tests passed!\n"}
    cell = _grade_cell([warning, passed])
    assert determine_grade(cell) == (0, 3)  # what nbgrader alone gives
    keep = KeepPointsForStderr()
    cell, _ = keep.preprocess_cell(cell, {}, 0)
    assert determine_grade(cell) == (3, 3)
    assert cell.outputs[0].name == "stdout" and cell.outputs[0].text.startswith(keep.note)
    assert cell.metadata[KeepPointsForStderr.KEY] == (
        "/x/functional.py:259: UserWarning: The structure of `inputs`")
    failed = _grade_cell([warning, {"output_type": "error", "ename": "AssertionError",
                                    "evalue": "identity_block: wrong", "traceback": []}])
    failed, _ = keep.preprocess_cell(failed, {}, 0)
    assert determine_grade(failed) == (0, 3) and KeepPointsForStderr.KEY not in failed.metadata


def test_a_cells_prints_are_one_output_however_the_kernel_cut_them():
    """The kernel sends a cell's prints in as many messages as its flushes happened to make (a
    queue worker's run and a local one of the same solution once differed by one such cut).
    Autograde, with the course's config, joins consecutive prints before LimitOutput, so the
    notebook, its feedback page and the lines LimitOutput keeps do not depend on the cuts
    (LimitOutput counts each message's last newline as a line: cut per line, it kept half)."""
    from nbconvert.exporters import NotebookExporter

    config = nbgrader_config(ROOT)
    names = [pp.__name__ for pp in config.Autograde.autograde_preprocessors]
    after = names.index("ExecuteWithHiddenTests") + 1
    assert names.index("CoalesceStreamsPreprocessor") == after < names.index("LimitOutput")
    exporter = NotebookExporter(config=config)
    for pp in config.Autograde.autograde_preprocessors[after:names.index("LimitOutput") + 1]:
        exporter.register_preprocessor(pp)  # as nbgrader's Autograde registers them
    chunks = ["All tests passed!", "\n", *(f"line {n}\n" for n in range(1500))]
    cell = _grade_cell([{"output_type": "stream", "name": "stdout", "text": chunk}
                        for chunk in chunks])
    notebook, _ = exporter.from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    outputs = nbformat.reads(notebook, as_version=4).cells[0].outputs
    assert len(outputs) == 1 and outputs[0].name == "stdout"
    kept = outputs[0].text.splitlines()
    assert len(kept) == 1000  # nbgrader's max_lines
    assert kept[:2] == ["All tests passed!", "line 0"]
    assert kept[-2:] == ["line 997", "... Output truncated ..."]


def test_a_test_cell_that_gives_a_value_scores_by_its_errors_alone():
    """nbgrader reads a grade cell's first execute_result as its score, before the hidden
    tests' error after it: OnlyVerdictsScore turns it into display data."""
    from nbgrader.utils import determine_grade

    value = {"output_type": "execute_result", "execution_count": 4,
             "data": {"text/plain": "3.0"}, "metadata": {}}
    verdict = {"output_type": "error", "ename": "HiddenTestFailure", "evalue": "so it scores 0",
               "traceback": []}
    cell = _grade_cell([value, verdict])
    assert determine_grade(cell) == (3, 3)  # what nbgrader alone gives
    cell, _ = OnlyVerdictsScore().preprocess_cell(cell, {}, 0)
    assert determine_grade(cell) == (0, 3)
    assert cell.outputs[0].output_type == "display_data" and cell.outputs[0].data == value["data"]
    assert cell.metadata[OnlyVerdictsScore.KEY] == 1
    half = _grade_cell([{**value, "data": {"text/plain": "1.5"}}])
    half, _ = OnlyVerdictsScore().preprocess_cell(half, {}, 0)
    assert determine_grade(half) == (3, 3)  # no error: the tests passed, full points


def test_a_grade_cell_zeroed_for_stderr_gets_a_report_line(tmp_path):
    """Where the preprocessor did not run (nbgrader alone), a passing cell that wrote to stderr
    scores 0: the report says why, instead of leaving "All tests passed!" and 0 unexplained."""
    cell = _grade_cell([{"output_type": "stream", "name": "stderr", "text": "UserWarning: x\n"},
                        {"output_type": "stream", "name": "stdout", "text": "All tests passed!\n"}])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    path = tmp_path / "autograded" / "carol" / "resnets" / "Residual_Networks.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    record = SubmissionResult("carol", "resnets", GRADED, scores={"identity_block": [0, 3]})
    course = Course(tmp_path)
    found = [f for f in findings(course, RESNETS, record) if f.kind == "stderr"]
    assert [render(f) for f in found] == [
        "carol: identity_block_tests: wrote to stderr and scores 0 for it (nbgrader counts stderr "
        "as a failure): UserWarning: x"]


def test_named_students_are_graded_for_the_assignments_they_submitted(tmp_path):
    for student, names in {"ada": ["a", "b"], "bo": ["b"], "cy": []}.items():
        (tmp_path / "submitted" / student).mkdir(parents=True)
        for name in names:
            (tmp_path / "submitted" / student / name).mkdir()
    # cy submitted nothing: graded once, under the first assignment, to get its error line
    assert classes(tmp_path, ["a", "b"], ["a", "b"], ["ada", "bo", "cy"]) == {
        "a": ["ada", "cy"], "b": ["ada", "bo"]}
    assert classes(tmp_path, ["b"], ["a", "b"], ["ada"]) == {"b": ["ada"]}
    assert classes(tmp_path, ["a"], ["a", "b"], ["bo"]) == {"a": ["bo"]}


def test_the_kernel_exits_without_running_the_submissions_exit_handlers(tmp_path):
    """The hidden tests' set-up cell makes the kernel's exit skip every exit handler registered
    before it: TensorFlow's teardown (about 1 s a submission), and a submission's own (here, one
    that would write a file; a slow one would hold up the grader's shutdown of its kernel)."""
    marker = tmp_path / "exit-handler-ran"
    setup = HiddenTests.of(ROOT / "hidden", "resnets").cells()[0].source
    code = (f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).write_text, "
            f"'ran')\n{setup}\nprint('set up', flush=True)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0 and run.stdout.strip() == "set up", run.stderr[-2000:]
    assert not marker.exists()


def _record(failure, error=None, problem=None):
    """A record as the grader makes it: graded (no failure), or its failure's kind and error."""
    return SubmissionResult("someone", "resnets", NOT_GRADED if failure else GRADED, problem,
                            failure=failure, error=error)


def test_a_grader_whose_kernels_never_start_is_broken_and_a_class_of_failures_is_not():
    died = "RuntimeError: Kernel died before replying to kernel_info"
    broken = {s: _record(FAILED, died, f"nbgrader autograde failed: {died}; see "
                         f"reports/resnets/logs/{s}.log") for s in ("alice", "bob")}
    assert broken_grader(broken).startswith(
        "all 2 submissions failed the same way (nbgrader autograde failed: RuntimeError: Kernel "
        "died before replying to kernel_info): the grader is broken, not the class.")
    assert broken_grader({"alice": broken["alice"]}) is None  # one is a submission's
    assert broken_grader({**broken, "carol": _record(None)}) is None
    mid = "DeadKernelError: Kernel died"  # code can do that
    assert broken_grader({s: _record(FAILED, mid) for s in "ab"}) is None
    refused = "no Residual_Networks.ipynb in submitted/a/resnets/"
    assert broken_grader({s: _record(REFUSED, problem=refused) for s in "ab"}) is None
    timed_out = "nbgrader autograde ran over 1800 s"
    assert broken_grader({s: _record(TIMED_OUT, problem=timed_out) for s in "ab"}) is None


def test_a_course_other_accounts_can_read_gets_one_warning_line_naming_the_fix():
    folder = Path(tempfile.mkdtemp(dir="/var/tmp"))  # 0700, as mkdtemp makes it
    try:
        (folder / "hidden").mkdir(mode=0o755)
        (folder / "gradebook.db").write_text("")
        os.chmod(folder / "gradebook.db", 0o644)
        assert readable_by_others(folder) == []  # the folder itself lets nobody through
        os.chmod(folder, 0o755)
        assert readable_by_others(folder) == ["hidden/", "gradebook.db"]
        run = subprocess.run([sys.executable, "-m", "course.grade", "--root", str(folder)],
                             capture_output=True, text=True)
        warning = run.stderr.splitlines()[0]
        assert warning.startswith(f"warning: other accounts of this machine can read the course "
                                  f"folder {folder} (hidden/, gradebook.db)"), run.stderr
        assert warning.endswith(f"Fix: `make protect` (chmod 700 {folder}).")
    finally:
        shutil.rmtree(folder)


def test_pages_show_a_students_markup_as_text_and_the_notebooks_diagrams_as_images():
    """The course's nbgrader config makes every HTML page of a notebook (formgrader's, the
    feedback) through SanitizeHTML; the audit's `adversarial-markup` checks it through
    nbgrader, this the allowed tags."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    markdown = ('<img src="images/residual_block.png" style="width:640px"> '
                '<img src="x" onerror="alert(1)"><script>alert(2)</script>'
                '<img src="javascript:alert(3)"> **bold**')
    output = nbformat.v4.new_output("display_data", data={
        "text/html": "<b>ok</b><script>alert(4)</script>", "application/javascript": "alert(5)",
        "text/plain": "ok"})
    cell = nbformat.v4.new_code_cell("x", outputs=[output])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown), cell])
    html = HTMLExporter(config=config).from_notebook_node(notebook)[0]
    assert 'src="images/residual_block.png" style="width:640px;"' in html
    assert "<strong>bold</strong>" in html and "<b>ok</b>" in html
    for live in ("onerror", "<script>alert", "javascript:", "alert(5)"):
        assert live not in html, live
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_the_feedback_page_leaves_out_what_tensorflow_prints_while_it_loads():
    """The lines a real `import tensorflow` writes to stderr here (absl's warning, its log
    lines) go; a student's own warning, stdout and errors stay."""
    loading = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                             text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stderr
    assert "absl::InitializeLog" in loading, loading  # what the imports cell shows
    mine = "/home/me/notebook.py:3: UserWarning: my own warning\n"
    cell = nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=loading + mine),
        nbformat.v4.new_output("stream", name="stdout", text="I0000 looks like a log, is stdout\n"),
        nbformat.v4.new_output("stream", name="stderr", text=loading)])
    cell, _ = DropLibraryLogs().preprocess_cell(cell, {}, 0)
    assert [(o.name, o.text) for o in cell.outputs] == [
        ("stderr", mine), ("stdout", "I0000 looks like a log, is stdout\n")]


def test_the_feedback_page_draws_formulas_as_mathml_and_fetches_nothing():
    """The exporter `nbgrader generate_feedback` makes from the course's config (GenerateFeedback
    builds it so) turns the notebooks' LaTeX into MathML and loads no script: nbgrader's template
    would load MathJax from a CDN. A student's formula cannot smuggle markup in."""
    from nbgrader.converters import GenerateFeedback
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    converter = GenerateFeedback(config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    notebook = nbformat.read(find("beyond").release(), as_version=4)
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["score"] = 0
    hostile = (r"$\href{javascript:alert(1)}{x}$ and $<script>alert(2)</script>$ and "
               r"$a<b$ and $\notacommand{x}$")
    notebook.cells.append(nbformat.v4.new_markdown_cell(hostile))
    html, _ = exporter.from_notebook_node(notebook, resources={"nbgrader": {
        "notebook": "Beyond_ResNet50", "score": 0, "max_score": 21, "late_penalty": 0}})
    assert re.findall(r"<script[^>]*\bsrc=", html) == [] and "cdnjs" not in html
    formulas = sum(len(re.findall(r"\$\$.+?\$\$|\$[^$]+?\$", cell.source, re.S))
                   for cell in notebook.cells if cell.cell_type == "markdown")
    assert formulas > 20 and html.count("<math") == formulas, (formulas, html.count("<math"))
    assert "$x_{l+1}" not in html and "\\partial" not in html  # none left for MathJax
    tail = html[html.index("and <math"):]
    assert "javascript:" not in tail and "<script>" not in tail and "<mo>&lt;</mo>" in tail


def test_a_run_that_graded_nothing_fails_with_one_line(tmp_path):
    """Every submission refused (here, a notebook under another name): exit 1 and one line,
    not a batch that looks done."""
    from course import demo

    course = demo.copy_course(tmp_path / "course", names=[RESNETS.name])
    _submit(course, "renamed", "Residual_Networks (1).ipynb", b"{}")
    run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "1"], cwd=course,
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: none of the 1 submissions was graded; each one's reason is in "
                      "reports/ASSIGNMENT/grading_report.txt."], run.stderr
    report = (course / "reports" / RESNETS.name / "grading_report.txt").read_text()
    assert "renamed: NOT GRADED: no Residual_Networks.ipynb" in report


def test_a_queue_that_cannot_grade_is_one_error_line_before_any_batch(tmp_path):
    """course.grade --queue: a broker URL with a password on the command line (every account
    reads it in the process list), a broker that does not answer, one no worker answers on;
    and course.queue copy refuses to overwrite a course folder."""
    from conftest import broker

    isolated = f"{broker()}?virtual_host=9"  # a database of the broker no worker listens on
    for url, says in (("redis://:secret@db.example.edu:6379/0",
                       "holds a password, and every account of this machine can read a "
                       "command line. Fix: give it in COURSE_BROKER_URL instead."),
                      (f"redis+socket://{tmp_path}/none.sock", "does not answer"),
                      (isolated, "no worker answers on")):
        run = subprocess.run([sys.executable, "-m", "course.grade", "--queue", url],
                             cwd=ROOT, capture_output=True, text=True)
        errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert run.returncode == 2 and len(errors) == 1 and says in errors[0], run.stderr
        assert "secret" not in run.stdout + run.stderr
    run = subprocess.run([sys.executable, "-m", "course.queue", "copy", str(ROOT)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "is a course folder. Fix:" in run.stderr, run.stderr
    assert (ROOT / "source").is_dir()
