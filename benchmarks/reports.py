"""What the instructor's reports cost (issue 38), for synthetic classes of growing size made from
an assignment's catalog (course/audit/classes.py: honest students, each function the solution, a
variant or a cataloged mistake, with training runs of their own, and one copier in twenty).

    python benchmarks/reports.py [--assignment resnets] [--sizes 50 100 250 500]

For each size, in a throwaway course folder (build/bench-reports/):
- naming: the grader's added work per submission, `Signatures.likely` on each failed cell's
  outputs (the mistake's own, as the kernel would publish them);
- misconceptions: `misconceptions.of_class` and `write` over the autograded notebooks (each a
  submission with its failed cells' verdicts, as the grader leaves them);
- similarity: `similarity.report` over the submitted notebooks, twice: the class as made (many
  answers exactly as the catalog has them), and every answer disguised (names, order, comments:
  no two alike, the worst case for the comparison).
Appends one record per size to docs/reports_cost.jsonl (seconds, the CPU, versions) and draws
docs/reports_cost.png (seconds against class size).
"""
import argparse
import datetime
import json
import platform
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import copydetect  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
from machine import summary  # noqa: E402

from course.audit import classes  # noqa: E402
from course.core import SUFFIX, Course, assignments  # noqa: E402
from course.grading import misconceptions  # noqa: E402
from course.hidden import HiddenTests, Signatures  # noqa: E402
from course.plugins import ExecuteWithHiddenTests  # noqa: E402
from course.term import similarity  # noqa: E402

FOLDER = ROOT / "build" / "bench-reports"
RECORDS, FIGURE = ROOT / "docs" / "reports_cost.jsonl", ROOT / "docs" / "reports_cost.png"
COPIERS = 20  # one copier in this many students


def make_class(assignment, size, disguised, seed=0):
    """A course folder with `size` submitted and autograded notebooks; the failed cells'
    signatures ([(function, Signature)]); {copier: the student copied}."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    for name in ("source", "release", "hidden"):
        (FOLDER / name).symlink_to(ROOT / name)
    course = Course(FOLDER)
    rng = random.Random(seed)
    honest = classes.honest_class(assignment, size - size // COPIERS, seed=seed)
    made = {student: notebook for student, (notebook, _) in honest.items()}
    if disguised:
        made = {student: classes.copied(assignment, notebook, rng, False)
                for student, notebook in made.items()}
    chosen_by = {student: entries for student, (_, entries) in honest.items()}
    originals = {}
    for index in range(size // COPIERS):
        original = originals[f"copier-{index:03d}"] = rng.choice(sorted(honest))
        made[f"copier-{index:03d}"] = classes.copied(assignment, made[original], rng,
                                                     rng.random() < 0.5)
        chosen_by[f"copier-{index:03d}"] = chosen_by[original]
    found = Signatures.of(HiddenTests(assignment.hidden()))
    failed = []
    for student, notebook in made.items():
        chosen = {e.cell: e for e in chosen_by[student] if not e.correct}
        for step in ("submitted", "autograded"):
            path = course.path(step, student, assignment.name) / assignment.notebook
            path.parent.mkdir(parents=True)
            if step == "autograded":
                for cell in notebook.cells:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                    function = grade_id.removesuffix(SUFFIX)
                    if grade_id.endswith(SUFFIX) and function in chosen:
                        cell.metadata[ExecuteWithHiddenTests.VERDICT] = {
                            "passed": False, "message": "differs",
                            "misconception": chosen[function].student}
                        failed.append((function, found.named(chosen[function].student)))
            nbformat.write(notebook, path)
    return course, found, failed, originals


def measure(assignment, size):
    record = {"assignment": assignment.name, "students": size}
    course, found, failed, originals = make_class(assignment, size, disguised=False)
    started = time.perf_counter()
    for function, entry in failed:
        published = entry.error if entry.error is not None else entry.outputs
        found.likely(function, published, entry.public)
    record["naming_seconds_per_failed_cell"] = round(
        (time.perf_counter() - started) / max(len(failed), 1), 4)
    record["failed_cells"] = len(failed)
    started = time.perf_counter()
    rows = misconceptions.of_class(course, assignment)
    misconceptions.write(course.reports / assignment.name, assignment, rows)
    record["misconceptions_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    reference = similarity.Reference(assignment)
    record["reference_seconds"] = round(time.perf_counter() - started, 2)
    for kind, disguised in (("as_made", False), ("all_distinct", True)):
        if disguised:
            course, _, _, originals = make_class(assignment, size, disguised=True)
        started = time.perf_counter()
        pairs, _, _ = similarity.report(course, assignment, sorted(
            p.name for p in (course.root / "submitted").iterdir()), reference)
        record[f"similarity_{kind}_seconds"] = round(time.perf_counter() - started, 2)
        record[f"similarity_{kind}_pairs"] = len(pairs)
        record[f"similarity_{kind}_copies_found"] = sum(
            (p.first, p.second) in originals.items() for p in pairs)
        record[f"similarity_{kind}_copies"] = len(originals)
        record[f"similarity_{kind}_honest_pairs_flagged"] = sum(
            not p.first.startswith("copier") and not p.second.startswith("copier")
            for p in pairs)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="resnets")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 250, 500])
    args = parser.parse_args(argv)
    assignment = assignments(ROOT)[args.assignment]
    common = {"date": datetime.date.today().isoformat(), "cpu": summary(),
              "python": platform.python_version(), "copydetect": copydetect.__version__,
              "command": "python benchmarks/reports.py " + " ".join(argv or sys.argv[1:])}
    records = []
    for size in args.sizes:
        record = {**measure(assignment, size), **common}
        records.append(record)
        with open(RECORDS, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        print({k: v for k, v in record.items() if k not in ("cpu", "command")}, flush=True)
    shutil.rmtree(FOLDER, ignore_errors=True)
    figure, axes = plt.subplots(figsize=(6, 4))
    sizes = [r["students"] for r in records]
    for key, label in (("misconceptions_seconds", "misconception report"),
                       ("similarity_as_made_seconds", "similarity, class as made"),
                       ("similarity_all_distinct_seconds", "similarity, every answer distinct")):
        axes.plot(sizes, [r[key] for r in records], marker="o", label=label)
    axes.set_ylim(bottom=0)
    axes.set_xlabel("students")
    axes.set_ylabel("seconds")
    axes.set_title(f"{assignment.name}: the reports' cost ({records[0]['cpu']['model']}, "
                   f"{records[0]['cpu']['cores']} cores)", fontsize=9)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(FIGURE, dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
