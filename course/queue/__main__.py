"""python -m course.queue copy|worker (course/queue/__init__.py says what each does)."""
import argparse
import sys
from pathlib import Path

from course.queue.app import BROKER_VARIABLE, QueueError, broker_url
from course.queue.task import make_copy, run_worker


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course.queue",
        description="Grading on a task queue (Celery): a worker's course copy, and a worker.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="grade from the queue (as root)")
    worker.add_argument("--broker", default=None,
                        help=f"the broker's URL without a password (default: {BROKER_VARIABLE})")
    worker.add_argument("--root", type=Path, required=True, help="this worker's course copy")
    worker.add_argument("--name", default=None, help="the worker's name in the logs")
    copy = commands.add_parser("copy", help="make a course copy for a worker")
    copy.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "copy":
            folder = make_copy(args.folder)
            print(f"{folder}: a worker's course copy, every assignment generated into its own "
                  f"gradebook; start it with `python -m course.queue worker --root {folder}`")
        else:
            run_worker(broker_url(args.broker), args.root, args.name)
    except QueueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
