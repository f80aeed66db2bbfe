"""Whose work may not be their own: pairs of submissions whose answers or whose printed runs are
more alike than independent work is, for a person to judge (reports/ASSIGNMENT/similarity.html).
It never changes a grade.

Code. Each graded function's answer cell is compared with every classmate's by copydetect
(winnowed fingerprints of the tokenized code, as MOSS does: names, comments and spacing do not
count). Left out as boilerplate: the release's own code of that cell, and code that more than
CODE_HOLDERS submissions hold (MOSS's -m): ResNet answers are nearly dictated by the
specification, and code that classmates wrote alike too points at no pair. Each function gets
its own threshold from what honest work looks like under the same boilerplate: the catalog's
correct answers, written independently (its VARIANTS and the solution,
hidden/ASSIGNMENT/catalog.py), compared with each other; the threshold is their highest
similarity plus MARGIN, and where that passes 1, code cannot tell copying from honest work for
that function and is not used. A pair is flagged by its code when MIN_FUNCTIONS of its functions
are above their thresholds: a copier hands in a whole notebook, while two honest students may
write one rare answer alike (docs/results.md, "The instructor's reports"). So a copy of one
function, a copy of an answer that classmates wrote alike, and a copy shared by three or more
are not found by their code; their printed runs may still show them.

Outputs. Two independent runs never print the same losses and accuracies. The lines a
submission's own cells printed (as submitted) with NUMBERS_PER_LINE or more numbers of DECIMALS
or more decimals are compared whole: a pair is flagged by its outputs when it printed
SHARED_LINES of the same lines that few submissions print (`run_holders`; what every run prints,
a seeded constant, is no evidence).

Pairs are listed strongest first: shared runs, then the most functions above threshold.
Everything a student wrote reaches the page escaped, under a policy that runs no script; a
notebook that cannot be read, or a cell past MAX_CELL characters, is named in the report (the
cell cut) and never stops it for the others.
"""
import dataclasses
import html
import io
import itertools
import json
import math
import re

import numpy as np
from copydetect import CodeFingerprint, compare_files, defaults

from course.audit import catalog
from course.core import escape, safe_id, solution_sources

MARGIN = 0.05  # above the most alike honest pair: a copy must be clearly more alike
MIN_FUNCTIONS = 2  # graded functions above their thresholds before a pair's code flags it
MAX_CELL = 100_000  # characters of one answer compared; past it the cell is cut (and named)
MAX_NOTEBOOK = 50_000_000  # bytes of a submitted notebook read; past it, it is skipped (named)
DECIMALS = 3  # a printed number with this many decimals or more is a run's (a loss, a metric)
NUMBERS_PER_LINE = 2  # a line of a run prints at least this many (Keras: loss and a metric)
SHARED_LINES = 2  # lines of a run two submissions print alike before their outputs are flagged
CODE_HOLDERS = 2  # code more submissions hold is no evidence against a pair (MOSS's -m, "the
# maximum number of times a given passage may appear before it is ignored", at its strictest:
# what a classmate wrote alike too points at no one; the benchmark's class of 250 with 12 copies,
# on one function: 5 % of the class flagged 3223 pairs, 3 flagged 21, 2 flagged 6, docs/results.md)
RUN_HOLDERS = (5, 0.02)  # a line of a run printed by more submissions than the larger of these
# (a count, a share of the class) is what every run prints (a seeded constant); a group that
# copied one run prints it a few times
NUMBER = re.compile(rf"-?\d+\.\d{{{DECIMALS},}}(?:e[-+]?\d+)?")
K = defaults.NOISE_THRESHOLD  # copydetect's k-gram length and window (its defaults)
WINDOW = defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1


def fingerprint(code, boilerplate):
    """copydetect's fingerprint of one answer's code (Python), the boilerplate removed."""
    return CodeFingerprint("answer.py", K, WINDOW, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def similarity(first, second):
    """(similarity, (slices of first, slices of second)): the share of either answer's own code
    (its tokens outside the boilerplate) that the other holds too, the larger of the two
    (copydetect's), and where in each one's text the shared parts are."""
    if not first.token_coverage or not second.token_coverage:
        return 0.0, ((), ())
    _, shares, slices = compare_files(first, second)
    return float(max(shares)), slices


@dataclasses.dataclass(frozen=True)
class Threshold:
    """One function's threshold (None: code not used for it) and the honest work it comes
    from: `honest` pairs' similarities, the most alike one named."""
    function: str
    value: float | None
    honest: list
    most_alike: str

    @property
    def why(self):
        top = max(self.honest, default=0.0)
        base = (f"the {len(self.honest)} pairs of the catalog's correct answers (solution and "
                f"variants) are at most {top:.2f} alike ({self.most_alike})")
        if self.value is None:
            return (f"{base}: honest answers are as alike as copies, so code is not used as "
                    "evidence for this function")
        return f"{base}; {top:.2f} + margin {MARGIN:.2f}"


class Reference:
    """What the comparison of one assignment starts from: the release's code of each answer
    cell (boilerplate) and the catalog's correct answers (what honest work looks like)."""

    def __init__(self, assignment):
        self.assignment = assignment
        release = _cells(json.loads(assignment.release().read_text()))
        self.release = {f: fingerprint(release.get(f, ""), None).hashes
                        for f in assignment.functions}
        found = catalog.of(assignment) if catalog.has_catalog(assignment) else None
        solution = solution_sources(assignment.source())
        self.honest = {f: {"solution": solution[f]} for f in assignment.functions}
        for entry in found.variants if found else []:  # no catalog: no threshold
            self.honest[entry.cell][entry.student] = catalog.apply(entry, solution)[entry.cell]

    def threshold(self, function, boilerplate):
        """The Threshold of `function`: its honest answers compared with each other under
        `boilerplate` (the one the class is compared under)."""
        prints = {name: fingerprint(code, boilerplate)
                  for name, code in self.honest[function].items()}
        pairs = {f"{a} and {b}": similarity(prints[a], prints[b])[0]
                 for a, b in itertools.combinations(prints, 2)}
        top = max(pairs.values(), default=0.0)
        most = max(pairs, key=pairs.get) if pairs else "no pair"
        value = top + MARGIN if pairs and top + MARGIN <= 1.0 else None
        return Threshold(function, value, sorted(pairs.values()), most)


def _cells(notebook):
    """{grade_id: source} of a notebook's code cells (its JSON)."""
    found = {}
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = (meta.get("nbgrader") or {}).get("grade_id") if isinstance(meta, dict) else None
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        source = "".join(source) if isinstance(source, list) else source
        if (isinstance(grade_id, str) and isinstance(source, str)
                and cell.get("cell_type") == "code"):
            found[grade_id] = source
    return found


def _printed(notebook):
    """[(cell index, line)] of what a notebook's code cells printed (streams, results)."""
    lines = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if not isinstance(output, dict):
                continue
            text = output.get("text", "")
            data = output.get("data", {})
            if not text and isinstance(data, dict):
                text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            lines += [(index, line) for line in text.splitlines() if NUMBER.search(line)]
    return lines


@dataclasses.dataclass
class Submission:
    """One student's answers ({function: code}), what their cells printed ([(cell, line)]) and
    what could not be read."""
    student: str
    answers: dict
    printed: list
    problems: list

    @classmethod
    def read(cls, student, path, functions):
        problems = []
        try:
            if path.stat().st_size > MAX_NOTEBOOK:
                raise ValueError(f"larger than {MAX_NOTEBOOK:,} bytes")
            notebook = json.loads(path.read_text(errors="replace"))
            if not isinstance(notebook, dict):
                raise ValueError("not a notebook")
            cells = _cells(notebook)
            printed = _printed(notebook)
        except (OSError, ValueError, RecursionError, AttributeError, TypeError) as error:
            return cls(student, {}, [], [f"notebook not read ({type(error).__name__}: "
                                         f"{escape(error, 120)})"])
        answers = {}
        for function in functions:
            code = cells.get(function, "")
            if len(code) > MAX_CELL:
                problems.append(f"{function}: {len(code):,} characters, the first "
                                f"{MAX_CELL:,} compared")
                code = code[:MAX_CELL]
            answers[function] = code
        return cls(student, answers, printed, problems)

    def runs(self):
        """The lines of a run this submission printed, each as its numbers: ("0.5123",
        "1.2345", ...) for a line with at least NUMBERS_PER_LINE of them."""
        return {numbers for _, line in self.printed
                if len(numbers := tuple(NUMBER.findall(line))) >= NUMBERS_PER_LINE}


@dataclasses.dataclass
class Pair:
    """Two students and the evidence: {function: (similarity, slices)} above threshold, and the
    lines of a run both printed ([numbers of a line])."""
    first: str
    second: str
    code: dict
    lines: list

    @property
    def flagged_by(self):
        return [kind for kind, found in (("code", len(self.code) >= MIN_FUNCTIONS),
                                         ("outputs", self.lines)) if found]


def run_holders(size):
    """How many submissions of a class of `size` may print a line of a run before it is what
    every run prints."""
    return max(RUN_HOLDERS[0], math.ceil(RUN_HOLDERS[1] * size))


def compare(reference, submissions):
    """(pairs flagged, {function: Threshold}) of `submissions` ([Submission])."""
    thresholds, above = {}, {}  # above: (first, second) -> {function: (similarity, slices)}
    for function in reference.assignment.functions:
        codes = {s.student: s.answers.get(function, "") for s in submissions
                 if s.answers.get(function, "").strip()}
        held = {}
        for student, code in codes.items():
            for value in fingerprint(code, None).hashes - reference.release[function]:
                held.setdefault(value, []).append(student)
        boilerplate = np.array(sorted(reference.release[function] | {
            value for value, students in held.items() if len(students) > CODE_HOLDERS}))
        thresholds[function] = threshold = reference.threshold(function, boilerplate)
        if threshold.value is None:
            continue
        candidates = {pair for students in held.values() if len(students) <= CODE_HOLDERS
                      for pair in itertools.combinations(sorted(students), 2)}
        prints = {}
        for a, b in sorted(candidates):
            for student in (a, b):
                if student not in prints:
                    prints[student] = fingerprint(codes[student], boilerplate)
            value, slices = similarity(prints[a], prints[b])
            if value >= threshold.value:
                above.setdefault((a, b), {})[function] = (value, slices)
    shared = _shared_lines(submissions)
    pairs = [Pair(*key, above.get(key, {}), sorted(shared.get(key, [])))
             for key in sorted(set(above) | set(shared))
             if len(above.get(key, {})) >= MIN_FUNCTIONS or key in shared]
    return sorted(pairs, key=lambda p: (not p.lines, -len(p.code),
                                        -sum(value for value, _ in p.code.values()))), thresholds


def _shared_lines(submissions):
    """{(first, second): [lines]} of pairs whose cells printed SHARED_LINES or more of the same
    lines of a run (the same numbers, in the same order) that at most `run_holders` of the class
    print."""
    printed_by, most = {}, run_holders(len(submissions))
    for s in submissions:
        for line in s.runs():
            printed_by.setdefault(line, []).append(s.student)
    together = {}
    for line, students in printed_by.items():
        if len(students) <= most:
            for pair in itertools.combinations(sorted(students), 2):
                together.setdefault(pair, []).append(line)
    return {pair: lines for pair, lines in together.items() if len(lines) >= SHARED_LINES}


# --- the page ---------------------------------------------------------------------------------
STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:110em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em;vertical-align:top;
text-align:left}.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;font-size:.85em;
white-space:pre-wrap}mark{background:#f5c26b}h3{margin-bottom:.2em}"""


def _marked(code, slices):
    """`code` escaped, the parts in `slices` (copydetect's starts and ends) in <mark>."""
    out, at = [], 0
    starts, ends = (list(slices[0]), list(slices[1])) if len(slices) == 2 else ([], [])
    for start, end in sorted(zip(starts, ends)):
        start, end = max(int(start), at), min(int(end), len(code))
        if start >= end:
            continue
        out += [html.escape(code[at:start]), "<mark>", html.escape(code[start:end]), "</mark>"]
        at = end
    return "".join(out) + html.escape(code[at:])


def page(assignment, submissions, pairs, thresholds):
    """similarity.html: the thresholds and why, then each flagged pair side by side."""
    by_student = {s.student: s for s in submissions}
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(f)}</td><td>{'not used' if t.value is None else f'{t.value:.2f}'}</td>"
        f"<td>{e(t.why)}</td></tr>" for f, t in thresholds.items())
    problems = "".join(f"<li>{e(s.student)}: {e(p)}</li>" for s in submissions
                       for p in s.problems)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        f"<title>{e(assignment.name)}: similarity</title><style>{STYLE}</style></head><body>",
        f"<main><h1>{e(assignment.name)}: submissions more alike than independent work</h1>",
        f"<p>{len(submissions)} submissions compared; {len(pairs)} pairs flagged. This report "
        "is for a person to judge: it changes no grade. A pair is flagged by its code when "
        f"{MIN_FUNCTIONS} or more graded functions' answers are more alike than their "
        "thresholds (code that more than "
        f"{CODE_HOLDERS} submissions hold is left out: it points at no pair), "
        f"by its outputs when its cells printed {SHARED_LINES} or more of the same lines of a "
        f"run (each with {NUMBERS_PER_LINE} or more numbers of {DECIMALS} or more decimals, "
        f"printed by at most {run_holders(len(submissions))} submissions).</p>",
        "<h2>Thresholds</h2><table><thead><tr><th>function</th><th>threshold</th>"
        f"<th>why</th></tr></thead><tbody>{rows}</tbody></table>",
        f"<h2>Not compared in full</h2><ul>{problems}</ul>" if problems else "",
        "<h2>Pairs</h2>" + ("" if pairs else "<p>No pair above threshold.</p>")]
    for number, pair in enumerate(pairs, 1):
        a, b = by_student[pair.first], by_student[pair.second]
        parts.append(f"<section><h3 id='pair-{number}'>{number}. {e(a.student)} and "
                     f"{e(b.student)}: flagged by {' and '.join(pair.flagged_by)}</h3>")
        for function, (value, slices) in pair.code.items():
            parts.append(
                f"<h4>{e(function)}: {value:.2f} alike (threshold "
                f"{thresholds[function].value:.2f})</h4><div class='side'>"
                f"<pre tabindex='0'>{_marked(a.answers[function], slices[0])}</pre>"
                f"<pre tabindex='0'>{_marked(b.answers[function], slices[1])}</pre></div>")
        if pair.lines:
            wanted = set(pair.lines)
            shown = [[line for _, line in s.printed if tuple(NUMBER.findall(line)) in wanted][:20]
                     for s in (a, b)]
            parts.append(
                f"<h4>printed the same {len(pair.lines)} lines of a run (the same numbers)</h4>"
                "<div class='side'>"
                + "".join(f"<pre tabindex='0'>{e(chr(10).join(line[:300] for line in lines))}"
                          "</pre>" for lines in shown) + "</div>")
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def report(course, assignment, students, reference=None):
    """Compare the submitted notebooks of `students`; write reports/ASSIGNMENT/similarity.html
    (whole or not at all); return (pairs, thresholds, submissions)."""
    reference = reference or Reference(assignment)
    submissions = [Submission.read(student, course.path("submitted", student, assignment.name)
                                   / assignment.notebook, assignment.functions)
                   for student in students if safe_id(student)]
    pairs, thresholds = compare(reference, submissions)
    folder = course.reports / assignment.name
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "similarity.html.partial"
    partial.write_text(page(assignment, submissions, pairs, thresholds))
    partial.replace(folder / "similarity.html")
    return pairs, thresholds, submissions
