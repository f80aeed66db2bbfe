"""Grading throughput: one class graded through nbgrader with 1, 2 and 3 parallel jobs.

    python benchmarks/grading.py [--jobs 1 2 3]

The class: the bundled submissions, the catalog's mistakes packed one per graded function (see
course/audit.py) and the correct variants: 23 ordinary submissions, no attacks (their timeouts
would measure the timeout, not the grader). The course is copied to build/grade-audit/ and the
same submissions are graded once per job count, one after the other, in this run. Writes
reports/grading_throughput.json and prints seconds per submission, submissions per minute and
the speed-up over one job.
"""
import argparse
import json
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course import audit  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    files, _ = audit.audit_submissions()
    files = {s: f for s, f in files.items() if not s.startswith("adversarial-")}
    audit.prepare(files)
    results = []
    for jobs in args.jobs:
        print(f"grading {len(files)} submissions with {jobs} job(s)...", flush=True)
        run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", str(jobs)],
                             cwd=audit.AUDIT, capture_output=True, text=True)
        found = re.search(r"graded (\d+) submissions in (\d+) s with (\d+) jobs: ([\d.]+) s per "
                          r"submission, ([\d.]+) submissions per minute", run.stdout)
        if run.returncode != 0 or not found:
            print(run.stdout[-2000:] + run.stderr[-2000:], file=sys.stderr)
            print(f"error: grading with {jobs} jobs failed", file=sys.stderr)
            return 1
        results.append({"jobs": jobs, "submissions": int(found.group(1)),
                        "seconds": int(found.group(2)),
                        "seconds_per_submission": float(found.group(4)),
                        "submissions_per_minute": float(found.group(5))})
        print(f"  {results[-1]}", flush=True)
    base = results[0]["seconds"]
    for result in results:
        result["speedup_over_first"] = round(base / result["seconds"], 2)
    import keras
    import nbgrader
    import tensorflow as tf

    report = {"command": "python benchmarks/grading.py --jobs " + " ".join(map(str, args.jobs)),
              "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                           "keras": keras.__version__, "nbgrader": nbgrader.__version__},
              "results": results}
    out = ROOT / "reports" / "grading_throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'jobs':>4s} {'s/submission':>13s} {'submissions/min':>16s} {'speed-up':>9s}")
    for r in results:
        print(f"{r['jobs']:>4d} {r['seconds_per_submission']:>13.1f} "
              f"{r['submissions_per_minute']:>16.1f} {r['speedup_over_first']:>9.2f}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
