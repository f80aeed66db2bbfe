"""The audit's runs: in-process (each catalog entry checked against the hidden tests here) and
through nbgrader (every submission graded with course.grade in a copy of the course), and the
rows of reports/grade_audit.csv read from the batches' records. course/audit/__init__.py says
what the audit shows."""
import argparse
import csv
import dataclasses
import functools
import html
import html.parser
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import nbformat

from course import ROOT
from course.audit import catalog, traces
from course.audit.adversarial import (ANY, ATTACKS, FORGED, UNGRADED, Fifo, HardLink, Link,
                                      attacks_for)
from course.audit.submissions import expected_scores, submissions, with_answers
from course.core import (FAILED, SUFFIX, AssignmentError, Course, Results, SubmissionResult,
                         assignments, copy_course, escape, find, run_answers, solution_sources)
from course.grading import report_lines
from course.hidden import HiddenTests
from course.plugins import ExecuteWithHiddenTests

# The audit's copy of the course (COURSE_AUDIT_DIR: another folder, e.g. to run two at once)
AUDIT = Path(os.environ.get("COURSE_AUDIT_DIR") or ROOT / "build" / "grade-audit")


# The assignment the attacks on what assignments share (the machine, /tmp, report lines) run on:
# named, so that an assignment added to the course never moves them (adversarial.py, ONCE)
MACHINE_WIDE = "resnets"
MISCONCEPTIONS_NAMED = 0.95  # of the mistakes, the least the report must name top-1 (issue 38)


def machine_wide(chosen):
    """The name of the assignment of `chosen` that the machine-wide attacks run on: MACHINE_WIDE,
    else (an audit of other assignments only) the first of `chosen`, said in a line."""
    names = [assignment.name for assignment in chosen]
    if MACHINE_WIDE in names or not names:
        return MACHINE_WIDE
    print(f"note: {MACHINE_WIDE} is not audited: the attacks on the machine run on {names[0]}",
          flush=True)
    return names[0]


def audited(names=None):
    """The assignments the audit covers: those named, else every one with a catalog."""
    found = [find(name) for name in names] if names else list(assignments(ROOT).values())
    return [assignment for assignment in found if names or catalog.has_catalog(assignment)]


@functools.cache
def grade_cell_sources(source, grade_cells):
    """{graded function: the source of its grade cell} for the `grade_cells` (ids) of the
    instructor notebook `source`, hidden-test blocks (nbgrader's BEGIN/END HIDDEN TESTS) taken
    out as nbgrader does on release; read once per notebook."""
    sources = {}
    for cell in nbformat.read(source, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id in grade_cells:
            lines, hidden = [], False
            for line in cell.source.split("\n"):
                hidden = hidden or "### BEGIN HIDDEN TESTS" in line
                if not hidden:
                    lines.append(line)
                hidden = hidden and "### END HIDDEN TESTS" not in line
            sources[grade_id.removesuffix(SUFFIX)] = "\n".join(lines)
    return sources


@functools.cache
def hidden_tests(folder):
    """The hidden tests in `folder`, read once; None if it holds none."""
    return HiddenTests(folder) if (folder / "hidden_checks.py").exists() else None


def grade_cell(assignment, cell, namespace):
    """(passed, message) of the grade cell of graded function `cell`, run in `namespace` (a
    notebook's, after its answer cells), then its hidden tests, all in this process."""
    try:
        with redirect_stdout(io.StringIO()):
            code = grade_cell_sources(assignment.source(), tuple(assignment.points))[cell]
            exec(compile(code, f"<{cell}{SUFFIX}>", "exec"), namespace)
            hidden = hidden_tests(assignment.hidden())
            if hidden is not None:
                hidden.check(cell, namespace[cell])
    except Exception as error:  # a grade cell fails on any exception, so the audit does too
        return False, f"{type(error).__name__}: {error}".splitlines()[0]
    return True, ""


def audit(assignment, entries):
    """In this process: one row per catalog entry of `assignment`: student, cell, why, passed,
    message, seconds."""
    answers = solution_sources(assignment.source())
    rows = []
    for entry in entries:
        start = time.perf_counter()
        namespace = run_answers(catalog.apply(entry, answers), assignment.source())
        passed, message = grade_cell(assignment, entry.cell, namespace)
        rows.append({"assignment": assignment.name, "student": entry.student, "cell": entry.cell,
                     "why": entry.why, "passed": passed, "message": message,
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def packs(entries, functions):
    """`entries` (catalog mistakes or variants) as lists with at most one per graded function,
    so each list fits one submission."""
    by_cell = {cell: [entry for entry in entries if entry.cell == cell] for cell in functions}
    return [[found[i] for found in by_cell.values() if i < len(found)]
            for i in range(max([len(found) for found in by_cell.values()], default=0))]


def notebook_files(assignment, answers, entries):
    """The release notebook with every entry (one per cell) made in `answers`, as files."""
    for entry in entries:
        answers = catalog.apply(entry, answers)
    return {assignment.notebook: nbformat.writes(with_answers(assignment, answers)).encode()}


def audit_submissions(context, chosen=None, attacks=ATTACKS):
    """{assignment: {student: {file name: content}}} and {assignment: {student: expectation}}
    of the whole audit, for the assignments `chosen` (default: every one with a catalog)."""
    files, expected = {}, {}
    chosen = chosen or audited()
    on_machine = machine_wide(chosen)
    for assignment in chosen:
        mine, wants = files.setdefault(assignment.name, {}), expected.setdefault(
            assignment.name, {})
        answers = solution_sources(assignment.source())
        found = catalog.of(assignment)
        samples = {m.student: m for m in found.samples}
        scores = expected_scores(assignment)
        for student, notebook in submissions(assignment).items():
            mine[student] = {assignment.notebook: nbformat.writes(notebook).encode()}
            wrong = samples.get(student)
            zero = [cell.removesuffix(SUFFIX) for cell, points in scores[student].items()
                    if points == 0]
            wants[student] = {"zero": zero, "mistakes": [wrong] if wrong else [], "variants": []}
        for kind, entries in (("mistakes", found.mistakes), ("variants", found.variants)):
            for index, pack in enumerate(packs(entries, assignment.functions), 1):
                student = f"catalog-{kind}-{index:02d}"
                mine[student] = notebook_files(assignment, answers, pack)
                wants[student] = {"zero": [m.cell for m in pack] if kind == "mistakes" else [],
                                  "mistakes": [], "variants": [], kind: pack}
        for student, (contents, bound) in attacks_for(assignment, assignment.name == on_machine,
                                                      context,
                                                      attacks).items():
            mine[student] = contents
            wants[student] = {"zero": bound.zero, "mistakes": [], "variants": [],
                              "attack": bound}
    return files, expected


def _write(course, folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Link):
        if name == ".":  # the assignment folder itself
            folder.rmdir()
            path = folder
        os.symlink(content.target, path)
    elif isinstance(content, HardLink):
        os.link(course / content.target, path)
    elif isinstance(content, Fifo):
        os.mkfifo(path)
    else:
        path.write_bytes(content)


def prepare(files, course=None, environment=None):
    """A fresh copy of the course in `course` (default AUDIT) with the assignments generated (in
    the gradebook that `environment`'s COURSE_DB_URL names, if any) and `files`
    ({assignment: {student: {file name: content}}}) submitted."""
    course = copy_course(course or AUDIT, environment)
    copy = Course(course)
    for assignment, students in files.items():
        for student, contents in students.items():
            folder = copy.path("submitted", student, assignment)
            folder.mkdir(parents=True)
            for name, content in contents.items():
                _write(course, folder, name, content)


@functools.cache
def _audit_course():
    return Course(AUDIT)


def _audited(step, student, assignment):
    """The audit course's folder of nbgrader's `step` for the student's `assignment`."""
    return _audit_course().path(step, student, assignment.name)


def named_failures(assignment, student):
    """{graded function: message} of the failures the student's feedback shows: the errors under
    its test cell (a public test's, or the hidden tests' where the feedback HTML shows it)."""
    path = _audited("autograded", student, assignment) / assignment.notebook
    named = {}
    if not path.exists():
        return named
    feedback = _audited("feedback", student, assignment) / f"{assignment.stem}.html"
    html = feedback.read_text() if feedback.exists() else ""
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        function = grade_id.removesuffix(SUFFIX)
        if grade_id not in assignment.points:
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        for output in errors:
            if output.evalue.startswith(f"{function}: "):  # a public test's
                named[function] = output.evalue.splitlines()[0]
        hidden = ExecuteWithHiddenTests.error_of(cell)
        if hidden is not None and ExecuteWithHiddenTests.ERROR_NAME in html:  # shown there
            named.setdefault(function, hidden.evalue.splitlines()[0])
    return named


def formgrader_page(course, student, assignment):
    """The HTML formgrader's page of the student's autograded notebook would be, made as
    formgrader makes it: nbconvert's HTMLExporter with the course's nbgrader config and
    formgrader's own `formgrade` template (nbgrader/server_extensions/formgrader)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.HTMLExporter.template_name = "formgrade"  # FormgradeExtension.build_extra_config
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    path = Course(course).path("autograded", student, assignment.name) / assignment.notebook
    resources = {"assignment_id": assignment.name, "notebook_id": assignment.stem,
                 "submission_id": "audit", "index": 0, "total": 1, "base_url": "",
                 "student": student, "last_name": "", "first_name": "",
                 "notebook_path": str(path)}
    return HTMLExporter(config=config).from_filename(str(path), resources=resources)[0]


class LiveMarkup(html.parser.HTMLParser):
    """What of a page would run `marker`'s script in a browser: a script element holding it, an
    event handler attribute holding it, or a URL attribute whose scheme runs a script
    (javascript:, vbscript:, data:text/html) and that holds it. The parser decodes entities in
    attributes as a browser does; a URL is read as a browser does, without the whitespace and
    control characters it skips. (A script URL is live whatever it holds: the course's pages
    have none of their own.)"""
    SCHEMES = ("javascript:", "vbscript:", "data:text/html")

    def __init__(self, marker):
        super().__init__(convert_charrefs=True)
        self.marker, self.live, self._script = marker, [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            url = re.sub(r"[\x00-\x20\x7f-\xa0]+", "", value).lower()
            if (name.startswith("on") and self.marker in value) or url.startswith(self.SCHEMES):
                self.live.append(f"<{tag} {name}={value[:60]!r}>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and self.marker in data:
            self.live.append(f"<script>{data.strip()[:60]}")

    @classmethod
    def of(cls, page, marker):
        parser = cls(marker)
        parser.feed(page)
        parser.close()
        return parser.live


def pages(assignment, student):
    """{"feedback": the student's feedback page, "formgrader": formgrader's page of the
    student's autograded notebook}, each its HTML or why it could not be had."""
    feedback = _audited("feedback", student, assignment) / f"{assignment.stem}.html"
    try:
        formgrader = formgrader_page(AUDIT, student, assignment)
    except Exception as error:  # noqa: BLE001 - formgrader would fail too: reported
        formgrader = f"could not be made ({type(error).__name__}: {error})"[:200]
    return {"feedback": feedback.read_text() if feedback.exists() else "is missing",
            "formgrader": formgrader}


def _page_problems(assignment, student, attack):
    """What the attack's pages show that they must not, or lack: one text each."""
    made = pages(assignment, student)
    problems = [f"its {page} page {html_page}" for page, html_page in made.items()
                if not html_page.startswith("<")]
    if attack.unrendered:
        problems += [f"{live!r} live in the {page} page" for page, html_page in made.items()
                     for live in LiveMarkup.of(html_page, attack.unrendered)]
    problems += [f"{text!r} not in its feedback page" for text in attack.shown
                 if text not in made["feedback"]]
    return problems


def hidden_verdicts(assignment, student):
    """{graded function: the grader's verdict under its test cell} where the hidden tests failed
    for the student: a mistake the public tests alone catch is one a submission that silences
    them (a shadowed module, a rebound test function) keeps the points of. The verdict names the
    cataloged mistake the outputs show, where one does ("misconception")."""
    path = _audited("autograded", student, assignment) / assignment.notebook
    if not path.exists():
        return {}
    return {cell.metadata.get("nbgrader", {}).get("grade_id", "").removesuffix(SUFFIX):
            ExecuteWithHiddenTests.verdict_of(cell)
            for cell in nbformat.read(path, as_version=4).cells
            if not ExecuteWithHiddenTests.verdict_of(cell)["passed"]}


# How a submission whose kernel aborted reads in the records and the report (Attack.may_abort)
ABORTED = (None, "nbgrader autograde failed: DeadKernelError: Kernel died")


def aborted(record):
    """Whether nbgrader stopped `record`'s submission because its kernel died."""
    return record.failure == FAILED and (record.error or "").startswith("DeadKernelError")


def check(assignment, expected, records, found):
    """Rows of reports/grade_audit.csv for `assignment`: one per mistake, variant, attack and
    sample submission, from the batches' records ({student: SubmissionResult}) and findings."""
    functions = assignment.functions
    full = {function: assignment.points[f"{function}{SUFFIX}"] for function in functions}
    rows = []
    for student, want in expected.items():
        record = records.get(student) or SubmissionResult(student, assignment.name)
        graded = record.graded
        scores = {c: record.scores[c][0] if graded and c in record.scores else None
                  for c in functions}
        zero, bound = want["zero"], want.get("attack")
        expect = bound.expect if bound else None
        if bound and bound.attack.may_abort and aborted(record):
            zero, expect = UNGRADED, ABORTED
        if zero == ANY:
            right = True
        elif zero == UNGRADED:
            right = not graded
        else:
            right = graded and all(scores[c] == (0 if c in zero else full[c]) for c in functions)
        named = named_failures(assignment, student)
        hidden = (hidden_verdicts(assignment, student) if want["mistakes"] or want["variants"]
                  else {})
        row = {"assignment": assignment.name, "student": student}
        for mistake in want["mistakes"]:
            rechecked = mistake.cell in hidden
            rows.append({**row, "kind": "mistake", "name": mistake.student, "cell": mistake.cell,
                         "ok": right and mistake.cell in named and rechecked,
                         "named": hidden.get(mistake.cell, {}).get("misconception") or "unknown",
                         "detail": named.get(mistake.cell, "no failure named in the feedback")
                         + ("" if rechecked else " (the public tests alone caught it: the "
                            "hidden tests do not re-check it)")})
        for variant in want["variants"]:
            kept = scores[variant.cell] == full[variant.cell]
            rows.append({**row, "kind": "variant", "name": variant.student, "cell": variant.cell,
                         "ok": right and kept,
                         "named": hidden.get(variant.cell, {}).get("misconception") or "",
                         "detail": "" if kept else named.get(variant.cell, "")})
        if bound:
            attack = bound
            cell, text = expect or (None, "")
            reported = expect is None or any(
                f.student == student and cell in (None, f.cell) and text in f.message
                for f in found)
            seen = graded and (attack.attack.unrendered or attack.attack.shown)
            missing = "" if reported else f"no finding {expect!r}; "
            missing += "".join(f"{problem}; " for problem in (
                _page_problems(assignment, student, attack.attack) if seen else []))
            got = ", ".join(f"{c} {scores[c]:g}" for c in functions if scores[c] is not None)
            ok = right and not missing
            rows.append({**row, "kind": "attack", "name": escape(student),
                         "cell": {UNGRADED: "not graded", ANY: "any"}.get(zero)
                         if zero in (UNGRADED, ANY)
                         else " ".join(zero),
                         "ok": ok,
                         "detail": attack.why if ok else
                         f"{missing}"
                         f"{'scores ' + got if graded else record.problem or 'not graded'}"})
        elif not want["mistakes"] and not want["variants"]:
            rows.append({**row, "kind": "sample", "name": student, "cell": "", "ok": right,
                         "detail": ""})
    return rows


def batch_row(batches, expected):
    """The row on what grading left: course files, gradebook, processes, the report's lines."""
    batch = batches[-1]["results"].batch
    graded = sum(1 for wants in expected.values() for want in wants.values()
                 if want["zero"] not in (UNGRADED, ANY))
    forged = [line for b in batches for line in b["report"] if line.startswith(FORGED)]
    done = [b["results"].batch for b in batches]
    problems = [
        *(f"course files changed: {each.course_files_changed}" for each in done
          if each.course_files_changed),
        *(f"gradebook integrity {each.gradebook_integrity}" for each in done
          if each.gradebook_integrity != "ok"),
        *(f"{each.processes_left} sandbox processes left" for each in done
          if each.processes_left),
        *(["forged report lines: " + " / ".join(forged)] if forged else []),
        *(f"the report's {len(b['report'])} lines are not its {len(b['results'].findings)} "
          "findings and checks rendered" for b in batches
          if b["report"] != report_lines(b["results"]))]
    recorded = sum(each.submissions_recorded for each in done)
    if recorded < graded:
        problems.append(f"{recorded} submissions recorded, {graded} graded")
    processes = ("no process left" if batch.processes_left == 0
                 else "processes not counted (no sandbox)")
    return {"assignment": "", "kind": "batch",
            "name": "course files, gradebook, processes, report", "student": "", "cell": "",
            "ok": not problems,
            "detail": "; ".join(problems) or (
                f"course files unchanged, gradebook integrity ok, {recorded} submissions "
                f"recorded, {processes}, no forged line; last batch {batch.seconds} s")}


KINDS = ("mistake", "variant", "attack", "sample", "batch")


def misconceptions_named(rows):
    """(mistakes the grader named top-1 as themselves, mistakes, [(mistake, named as)] of the
    others, correct variants named as a mistake)."""
    mistakes = [r for r in rows if r["kind"] == "mistake"]
    others = [(r["name"], r["named"]) for r in mistakes if r["named"] != r["name"]]
    variants = [r["name"] for r in rows if r["kind"] == "variant" and r["named"]]
    return len(mistakes) - len(others), len(mistakes), others, variants


def summary(rows, batches):
    count = {kind: (sum(r["ok"] for r in rows if r["kind"] == kind),
                    sum(1 for r in rows if r["kind"] == kind)) for kind in KINDS}
    named, mistakes, others, variants = misconceptions_named(rows)
    graded = sum(b["results"].batch.submissions for b in batches)
    seconds = sum(b["results"].batch.seconds for b in batches)
    names = ", ".join(sorted({r["assignment"] for r in rows if r["assignment"]}))
    return (f"kill rate: {count['mistake'][0]}/{count['mistake'][1]} mistakes lost their cell's "
            f"points with feedback naming it; correct variants accepted: "
            f"{count['variant'][0]}/{count['variant'][1]}; attacks contained: "
            f"{count['attack'][0]}/{count['attack'][1]}; sample submissions as expected: "
            f"{count['sample'][0]}/{count['sample'][1]}; course files, gradebook, processes "
            f"and report intact: {'yes' if count['batch'][0] == count['batch'][1] else 'NO'}\n"
            f"misconceptions named top-1: {named}/{mistakes} (at least "
            f"{MISCONCEPTIONS_NAMED:.0%} required; the others: "
            f"{', '.join(f'{m} as {n}' for m, n in others) or 'none'}); correct variants named "
            f"as a mistake: {len(variants)}\n"
            f"graded {graded} submissions of {names} in {len(batches)} batches, {seconds:.0f} s")


class _Answers(http.server.BaseHTTPRequestHandler):
    """The instructors' answer cells, served on the loopback: the network attack's target."""
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def answer_server(chosen):
    _Answers.body = "\n\n".join(text for assignment in chosen for text in
                                 solution_sources(assignment.source()).values()).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def grade_batch(assignment, students, jobs, unsafe):
    """Grade `students`' submissions of `assignment` in AUDIT with course.grade: its Results
    (grading_results.json) and its report's lines, or None."""
    command = [sys.executable, "-m", "course.grade", "--jobs", str(jobs),
               *(["--unsafe-no-sandbox"] if unsafe else []), "--assignment", assignment.name,
               "--", *students]
    run = subprocess.run(command, cwd=AUDIT, capture_output=True, text=True)
    with open(ROOT / "reports" / "grade_audit_output.txt", "a") as handle:
        handle.write(run.stdout + run.stderr)
    reports = AUDIT / "reports" / assignment.name
    if run.returncode not in (0, 1) or not (reports / "grading_results.json").exists():
        print(run.stdout[-3000:] + run.stderr[-3000:], file=sys.stderr)
        return None
    return (Results.read(reports / "grading_results.json"),
            (reports / "grading_report.txt").read_text().splitlines())


def through_nbgrader(jobs, unsafe=False, only=(), names=None):
    chosen = audited(names)
    server = answer_server(chosen)
    attacks = [a for a in ATTACKS if a.unsafe] if unsafe else ATTACKS
    files, expected = audit_submissions({"port": server.server_address[1]}, chosen, attacks)
    for name in files:
        wanted = [*only, *(s for s in files[name] if "attack" in expected[name][s]),
                  "instructor-solution"] if unsafe else only  # the attacks alone, if unsafe
        if wanted:
            files[name] = {s: f for s, f in files[name].items() if s in wanted}
            expected[name] = {s: expected[name][s] for s in files[name]}
    prepare(files)
    later = {a.student for a in attacks if a.later}
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "grade_audit_output.txt").write_text("")
    batches, rows, graded = [], [], {}
    for assignment in chosen:
        students = files[assignment.name]
        records, found = {}, []
        for batch in ([s for s in sorted(students) if s not in later],
                      [s for s in sorted(students) if s in later]):
            if not batch:
                continue
            print(f"grading {len(batch)} submissions of {assignment.name} in "
                  f"{AUDIT.relative_to(ROOT)}/ through nbgrader"
                  f"{' WITHOUT the sandbox' if unsafe else ''}", flush=True)
            graded_batch = grade_batch(assignment, batch, jobs, unsafe)
            if graded_batch is None:
                print("error: grading the audit submissions failed; see "
                      "reports/grade_audit_output.txt", file=sys.stderr)
                return 2
            results, report = graded_batch
            batches.append({"assignment": assignment.name, "results": results,
                            "report": report})
            records.update(results.submissions)
            found += results.findings
        graded[assignment.name] = {  # grading_results.json's, over the assignment's batches
            "submissions": {s: record.to_json() for s, record in records.items()},
            "findings": [dataclasses.asdict(finding) for finding in found]}
        rows += check(assignment, expected[assignment.name], records, found)
    server.shutdown()
    rows.append(batch_row(batches, expected))
    (ROOT / "reports" / "grade_audit_results.json").write_text(json.dumps(
        graded | {"batches": [{**dataclasses.asdict(b["results"].batch),
                               "assignment": b["assignment"]} for b in batches]},
        indent=1) + "\n")
    with open(ROOT / "reports" / "grade_audit.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["assignment", "kind", "name", "student", "cell", "ok",
                                         "named", "detail"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['assignment'][:12]:12s} {row['kind']:8s} {row['name'][:40]:40s} "
              f"{'ok' if row['ok'] else 'FAILED':7s} {row['detail'][:100]}")
    print("\n" + summary(rows, batches))
    if unsafe:
        print("(graded WITHOUT the sandbox: an attack row FAILED is an attack that worked)")
    print("written to reports/grade_audit.csv and reports/grade_audit_results.json; the graded "
          f"course (feedback, gradebook) is in {AUDIT.relative_to(ROOT)}/")
    named, mistakes, _, variants = misconceptions_named(rows)
    if named < MISCONCEPTIONS_NAMED * mistakes or variants:
        print(f"error: the grader named {named} of {mistakes} mistakes top-1 (at least "
              f"{MISCONCEPTIONS_NAMED:.0%} required) and {len(variants)} correct variants as a "
              "mistake. Fix: `make references` (the signatures), then the hidden checks.",
              file=sys.stderr)
        return 1
    return 0 if unsafe or all(row["ok"] for row in rows) else 1


def in_process(names=None):
    everything = []
    for assignment in audited(names):
        found = catalog.of(assignment)
        for kind, rows in (("mistake", audit(assignment, found.all_mistakes)),
                           ("variant", audit(assignment, found.variants))):
            for row in rows:
                ok = not row["passed"] if kind == "mistake" else row["passed"]
                verdict = {("mistake", True): "caught", ("mistake", False): "MISSED",
                           ("variant", True): "accepted", ("variant", False): "REJECTED"}[kind, ok]
                print(f"{assignment.name[:12]:12s} {kind:8s} {row['student']:40s} {verdict:9s} "
                      f"{row['message'][:100]}")
                everything.append((kind, ok))
    for kind, verb in (("mistake", "mistakes caught"), ("variant", "correct variants accepted")):
        print(f"{sum(ok for k, ok in everything if k == kind)}/"
              f"{sum(1 for k, _ in everything if k == kind)} {verb}", end="; ")
    print("(in this process)")
    return 0 if all(ok for _, ok in everything) else 1


def make_signatures(names=None):
    """Write hidden/ASSIGNMENT/signatures.npz of the assignments `names` (default: every one with
    a catalog) and say how well they name the mistakes; 1 if below MISCONCEPTIONS_NAMED."""
    low = []
    for assignment in audited(names):
        started = time.perf_counter()
        hidden = HiddenTests(assignment.hidden())
        found = traces.signatures(assignment, hidden, grade_cell_sources(
            assignment.source(), tuple(assignment.points)))
        found.write(assignment.hidden(), hidden.references)
        named, unknown, confused = traces.how_well(found)
        total = len(found.entries)
        print(f"{assignment.name}: {total} signatures in {time.perf_counter() - started:.0f} s; "
              f"each mistake's own trace names it {named}/{total}; left out, it is called "
              f"unknown {unknown}/{total}")
        for name, taken in confused:
            print(f"  {name}: its own trace names {taken}")
        if named < MISCONCEPTIONS_NAMED * total or unknown < MISCONCEPTIONS_NAMED * total:
            low.append(assignment.name)
    if low:
        print(f"error: signatures name under {MISCONCEPTIONS_NAMED:.0%} of the mistakes of "
              f"{', '.join(low)}. Fix: make the hidden checks tell those mistakes apart.",
              file=sys.stderr)
    return 1 if low else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course.audit",
        description="Audit the autograder: every cataloged mistake, correct variant and hostile "
        "submission of every assignment with a catalog, graded through nbgrader.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--assignment", nargs="+", metavar="NAME",
                        help="audit these assignments (default: every one with a catalog)")
    parser.add_argument("--in-process", action="store_true",
                        help="only the catalogs, graded in this process (a minute or two)")
    parser.add_argument("--signatures", action="store_true",
                        help="write hidden/ASSIGNMENT/signatures.npz from the catalogs, in this "
                             "process (course/audit/traces.py)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade the attacks without the sandbox, to see which ones the "
                             "sandbox is what stops (never on a machine you care about)")
    parser.add_argument("--only", nargs="+", default=(), metavar="STUDENT",
                        help="grade only these of the audit's submissions (while debugging)")
    args = parser.parse_args(argv)
    try:
        if args.signatures:
            return make_signatures(args.assignment)
        if args.in_process:
            return in_process(args.assignment)
        return through_nbgrader(args.jobs, args.unsafe_no_sandbox, args.only, args.assignment)
    except (catalog.CatalogError, AssignmentError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
