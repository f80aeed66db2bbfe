"""Grading time per submission, side by side in one run: with the per-submission sandbox, without
it (--unsafe-no-sandbox), and with the grader of an earlier commit (its own sandbox).

    python benchmarks/grading.py [--modes sandbox none baseline] [--jobs 1] [--submissions 12]
                                 [--baseline 079687d] [--rounds 1] [--assignment resnets]

The class: one assignment's sample submissions, then its catalog's mistake packs and correct
variants (course/audit/), the first --submissions of them; no attacks (their timeouts would
measure the timeout, not the grader). Each mode grades the same submissions in a fresh copy of
the course; with --rounds 2 or more the modes alternate, so load on the machine falls on all
of them.
`baseline` grades them with the earlier commit's course.grade (a `git archive` of it in
build/baseline-REF/, this environment, its own sandbox and hidden tests, the assignment's
notebook as it is now). Writes reports/grading_throughput.json
and prints seconds per submission and the difference to the sandbox mode.
"""
import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course import audit  # noqa: E402
from course.core import find  # noqa: E402

PRETRAINED = ROOT / "datasets" / "resnet50.h5"
OLD_PRETRAINED = Path("source") / "resnets" / "resnet50.h5"  # where earlier commits read it


def submissions(assignment, count):
    files, _ = audit.audit_submissions({"port": 0}, [assignment], attacks=[])
    return dict(list(files[assignment.name].items())[:count])


def baseline_course(ref, assignment):
    """A copy of commit `ref` in build/baseline-REF/, with this course's datasets and model, and
    this course's version of the assignment (its source and release folders): the earlier
    grader, grading the assignment as it is now (its gradebook must know the notebook's cells)."""
    folder = ROOT / "build" / f"baseline-{ref}"
    if not folder.exists():
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        shutil.rmtree(folder / "datasets", ignore_errors=True)
        (folder / "datasets").symlink_to((ROOT / "datasets").resolve())
    for part in ("source", "release"):
        shutil.rmtree(folder / part / assignment.name, ignore_errors=True)
        shutil.copytree(ROOT / part / assignment.name, folder / part / assignment.name)
    old = folder / OLD_PRETRAINED  # earlier commits read the model from their source folder
    if old.is_symlink() and not old.exists():
        old.unlink()
    if PRETRAINED.exists() and not old.exists():
        old.symlink_to(PRETRAINED)
    return folder


def grade_baseline(folder, files, jobs, assignment):
    """Seconds for the earlier commit's grader on `files` ({student: files} of `assignment`),
    set up by its own audit module (which, before it had course/assignments.py, knew one
    assignment)."""
    staged = folder.parent / f"{folder.name}-submissions"
    shutil.rmtree(staged, ignore_errors=True)
    for student, contents in files.items():
        for name, data in contents.items():
            (staged / student).mkdir(parents=True, exist_ok=True)
            (staged / student / name).write_bytes(data)
    code = ("import sys\nfrom pathlib import Path\n"
            f"sys.path.insert(0, {str(folder)!r})\nfrom course import audit\n"
            f"files = {{d.name: {{f.name: f.read_bytes() for f in d.iterdir()}} "
            f"for d in Path({str(staged)!r}).iterdir()}}\n"
            "several = Path('course/assignments.py').exists()  # the earlier commit's layout\n"
            f"audit.prepare({{{assignment.name!r}: files}} if several else files)\n")
    subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, capture_output=True)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "course.grade", "--jobs", str(jobs)],
                         cwd=folder / "build" / "grade-audit", capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"error: the baseline grader failed:\n{run.stdout[-2000:]}"
                         f"{run.stderr[-2000:]}")
    return seconds


def grade_here(assignment, files, jobs, unsafe):
    """Seconds for this commit's grader on `files`, and its grading results."""
    audit.prepare({assignment.name: files})
    start = time.perf_counter()
    graded = audit.grade_batch(assignment, list(files), jobs, unsafe)
    seconds = time.perf_counter() - start
    if graded is None:
        raise SystemExit("error: grading failed; see reports/grade_audit_output.txt")
    return seconds, graded[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["sandbox", "none", "baseline"],
                        choices=["sandbox", "none", "baseline"])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--submissions", type=int, default=12)
    parser.add_argument("--baseline", default="079687d",
                        help="the commit whose grader is the baseline (default: the last one "
                             "whose hidden tests ran in a second process, outside nbgrader)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--assignment", default="resnets",
                        help="whose submissions (the baseline grades resnets only)")
    args = parser.parse_args()
    assignment = find(args.assignment)
    files = submissions(assignment, args.submissions)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "grade_audit_output.txt").write_text("")
    seconds = {mode: [] for mode in args.modes}
    for round_ in range(args.rounds):
        for mode in args.modes:
            print(f"round {round_ + 1}: grading {len(files)} submissions, {mode}, "
                  f"{args.jobs} job(s)...", flush=True)
            if mode == "baseline":
                took = grade_baseline(baseline_course(args.baseline, assignment), files, args.jobs,
                                      assignment)
            else:
                took, results = grade_here(assignment, files, args.jobs, unsafe=mode == "none")
                graded = sum(r.graded for r in results.submissions.values())
                if graded != len(files):
                    raise SystemExit(f"error: {mode}: only {graded} of {len(files)} graded")
            seconds[mode].append(took)
            print(f"  {took:.1f} s, {took / len(files):.2f} s per submission", flush=True)
    import keras
    import nbgrader
    import tensorflow as tf

    rows = {mode: {"seconds": [round(s, 1) for s in runs],
                   "seconds_per_submission": round(sum(runs) / len(runs) / len(files), 2)}
            for mode, runs in seconds.items()}
    bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    report = {"command": "python benchmarks/grading.py --modes " + " ".join(args.modes) +
                         f" --jobs {args.jobs} --submissions {args.submissions} "
                         f"--baseline {args.baseline} --rounds {args.rounds}",
              "submissions": list(files), "jobs": args.jobs,
              "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                           "keras": keras.__version__, "nbgrader": nbgrader.__version__,
                           "bubblewrap": bwrap},
              "results": rows}
    out = ROOT / "reports" / "grading_throughput.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'mode':>9s} {'s/submission':>13s} {'vs sandbox':>11s}")
    for mode, row in rows.items():
        difference = (row["seconds_per_submission"] - rows["sandbox"]["seconds_per_submission"]
                      if "sandbox" in rows else float("nan"))
        print(f"{mode:>9s} {row['seconds_per_submission']:>13.2f} {difference:>+11.2f}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
