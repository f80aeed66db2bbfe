"""The pages students and teaching assistants read, in a real browser (Debian's Chromium and
chromedriver; axe-core from npm, installed by `make install` into node_modules/): the pages a
student reads (the feedback page, the page saying why a submission was not graded) have no
serious or critical accessibility violation and every figure has its text; and no link,
image or handler a student wrote in a notebook is live in formgrader's page or the feedback
page, as Chromium itself parses and resolves them (issue 34's acceptance in a browser)."""
import datetime
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from course import ROOT
from course.core import assignments
from course.term import status
from test_reports import copied_class

ROOT = ROOT
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    missing = [str(path) for path in (AXE, CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"the accessibility check needs {', '.join(missing)}. Fix: `make install` "
                    "(Debian's chromium and chromium-driver, axe-core from npm).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.set_script_timeout(120)
    yield driver
    driver.quit()


def _violations(browser, page):
    """[(rule, impact, first element)] of axe-core's violations on the HTML file `page`."""
    browser.get(page.as_uri())
    browser.execute_script(AXE.read_text())
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(result => done("
        "result.violations.map(v => [v.id, v.impact, v.nodes[0].html.slice(0, 120)])));")
    return [tuple(violation) for violation in found]


def _graded(notebook, failing):
    """The solution notebook as autograding leaves it: every graded cell full marks but the
    test cell `failing`, which holds a failed test's error."""
    for cell in notebook.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade"):
            grading["score"] = 0.0 if grading["grade_id"] == failing else grading["points"]
        if grading.get("grade_id") == failing:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="AssertionError",
                evalue="identity_block: the shortcut is not added: the output equals the main "
                "path's for every input",
                traceback=["\x1b[0;31mAssertionError\x1b[0m: identity_block: the shortcut is "
                           "not added"])]
    return notebook


def _feedback_page(folder):
    """The resnets feedback page as generate_feedback makes it, from a graded copy in `folder`
    (its diagrams beside it), with the course's exporter and page preprocessors."""
    from nbgrader.converters import GenerateFeedback

    from course.plugins import DropLibraryLogs, HideServerPaths

    assignment = assignments(ROOT)["resnets"]
    shutil.copytree(ROOT / "release" / "resnets", folder)
    notebook = _graded(nbformat.read(assignment.source(), as_version=4),
                       next(iter(assignment.points)))
    path = folder / assignment.notebook
    nbformat.write(notebook, path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    converter = GenerateFeedback(config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    from nbconvert.preprocessors.sanitize import SanitizeHTML
    for preprocessor in (DropLibraryLogs, HideServerPaths, SanitizeHTML):
        exporter.register_preprocessor(preprocessor(config=converter.config), enabled=True)
    html = exporter.from_filename(str(path), resources={"nbgrader": {
        "notebook": assignment.stem, "score": 18.0, "max_score": 21.0, "late_penalty": 0}})[0]
    page = folder.parent / "feedback.html"
    page.write_text(html)
    return page, html


def test_the_feedback_page_has_no_serious_violation_and_every_figure_its_text(
        browser, tmp_path):
    page, html = _feedback_page(tmp_path / "resnets")
    images = re.findall(r"<img\b[^>]*>", html)
    diagrams = [image for image in images if "data:image/png;base64," in image]
    assert len(diagrams) == 3  # the three diagrams, inside the page
    assert all(re.search(r'\balt="[^"]{40,}"', image) for image in images), images
    serious = [v for v in _violations(browser, page) if v[1] in ("serious", "critical")]
    assert serious == []


def test_the_page_of_a_submission_not_graded_has_no_violation(browser, tmp_path):
    page = tmp_path / "status.html"
    page.write_text(status.status_page(
        "resnets", datetime.datetime(2026, 12, 7, 11, 40, 5),
        "not graded now: today's graded attempts are used",
        "It is kept: the final grading, after the due date, grades your last submission.",
        status.attempts_left(1, 1)))
    assert _violations(browser, page) == []


def test_the_similarity_report_reads_in_a_browser(browser, tmp_path):
    """reports/ASSIGNMENT/similarity.html as an instructor opens it: no accessibility violation,
    the flagged pair's shared code marked on both sides; its screenshot in
    reports/browser/similarity.png."""
    course, assignment, _, _ = copied_class(tmp_path)
    page = course.reports / assignment.name / "similarity.html"
    assert _violations(browser, page) == []
    browser.get(page.as_uri())
    headings = [h.text for h in browser.find_elements("css selector", "h3")]
    assert headings == ["1. copier-outputs and honest-solution: flagged by outputs",  # a run
                        "2. copier-code and own-way-1: flagged by code"], headings
    marked = browser.find_elements("css selector", "section .side mark")
    assert len(marked) >= 4 and all(mark.is_displayed() for mark in marked[:2])
    shots = ROOT / "reports" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(shots / "similarity.png"))


def test_axe_finds_what_it_should_here(browser, tmp_path):
    """The check can fail: a page without a language and an image without text."""
    page = tmp_path / "bare.html"
    page.write_text('<!DOCTYPE html><html><head><title>t</title></head><body><main>'
                    '<img src="data:image/png;base64,iVBORw0KGgo="></main></body></html>')
    rules = {rule for rule, _, _ in _violations(browser, page)}
    assert {"html-has-lang", "image-alt"} <= rules, json.dumps(sorted(rules))


# the notebook's cells only (formgrader's own toolbar has handlers of its own)
LIVE = """const cells = '.cell, .cell *, .jp-Cell, .jp-Cell *';
return Array.from(document.querySelectorAll(cells)).flatMap(element => {
    const found = [];
    for (const attribute of element.attributes) {
        if (attribute.name.startsWith('on')) found.push(element.tagName + ' ' + attribute.name);
    }
    for (const name of ['href', 'src', 'action', 'formaction', 'data']) {
        const value = element[name];
        if (typeof value === 'string' && /^(javascript|vbscript|data:text)/i.test(value.trim())) {
            found.push(element.tagName + ' ' + name + '=' + value.slice(0, 40));
        }
    }
    return found;
});"""


def _live(browser, html, tmp_path, name):
    """What Chromium makes of `html`: each element with an event handler, or a link, image or
    form whose resolved URL would run script or a document of the student's."""
    page = tmp_path / f"{name}.html"
    page.write_text(html)
    browser.get(page.as_uri())
    return browser.execute_script(LIVE)


def test_no_script_a_student_writes_is_live_in_the_browser(browser, tmp_path):
    """The audit's markup attack in a markdown cell and a markdown output: nothing live in
    either page as Chromium parses them; nbconvert's own page (the check can fail) has them."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors.sanitize import SanitizeHTML
    from test_what_reaches import _hostile_notebook, _pages
    from traitlets.config import Config

    config = Config()
    config.SanitizeHTML.enabled = True
    plain = HTMLExporter(config=config)
    plain.register_preprocessor(SanitizeHTML(config=config), enabled=True)
    notebook = _hostile_notebook()
    del notebook.cells[2]  # nbconvert's own renderer stops on the missing attachment
    before = _live(browser, plain.from_notebook_node(notebook)[0], tmp_path, "nbconvert")
    assert len(before) >= 8, before
    for page, html in _pages(_hostile_notebook()).items():
        assert html.count('class="cell') >= 3 or html.count("jp-Cell ") >= 3, page  # cells seen
        assert _live(browser, html, tmp_path, page) == [], page
