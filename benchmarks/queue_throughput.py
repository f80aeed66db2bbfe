"""Grading throughput on this machine: locally (course.grade --jobs 1 and 2) and on the task
queue (course.grade --queue, one and two Celery workers), side by side in one run.

    python benchmarks/queue_throughput.py [--submissions 6] [--rounds 2] [--assignment beyond]

As root (the sandbox). A throwaway Redis (.ci/redis, in its own folder); a coordinator course
copy (build/bench-queue/) holding SUBMISSIONS copies of the assignment's instructor solution;
worker course copies build/bench-queue-worker-N/. Each round grades the whole class once per
setting, the settings alternating round by round, so that a noisy neighbour slows them alike.
Records per setting: wall seconds, submissions per minute, the median seconds per submission,
the CPU seconds of course.grade and what it ran (on a queue, the coordinator's: its nbgrader
processes, whose pipeline runs there) and the median and largest peak memory of a
submission's kernel (its memory control group, grading_results.json), with the CPU and
versions; appends the record to reports/queue_throughput.jsonl and prints a table.
"""
import argparse
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from machine import cpu  # noqa: E402

from course.audit import SOLUTION, submissions  # noqa: E402
from course.core import Results, assignments, copy_course, nbgrader_environment  # noqa: E402

COURSE = ROOT / "build" / "bench-queue"
REDIS = Path("/tmp/course-redis-bench")
SETTINGS = ("local, 1 job", "local, 2 jobs", "queue, 1 worker", "queue, 2 workers")


def results(course, name):
    return Results.read(course / "reports" / name / "grading_results.json")


def batch(course, name, students, setting, broker, environment):
    """Grade the class once with `setting`; (wall seconds, grading_results.json, CPU seconds
    of course.grade and every process it waited for: on a queue, the coordinator's alone, the
    workers' kernels being theirs)."""
    for folder in ("autograded", "feedback"):
        subprocess.run(["rm", "-rf", str(course / folder)], check=True)
    command = [sys.executable, "-m", "course.grade", "--assignment", name, "--", *students]
    if setting.startswith("local"):
        command[3:3] = ["--jobs", setting.split(", ")[1].split()[0]]
    else:
        command[3:3] = ["--queue", broker]
    start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(command, cwd=course, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    if run.returncode != 0:
        raise SystemExit(f"error: {setting}: course.grade exited {run.returncode}: "
                         f"{run.stderr.strip()[-500:]}")
    return seconds, results(course, name), spent


def start_workers(count, broker, environment, name):
    """`count` workers on this one machine, each kernel's threads capped at its share of the
    cores (COURSE_SANDBOX_THREADS), as whoever runs several workers on a machine should."""
    environment = {**environment,
                   "COURSE_SANDBOX_THREADS": str(max(1, (os.cpu_count() or 1) // count))}
    workers = []
    for number in range(1, count + 1):
        copy = ROOT / "build" / f"bench-queue-worker-{number}"
        if not (copy / "gradebook.db").exists():
            copy_course(copy, names=[name])
        log = open(ROOT / "build" / f"bench-queue-worker-{number}.log", "w")
        workers.append((subprocess.Popen(
            [sys.executable, "-m", "course.queue", "worker", "--broker", broker, "--root",
             str(copy), "--name", f"bench{number}"], cwd=copy, env=environment, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True), log))
    deadline = time.monotonic() + 180
    while not all("ready." in Path(log.name).read_text() for _, log in workers):
        if time.monotonic() > deadline:
            raise SystemExit("error: the workers did not start; see build/bench-queue-worker-*")
        time.sleep(0.5)
    return workers


def stop_workers(workers):
    for process, log in workers:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--assignment", default="beyond")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("error: grading needs root (the sandbox). Fix: run it as root.")
    found = assignments(ROOT)[args.assignment]
    environment = {**nbgrader_environment(), "COURSE_REDIS_DIR": str(REDIS),
                   "COURSE_QUEUE_NAME": "bench"}
    subprocess.run([str(ROOT / ".ci" / "redis"), "start"], env=environment, check=True)
    broker = f"redis+socket://{REDIS}/redis.sock"
    copy_course(COURSE, names=[args.assignment])
    notebook = submissions(found)[SOLUTION]
    students = [f"bench-{n:03d}" for n in range(1, args.submissions + 1)]
    import nbformat

    for student in students:
        folder = COURSE / "submitted" / student / args.assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / found.notebook)
    measured = {setting: [] for setting in SETTINGS}
    try:
        for round_number in range(args.rounds):
            order = SETTINGS if round_number % 2 == 0 else tuple(reversed(SETTINGS))
            for setting in order:
                workers = (start_workers(int(setting.split(", ")[1][0]), broker, environment,
                                         args.assignment) if setting.startswith("queue") else [])
                try:
                    seconds, graded, spent = batch(COURSE, args.assignment, students, setting,
                                                   broker, environment)
                finally:
                    stop_workers(workers)
                records = graded.submissions.values()
                measured[setting].append({
                    "wall_seconds": round(seconds, 1),
                    "per_minute": round(60 * len(students) / seconds, 2),
                    "graded": sum(r.graded for r in records),
                    "seconds_each": [r.seconds for r in records],
                    "grade_cpu_seconds": round(spent, 1),
                    "peak_memory_mib": [r.peak_memory_mib for r in records]})
                print(f"round {round_number + 1}, {setting}: {seconds:.0f} s, "
                      f"{measured[setting][-1]['per_minute']} submissions/min", flush=True)
    finally:
        subprocess.run([str(ROOT / ".ci" / "redis"), "stop"], env=environment)
    machine = cpu()
    record = {"date": datetime.date.today().isoformat(), "command": " ".join(sys.argv),
              "assignment": args.assignment, "submissions": len(students),
              "cpu": {k: v for k, v in machine.items() if k != "flags"},
              "avx512": "avx512f" in machine["flags"], "settings": measured}
    out = ROOT / "reports" / "queue_throughput.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "a") as handle:
        handle.write(json.dumps(record) + "\n")
    print("| setting | submissions/min (each round) | median s per submission (queue: checked to "
          "recorded) | course.grade's CPU s per submission (queue: the coordinator's) | peak "
          "memory per submission, MiB (median, largest) |\n| --- | --- | --- | --- | --- |")
    for setting, runs in measured.items():
        seconds = [s for run in runs for s in run["seconds_each"]]
        peaks = [p for run in runs for p in run["peak_memory_mib"] if p is not None]
        memory = f"{statistics.median(peaks):.0f}, {max(peaks)}" if peaks else "not measured"
        each = statistics.median(run["grade_cpu_seconds"] / len(students) for run in runs)
        print(f"| {setting} | {' / '.join(str(run['per_minute']) for run in runs)} | "
              f"{statistics.median(seconds):.1f} | {each:.1f} | {memory} |")
    print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
