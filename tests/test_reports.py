"""The instructor's reports after a batch (issue 38): what the class got wrong (misconceptions,
course/grading/misconceptions.py) and whose work may not be their own (similarity,
course/term/similarity.py).

A small class of the Degradation assignment is graded through nbgrader (`python -m
course.grade`) in a copy of the course: the report names each cataloged mistake, counts a
mistake the catalog does not hold as unknown and a function not written as such, names no
correct variant, and the feedback names the mistake in a line (not with the switch off). The
similarity report is made on classes built from the catalog (course/audit/classes.py): a copy
with names changed, lines reordered and comments added is flagged by its code, a copy with its
outputs left as they were by its outputs, and no honest pair is; hostile and broken notebooks
neither inject markup nor stop the report.
"""
import csv
import random
import subprocess
import sys

import nbformat
import pytest

from course import ROOT
from course.audit import LiveMarkup, catalog, classes, with_answers
from course.core import Course, Results, assignments, copy_course, solution_sources
from course.hidden import HiddenTests, Signatures
from course.term import similarity

DEGRADATION = assignments(ROOT)["degradation"]
# A mistake the catalog does not hold: BatchNormalization's epsilon at 0.1 (Keras: 0.001)
UNKNOWN = [('    X = BatchNormalization(name=layer_name(name, "2_bn"))(X)\n',
            '    X = BatchNormalization(epsilon=0.1, name=layer_name(name, "2_bn"))(X)\n')]


def _write(course, student, notebook, assignment=DEGRADATION):
    path = course.path("submitted", student, assignment.name) / assignment.notebook
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def test_every_assignment_has_current_signatures():
    """signatures.npz holds exactly the catalog's mistakes, in its words (else `make
    references` was not run after the catalog changed)."""
    for assignment in assignments(ROOT).values():
        tests = HiddenTests(assignment.hidden())
        found = Signatures.of(tests)
        mistakes = catalog.of(assignment).all_mistakes
        assert [(e.name, e.function, e.why) for e in found.entries] == [
            (m.student, m.cell, m.why) for m in mistakes], assignment.name
        assert all(e.error or set(e.outputs) == {k for k in tests.references
                                                 if k.split("/")[0] == e.function}
                   for e in found.entries), assignment.name


@pytest.fixture(scope="module")
def graded_class(datasets_dir):
    """A class of Degradation graded through nbgrader: the sample mistakes, two more, a correct
    variant, an unknown mistake, the untouched release; once with the feedback line, and the
    first sample again with the switch off (in a second copy)."""
    found = catalog.of(DEGRADATION)
    answers = solution_sources(DEGRADATION.source())
    class_ = {m.student: catalog.apply(m, answers) for m in found.samples}
    others = [m for m in found.mistakes if m.cell != "basic_block"][:2]
    class_ |= {m.student: catalog.apply(m, answers) for m in others}
    variant = found.variants[0]
    class_[variant.student] = catalog.apply(variant, answers)
    unknown = catalog.Edit("unknown-bn-epsilon", "basic_block", UNKNOWN, "")
    class_["unknown-bn-epsilon"] = catalog.apply(unknown, answers)
    folders = {}
    for switch in ("on", "off"):
        # in build/, as every grading test's copy of the course
        root = copy_course(ROOT / "build" / f"test-reports-{switch}", names=[DEGRADATION.name])
        course = Course(root)
        chosen = class_ if switch == "on" else {found.samples[0].student:
                                                class_[found.samples[0].student]}
        for student, edited in chosen.items():
            _write(course, student, with_answers(DEGRADATION, edited))
        if switch == "on":
            _write(course, "untouched-release", nbformat.read(DEGRADATION.release(),
                                                              as_version=4))
        if switch == "off":  # the instructor's switch, in the course's nbgrader_config.py
            config = root / "nbgrader_config.py"
            config.write_text(config.read_text()
                              + "\nc.ExecuteWithHiddenTests.name_misconceptions = False\n")
        run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", "2",
                              "--assignment", DEGRADATION.name], cwd=root, capture_output=True,
                             text=True)
        assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
        folders[switch] = course
    return folders, found, others, variant


def _csv(course):
    with open(course.reports / DEGRADATION.name / "misconceptions.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_report_names_each_mistake_and_counts_the_unknown(graded_class):
    folders, found, others, variant = graded_class
    course = folders["on"]
    rows = {(row["function"], row["misconception"]): row for row in _csv(course)}
    for mistake in found.samples + others:
        row = rows[(mistake.cell, mistake.student)]
        assert (row["students"], row["which"], row["why"]) == ("1", mistake.student,
                                                               mistake.why), row
    assert rows[("basic_block", "unknown")]["which"] == "unknown-bn-epsilon"
    for function in DEGRADATION.functions:  # the release: every function not written
        assert rows[(function, "not written")]["which"] == "untouched-release"
    named = [row["which"] for row in rows.values()]
    assert not any(variant.student in which for which in named), named
    assert sum(int(row["students"]) for row in rows.values()) == len(found.samples) + len(
        others) + 1 + len(DEGRADATION.functions)
    for function in DEGRADATION.functions:  # a chart per function
        chart = course.reports / DEGRADATION.name / f"misconceptions_{function}.png"
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = Results.read(course.reports / DEGRADATION.name / "grading_results.json")
    assert {(m.student, m.misconception) for m in results.misconceptions} >= {
        (m.student, m.student) for m in found.samples + others}
    report = (course.reports / DEGRADATION.name / "grading_report.txt").read_text()
    assert "misconceptions (failed cells by the cataloged mistake their outputs show):" in report
    assert f"1 × {found.samples[0].student} ({found.samples[0].why})" in report


def _feedback(course, student):
    return (course.root / "feedback" / student / DEGRADATION.name /
            DEGRADATION.notebook.replace(".ipynb", ".html")).read_text()


def test_the_feedback_names_the_mistake_unless_switched_off(graded_class):
    folders, found, _, _ = graded_class
    sample = found.samples[0]
    line = f"This looks like a mistake many make: {sample.why}."
    assert line in _feedback(folders["on"], sample.student)
    assert "This looks like" not in _feedback(folders["on"], "unknown-bn-epsilon")
    assert "This looks like" not in _feedback(folders["off"], sample.student)
    assert "hidden tests" in _feedback(folders["off"], sample.student)  # the verdict itself
    scores = {course: Results.read(folders[course].reports / DEGRADATION.name
                                   / "grading_results.json").submissions[sample.student].scores
              for course in folders}
    assert scores["on"] == scores["off"]  # never a score changed


def test_the_report_command_makes_both_reports_from_what_the_batch_left(graded_class):
    course = graded_class[0]["on"]
    before = _csv(course)
    (course.reports / DEGRADATION.name / "misconceptions.csv").unlink()
    run = subprocess.run([sys.executable, "-m", "course.term", "report", DEGRADATION.name],
                         cwd=course.root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert _csv(course) == before
    page = (course.reports / DEGRADATION.name / "similarity.html").read_text()
    assert "No pair above threshold." in page  # catalog answers only: no one copied
    missing = subprocess.run([sys.executable, "-m", "course.term", "report", "nothing"],
                             cwd=course.root, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1, missing.stderr
    assert "no assignment 'nothing'" in missing.stderr


# --- similarity ---------------------------------------------------------------------------------
def _class_folder(tmp_path):
    """A course folder that reads the real source/, release/ and hidden/."""
    for name in ("source", "release", "hidden"):
        (tmp_path / name).symlink_to(ROOT / name)
    return Course(tmp_path)


def copied_class(tmp_path, name="degradation"):
    """A class of `name` in a course folder under `tmp_path`, its similarity report made: honest
    students (the solution or a cataloged mistake per function), students who wrote their own
    way (the catalog's correct variants, one pack each), a copy of one of those with names
    changed, lines reordered and comments added and its training run again, and a copy of an
    honest notebook written as the solution (its code holds nothing of its own) with its outputs
    as they were. (course, assignment, pairs, thresholds)."""
    assignment = assignments(ROOT)[name]
    course = _class_folder(tmp_path)
    found = catalog.of(assignment)
    rng = random.Random(7)
    answers = solution_sources(assignment.source())
    notebooks = {}
    for index in range(1, 13):
        edited = answers
        for function in assignment.functions:
            options = [m for m in found.all_mistakes if m.cell == function]
            if rng.random() < 0.5:
                edited = catalog.apply(rng.choice(options), edited)
        notebooks[f"honest-{index:02d}"] = classes.with_run(with_answers(assignment, edited), rng)
    by_function = {f: [v for v in found.variants if v.cell == f] for f in assignment.functions}
    for index in range(3):  # each variant pack: a student who wrote every function their way
        edited = answers
        for variants in by_function.values():
            edited = catalog.apply(variants[index], edited)
        notebooks[f"own-way-{index + 1}"] = classes.with_run(with_answers(assignment, edited),
                                                             rng)
    notebooks["honest-solution"] = classes.with_run(with_answers(assignment, answers), rng)
    notebooks["copier-code"] = classes.copied(assignment, notebooks["own-way-1"], rng, True)
    notebooks["copier-outputs"] = nbformat.from_dict(notebooks["honest-solution"])
    for student, notebook in notebooks.items():
        _write(course, student, notebook, assignment)
    pairs, thresholds, _ = similarity.report(course, assignment, sorted(notebooks))
    return course, assignment, pairs, thresholds


@pytest.mark.parametrize("name", ["degradation", "resnets"])
def test_copies_are_flagged_and_no_honest_pair_is(tmp_path, name):
    """The class of `copied_class`: the two copies flagged, by code and by outputs; no pair of
    honest students (nor of the catalog's correct variants)."""
    course, assignment, pairs, thresholds = copied_class(tmp_path, name)
    by_function = {f: [v for v in catalog.of(assignment).variants if v.cell == f]
                   for f in assignment.functions}
    flagged = {(p.first, p.second): p.flagged_by for p in pairs}
    assert "code" in flagged.get(("copier-code", "own-way-1"), []), flagged
    assert flagged.get(("copier-outputs", "honest-solution")) == ["outputs"], flagged
    assert all(first.startswith("copier") for first, _ in flagged), flagged  # no honest pair
    copied = next(p for p in pairs if (p.first, p.second) == ("copier-code", "own-way-1"))
    assert len(copied.code) >= len(assignment.functions) // 2, copied.code
    for function, threshold in thresholds.items():  # every function says why
        honest = len(by_function[function]) + 1  # its variants and the solution
        assert threshold.why.startswith(f"the {honest * (honest - 1) // 2} pairs of the "
                                        "catalog's correct answers"), threshold.why
        if threshold.value is not None:
            assert max(threshold.honest) < threshold.value
    page = (course.reports / assignment.name / "similarity.html").read_text()
    assert "copier-code and own-way-1" in page and "<mark>" in page


@pytest.mark.parametrize("assignment", list(assignments(ROOT).values()), ids=lambda a: a.name)
def test_a_disguised_copy_keeps_every_point(assignment):
    """The copier's edit (`classes.disguise`) changes how the solution reads, not what it does:
    every graded function of the disguised solution passes its public and hidden tests, in this
    process, for eight draws of the swaps (the earlier rule, which moved any statement that
    shared no name, broke bn_behaviour in four draws of the first twelve)."""
    from course.audit import grade_cell
    from course.core import run_answers

    answers = solution_sources(assignment.source())
    for seed in range(8):
        rng = random.Random(seed)
        disguised = {cell: classes.disguise(code, rng) if cell in assignment.functions else code
                     for cell, code in answers.items()}
        assert all(disguised[f] != answers[f] for f in assignment.functions)
        namespace = run_answers(disguised, assignment.source())
        failed = [(function, message) for function in assignment.functions
                  for passed, message in [grade_cell(assignment, function, namespace)]
                  if not passed]
        assert failed == [], (seed, failed)


def test_markup_and_broken_notebooks_neither_inject_nor_stop_the_report(tmp_path):
    assignment = DEGRADATION
    course = _class_folder(tmp_path)
    found = catalog.of(assignment)
    answers = solution_sources(assignment.source())
    marker = "alert(38)"
    attack = f'\n    # </pre><script>{marker}</script><img src=x onerror="{marker}">\n'
    edited = answers
    for variant in [v for v in found.variants if v.student.startswith("variant-block")][:1]:
        edited = catalog.apply(variant, edited)
    edited = {**edited, "basic_block": edited["basic_block"].replace(
        "    X_shortcut = X\n", "    X_shortcut = X" + attack + "    _ = '</pre><b>'\n")}
    rng = random.Random(3)
    original = classes.with_run(with_answers(assignment, edited), rng)
    trains = [cell for cell in original.cells if cell.cell_type == "code"][-1]
    trains.outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text=f"loss: 0.1234 - accuracy: 0.5678 <script>{marker}"
        "</script>\nloss: 0.2345 - accuracy: 0.6789\n")]
    notebooks = {"original": original, "copy": nbformat.from_dict(original)}
    huge = with_answers(assignment, answers)
    for cell in huge.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "basic_block":
            cell.source += "\n" + "# padding\n" * 30_000
    notebooks["huge-cell"] = huge
    for student, notebook in notebooks.items():
        _write(course, student, notebook)
    broken = course.path("submitted", "malformed", assignment.name) / assignment.notebook
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [{"cell_type": "code", "source": ')
    pairs, _, submissions = similarity.report(course, assignment,
                                              ["copy", "huge-cell", "malformed", "original"])
    page = (course.reports / assignment.name / "similarity.html").read_text()
    assert [(p.first, p.second) for p in pairs] == [("copy", "original")]
    assert "outputs" in pairs[0].flagged_by
    assert LiveMarkup.of(page, marker) == [] and "<script>" not in page.lower()
    assert "&lt;script&gt;alert(38)" in page  # shown, as text
    problems = {s.student: s.problems for s in submissions}
    assert problems["malformed"][0].startswith("notebook not read (JSONDecodeError")
    assert "the first 100,000 compared" in problems["huge-cell"][0]
    assert "malformed: notebook not read" in page and "huge-cell: basic_block:" in page


def test_the_benchmarks_class_runs_and_its_copy_is_flagged(tmp_path):
    """The synthetic class the benchmark times (benchmarks/reports.py), at 60: every notebook
    read, the copy flagged."""
    course = _class_folder(tmp_path)
    made = classes.honest_class(DEGRADATION, 60, seed=2)
    notebooks = {student: notebook for student, (notebook, _) in made.items()}
    notebooks["copier"] = nbformat.from_dict(notebooks["student-001"])
    for student, notebook in notebooks.items():
        _write(course, student, notebook)
    pairs, _, submissions = similarity.report(course, DEGRADATION, sorted(notebooks))
    assert len(submissions) == 61 and not any(s.problems for s in submissions)
    assert ("copier", "student-001") in {(p.first, p.second) for p in pairs}
