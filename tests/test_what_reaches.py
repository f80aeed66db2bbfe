"""What a submission's content can still reach, piece by piece (issue 34): the pages a
teaching assistant opens, the grader's memory and disk, a hand grade. The audit
(tests/test_grading.py, course/audit/adversarial.py) grades the same through nbgrader; these tests
hold each piece to numbers, fast."""
import json

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.api import Gradebook
from nbgrader.server_extensions.formgrader import handlers
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course import ROOT
from course.audit import LINKS, MARKUP, MISSING, XSS, LiveMarkup
from course.core import GRADED, Autograded, Course, SubmissionResult, assignments
from course.grading import LocalGrader, findings, local, render, report
from course.plugins import ExecuteWithHiddenTests, KeepHandGrades


def _hostile_notebook():
    """A markdown cell and a markdown output holding every kind of script link the audit's
    markup attack holds, and a written answer whose pasted image is missing."""
    output = nbformat.v4.new_output("display_data", data={"text/markdown": LINKS,
                                                          "text/plain": "links"})
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"My answer. {MARKUP}\n\n{LINKS}"),
        nbformat.v4.new_code_cell("x", outputs=[output]),
        nbformat.v4.new_markdown_cell("My curves:\n\n![curves](attachment:curves.png)\n")])


def _course_config(formgrader=False):
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    if formgrader:  # as formgrader builds its exporter (FormgradeExtension.build_extra_config)
        config.HTMLExporter.template_name = "formgrade"
        config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return config


def _pages(notebook):
    """{page: HTML} of `notebook` as formgrader's page and the feedback page make it."""
    from nbgrader.converters import GenerateFeedback

    resources = {"assignment_id": "a", "notebook_id": "n", "submission_id": "s", "index": 0,
                 "total": 1, "base_url": "", "student": "s", "last_name": "", "first_name": "",
                 "notebook_path": "n.ipynb"}
    formgrader = HTMLExporter(config=_course_config(formgrader=True)).from_notebook_node(
        notebook, resources=resources)[0]
    converter = GenerateFeedback(config=_course_config())
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in converter.config.GenerateFeedback.preprocessors:
        if preprocessor is SanitizeHTML:
            exporter.register_preprocessor(preprocessor(config=converter.config), enabled=True)
    feedback = exporter.from_notebook_node(notebook, resources={"nbgrader": {
        "notebook": "n", "score": 0, "max_score": 1, "late_penalty": 0}})[0]
    return {"formgrader": formgrader, "feedback": feedback}


def test_no_link_a_student_writes_in_markdown_is_live_in_formgraders_page_or_the_feedback():
    """nbconvert renders markdown links with harmful protocols allowed; SanitizeHTML cleans the
    markdown's source, which holds no tag: without the course's filter, the links are live."""
    notebook = _hostile_notebook()
    config = Config()
    config.SanitizeHTML.enabled = True
    plain = HTMLExporter(config=config)
    plain.register_preprocessor(SanitizeHTML(config=config), enabled=True)
    del notebook.cells[2]  # nbconvert's own renderer stops on the missing attachment
    before = LiveMarkup.of(plain.from_notebook_node(notebook)[0], XSS)
    assert len(before) >= 10, before  # the checker sees them: 5 links and an image, twice
    for page, html in _pages(_hostile_notebook()).items():
        assert LiveMarkup.of(html, XSS) == [], page
        assert "FORGED-XSS" in html, page  # shown as text, not removed
        assert f'alt="curves ({MISSING})"' in html, page  # the missing image, drawn as one


def test_the_notebooks_own_pages_keep_their_links_anchors_images_and_formulas():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## Stages\n\nSee [the paper](https://arxiv.org/abs/1512.03385) and [below](#stages)."
        '\n\n<img src="images/residual_block.png" style="width:640px">\n\n$F(x) + x$\n\n'
        "```python\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")])
    for page, html in _pages(notebook).items():
        assert '<a href="https://arxiv.org/abs/1512.03385">the paper</a>' in html, page
        assert '<a href="#stages">below</a>' in html and 'class="anchor-link"' in html, page
        assert 'src="images/residual_block.png" style="width:640px;"' in html, page
        assert "<math" in html and '<span class="n">x</span>' in html, page
        assert "<td>1</td>" in html, page


def test_a_cells_output_is_kept_up_to_its_limits_and_the_cut_is_recorded():
    """A kernel of this machine (no sandbox: the code is the test's), the course's execute
    preprocessor with small limits: each cell keeps at most its limit, the notebook at most
    its own, an error is always kept with its text cut, and each cut is in the metadata."""
    cells = [nbformat.v4.new_code_cell(source) for source in [
        "from IPython.display import display\nfor _ in range(8):\n"
        "    display({'text/plain': 'x' * 300_000}, raw=True)",
        "print('small')",
        "for _ in range(3):\n    print('y' * 150_000, flush=True)",
        "raise ValueError('z' * 1_000_000)",
        "print('a little more', flush=True)\nprint('w' * 200_000)"]]
    notebook = nbformat.v4.new_notebook(cells=cells)
    execute = ExecuteWithHiddenTests(
        kernel_manager_class="jupyter_client.manager.AsyncKernelManager", allow_errors=True,
        timeout=60, max_cell_output_characters=500_000, max_notebook_output_characters=700_000,
        max_error_characters=1000)
    notebook, _ = execute.preprocess(notebook, {"metadata": {"path": "."},
                                                "nbgrader": {"assignment": "none"}})
    sizes = [len(json.dumps(cell.outputs)) for cell in notebook.cells]
    cut = [cell.metadata.get(ExecuteWithHiddenTests.OUTPUT_CUT) for cell in notebook.cells]
    assert 300_000 < sizes[0] < 301_000  # one display of 300,000 kept, 7 cut
    assert cut[0]["outputs"] == 7 and 7 * 300_000 < cut[0]["characters"] < 7 * 300_100
    assert "past this cell's limit of 500,000 characters" in notebook.cells[0].outputs[-1].text
    assert cut[1] is None and notebook.cells[1].outputs[0].text == "small\n"
    assert 300_000 < sizes[2] < 301_000 and cut[2]["outputs"] == 1  # the notebook's limit
    assert "past the notebook's limit of 700,000" in notebook.cells[2].outputs[-1].text
    error = notebook.cells[3].outputs[0]
    assert error.output_type == "error" and error.evalue == "z" * 1000 and sizes[3] < 5000
    assert notebook.cells[4].outputs[0].text.startswith("a little more\n")  # it still fits
    assert cut[4]["outputs"] == 1 and cut[4]["characters"] > 200_000


def test_a_hand_grade_is_kept_for_the_same_answer_and_cleared_for_another_picture(tmp_path):
    """KeepHandGrades against a real nbgrader gradebook: the same text with the same pasted
    image keeps its hand grade; the same text with another image is another answer."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("a")
        gradebook.add_student("s")
        gradebook.add_notebook("n", "a")
        gradebook.add_grade_cell("q", "n", "a", max_score=3, cell_type="markdown")
        gradebook.add_solution_cell("q", "n", "a")
        gradebook.add_submission("a", "s")
        KeepHandGrades.create_table(gradebook.db)

    def answer(image, text="My curves:"):
        cell = nbformat.v4.new_markdown_cell(
            f"{text}\n\n![curves](attachment:curves.png)",
            metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": "q",
                                   "points": 3}})
        cell.attachments = {"curves.png": {"image/png": image}}
        return nbformat.v4.new_notebook(cells=[cell])

    resources = {"nbgrader": {"assignment": "a", "student": "s", "notebook": "n",
                              "db_url": url}}

    def regrade(image, text="My curves:"):
        notebook, _ = KeepHandGrades().preprocess(answer(image, text), resources)
        return notebook.cells[0].metadata.get(KeepHandGrades.KEY)

    def grade_by_hand():
        with Gradebook(url) as gradebook:
            gradebook.find_grade("q", "n", "a", "s").manual_score = 3
            gradebook.db.commit()

    assert regrade("iVBORw0KGgoAAAAA") is None  # first seen
    grade_by_hand()
    assert regrade("iVBORw0KGgoAAAAA") == "kept"
    assert regrade("iVBORw0KGgoBBBBB") == "cleared"  # another plot under the same text
    with Gradebook(url) as gradebook:
        assert gradebook.find_grade("q", "n", "a", "s").manual_score is None
    grade_by_hand()
    assert regrade("iVBORw0KGgoBBBBB") == "kept"
    assert regrade("iVBORw0KGgoBBBBB", "My curves, revised:") == "cleared"  # another text
    plain = nbformat.v4.new_markdown_cell("text")  # no attachments: the text's checksum alone
    assert KeepHandGrades.checksum(plain) == (
        "982d9e3eb996f559e633f4d194def3761d909f5a3b647d1a851fead67c32c9d1")


class _FeedbackFails:
    """A course.grading.worker whose autograde succeeded and whose feedback could not be made."""

    def autograde(self, student):
        return Autograded(success=True, feedback_error="InvalidNotebook: missing attachment")


def test_a_submission_whose_feedback_failed_is_graded_with_a_finding_of_its_own(monkeypatch):
    course = Course(ROOT)
    grader = LocalGrader.__new__(LocalGrader)
    grader.course, grader.assignment = course, assignments(ROOT)["resnets"]
    grader.logs = course.reports / "resnets" / "logs"
    monkeypatch.setattr(grader, "worker", lambda: _FeedbackFails())
    monkeypatch.setattr(local, "check_submission", lambda *args: None)
    record = grader.grade("someone")
    assert record.status == GRADED and record.problem is None
    assert record.feedback_problem == (
        "nbgrader generate_feedback failed: InvalidNotebook: missing attachment; see "
        "reports/resnets/logs/someone.log")
    assert record.to_json()["feedback_problem"] == record.feedback_problem
    monkeypatch.setattr(report.nbformat, "read", lambda *args, **kwargs: (
        nbformat.v4.new_notebook()))
    found = findings(course, grader.assignment, record)
    assert [(f.kind, f.cell) for f in found if f.kind == "feedback"] == [("feedback", None)]
    assert all(f.kind != "not graded" for f in found)


@pytest.mark.parametrize("cut", [{"outputs": 8, "characters": 402_653_184}])
def test_a_cut_output_is_one_line_of_the_report(cut, monkeypatch):
    course = Course(ROOT)
    assignment = assignments(ROOT)["resnets"]
    cell = nbformat.v4.new_code_cell("display(...)")
    cell.metadata[ExecuteWithHiddenTests.OUTPUT_CUT] = cut
    monkeypatch.setattr(report.nbformat, "read", lambda *args, **kwargs: (
        nbformat.v4.new_notebook(cells=[cell])))
    record = SubmissionResult("someone", "resnets", GRADED)
    found = [f for f in findings(course, assignment, record) if f.kind == "output"]
    assert [render(f) for f in found] == [
        "someone: a cell the student added: 8 outputs of 402,653,184 characters in all were not "
        "kept (past the grader's limit on a cell's or a notebook's output)"]


def _feedback_from_file(path):
    """The feedback page of the notebook file `path`, as GenerateFeedback's exporter makes it
    with the course's page preprocessors (those that need no gradebook)."""
    from nbgrader.converters import GenerateFeedback

    from course.plugins import DropLibraryLogs, HideServerPaths

    converter = GenerateFeedback(config=_course_config())
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in (DropLibraryLogs, HideServerPaths, SanitizeHTML):
        assert preprocessor in converter.config.GenerateFeedback.preprocessors
        exporter.register_preprocessor(preprocessor(config=converter.config), enabled=True)
    return exporter.from_filename(str(path), resources={"nbgrader": {
        "notebook": "n", "score": 0, "max_score": 1, "late_penalty": 0}})[0]


def test_the_feedback_page_holds_the_diagrams_beside_the_notebook_and_nothing_else(tmp_path):
    """release_feedback hands the student the HTML alone: a diagram beside the notebook is put
    inside the page; a file outside its folder, a link, or a file that is not an image is not."""
    import base64

    folder = tmp_path / "autograded" / "someone" / "resnets"
    (folder / "images").mkdir(parents=True)
    diagram = b"\x89PNG\r\n\x1a\n" + b"diagram"
    (folder / "images" / "residual_block.png").write_bytes(diagram)
    (tmp_path / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"another student's")
    (folder / "images" / "linked.png").symlink_to(tmp_path / "secret.png")
    (folder / "notes.py").write_text("secret = 1\n")
    markdown = ('<img src="images/residual_block.png" style="width:640px">\n\n'
                "![outside](../../../secret.png) ![link](images/linked.png) "
                "![code](notes.py)")
    path = folder / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)]),
                   path)
    html = _feedback_from_file(path)
    inside = base64.b64encode(diagram).decode()
    assert f'src="data:image/png;base64,{inside}" style="width:640px;"' in html
    assert html.count("data:image/png;base64,") == 1  # the diagram alone
    assert base64.b64encode(b"another student's").decode()[:12] not in html
    assert 'src="../../../secret.png"' in html and 'src="images/linked.png"' in html
    assert "c2VjcmV0ID0gMQ" not in html  # notes.py, base64


def test_the_feedback_page_names_the_graders_files_by_what_the_student_knows(tmp_path):
    import sys

    folder = tmp_path / "autograded" / "someone" / "resnets"
    folder.mkdir(parents=True)
    keras = f"{sys.prefix}/lib/python3.11/site-packages/keras/src/layers/layer.py"
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="identity_block: no",
                                   traceback=[f"File \x1b[0;32m{folder}/public_tests.py:42\x1b[0m",
                                              f"File {keras}:910, in __call__",
                                              "AssertionError: identity_block: no"])
    # graded on a queue worker: its copy of the course is named, the page is made centrally
    printed = nbformat.v4.new_output("stream", name="stdout", text=(
        f"saved to {folder}/x.npy\n"
        "read /srv/worker-2/course/autograded/someone/resnets/test_utils.py:24\n"
        "kept /srv/worker-2/course/autograded/another/resnets/x.npy 1/2\n"))
    path = folder / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "test()", outputs=[error, printed])]), path)
    html = _feedback_from_file(path)
    assert str(tmp_path) not in html and sys.prefix not in html
    assert "public_tests.py:42" in html and "saved to x.npy" in html
    assert "read test_utils.py:24" in html and "worker-2/course/autograded/someone" not in html
    assert "kept /srv/worker-2/course/autograded/another/resnets/x.npy 1/2" in html
    assert "&lt;python&gt;/lib/python3.11/site-packages/keras/src/layers/layer.py:910" in html
    autograded = nbformat.read(path, as_version=4)  # the notebook itself keeps them
    assert str(folder) in autograded.cells[0].outputs[0].traceback[0]


def test_a_failed_cell_leads_with_its_message_and_folds_its_traceback(tmp_path):
    folder = tmp_path / "autograded" / "someone" / "resnets"
    folder.mkdir(parents=True)
    error = nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="identity_block: the shortcut is not added",
        traceback=[f"File \x1b[0;32m{folder}/public_tests.py:42\x1b[0m, in identity_block_test",
                   "\x1b[0;31mAssertionError\x1b[0m: identity_block: the shortcut is not added"])
    path = folder / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "identity_block_test(identity_block)", outputs=[error])]), path)
    html = _feedback_from_file(path)
    message = ('<pre class="course-error-message"><strong>AssertionError</strong>: '
               "identity_block: the shortcut is not added</pre>")
    assert message in html
    folded = html[html.index(message) + len(message):]
    assert folded.lstrip().startswith('<details class="course-traceback">')
    assert folded.index("public_tests.py:42") < folded.index("</details>")
    assert "<script" not in html.split("<body", 1)[1]  # no script in the page's body


def test_autograde_where_the_sandbox_cannot_start_changes_nothing(tmp_path, monkeypatch):
    """formgrader's Autograde button (NbGraderAPI.autograde, with force) pressed in the grader
    account, which cannot start the sandbox: one line, and the graded copy still there (nbgrader
    removes it before running a kernel)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from course import sandbox

    config = _course_config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    for step in ("submitted", "autograded"):
        folder = tmp_path / step / "someone" / "resnets"
        folder.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), folder / "Residual_Networks.ipynb")
    graded = tmp_path / "autograded" / "someone" / "resnets" / "Residual_Networks.ipynb"
    monkeypatch.setattr(sandbox, "unavailable", lambda: "the grader is not root.")
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    result = api.autograde("resnets", "someone")
    assert not result["success"]
    assert result["error"].strip().splitlines()[-1] == (
        "course.sandbox.SandboxError: cannot sandbox student code: the grader is not root. "
        "Nothing was changed: the graded copy and its grades stay. Grade as root in the course "
        "folder (`make autograde`, or `python -m course.grade --assignment ASSIGNMENT "
        "STUDENT`).")
    assert graded.exists()
    # nbgrader's own exporter, as before: the graded copy is removed before anything can fail
    config.Autograde.exporter_class = "nbconvert.exporters.NotebookExporter"
    result = NbGraderAPI(CourseDirectory(config=config), config=config).autograde(
        "resnets", "someone")
    assert not result["success"] and not graded.exists()


def test_formgraders_page_loads_no_mathjax_from_a_cdn_with_the_hubs_jupyter_path(monkeypatch):
    """The formgrader service's JUPYTER_PATH (hub/jupyterhub_config.py) puts the course's
    mathjax macro before nbconvert's: no script from outside the hub, and the one MathJax call
    formgrade.js makes is answered. Without it: MathJax from cdnjs."""
    import re

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("$a^2$")])
    scripts = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    before = _pages(notebook)["formgrader"]
    assert any("cdnjs.cloudflare.com/ajax/libs/mathjax" in src for src in scripts.findall(before))
    monkeypatch.setenv("JUPYTER_PATH", str(ROOT / "hub" / "formgrader"))
    page = _pages(notebook)["formgrader"]
    assert [src for src in scripts.findall(page) if "://" in src or src.startswith("//")] == []
    assert "window.MathJax = {Hub: {Startup: {signal: {Interest:" in page
    assert "<math" in page  # the formula, drawn as MathML when the page was made
