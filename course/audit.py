"""Audit the grade cells against the catalog: every mistake caught, every variant accepted.

    python -m course.audit            # writes reports/audit.csv, prints the table and kill rate

Runs each catalog entry's cell checks in this process (the public test, then the hidden check,
as the grade cell does), so the whole catalog takes minutes; `make autograde` grades the bundled
submissions through nbgrader itself.
"""
import csv
import io
import os
import sys
import time
from contextlib import redirect_stdout

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from course.catalog import MUTANTS, VARIANTS  # noqa: E402
from course.notebook import ROOT, run_answers, solution_sources  # noqa: E402
from course.submissions import apply  # noqa: E402

for folder in (ROOT / "source" / "resnets", ROOT / "hidden" / "resnets"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def grade_cell(cell, function):
    """(passed, message) of the grade cell for answer cell `cell`, run on `function`."""
    import hidden_checks
    import public_tests

    public = getattr(public_tests, f"{cell}_test")
    hidden = getattr(hidden_checks, f"check_{cell}")
    try:
        with redirect_stdout(io.StringIO()):
            public(function)
            hidden(function)
    except Exception as error:  # a grade cell fails on any exception, so the audit does too
        return False, f"{type(error).__name__}: {error}".splitlines()[0]
    return True, ""


def audit(entries):
    """One row per catalog entry: student, cell, why, passed, message, seconds."""
    answers = solution_sources()
    rows = []
    for entry in entries:
        start = time.perf_counter()
        namespace = run_answers(apply(entry, answers))
        passed, message = grade_cell(entry.cell, namespace[entry.cell])
        rows.append({"student": entry.student, "cell": entry.cell, "why": entry.why,
                     "passed": passed, "message": message,
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def main():
    mutants, variants = audit(MUTANTS), audit(VARIANTS)
    out = ROOT / "reports" / "audit.csv"
    out.parent.mkdir(exist_ok=True)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["kind", "student", "cell", "why", "passed", "message",
                                         "seconds"])
        writer.writeheader()
        for kind, rows in (("mistake", mutants), ("variant", variants)):
            for row in rows:
                writer.writerow({"kind": kind, **row})
    for kind, rows in (("mistake", mutants), ("variant", variants)):
        for row in rows:
            verdict = ("caught" if not row["passed"] else "MISSED") if kind == "mistake" else (
                "accepted" if row["passed"] else "REJECTED")
            print(f"{kind:8s} {row['student']:40s} {verdict:9s} {row['message'][:110]}")
    killed = sum(not row["passed"] for row in mutants)
    accepted = sum(row["passed"] for row in variants)
    print(f"\nkill rate {killed}/{len(mutants)} mistakes caught; {accepted}/{len(variants)} "
          f"correct variants accepted. Written to {out}.")
    return 0 if killed == len(mutants) and accepted == len(variants) else 1


if __name__ == "__main__":
    sys.exit(main())
