"""python -m course.sandbox kernel|check (course/sandbox/__init__.py says what each does)."""
import argparse
import sys
from pathlib import Path

from course import ROOT
from course.sandbox.kernel import kernel
from course.sandbox.probe import check


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m course.sandbox",
        description="A boundary of its own for every submission: the grading kernel, and the "
        "check of this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("kernel", help="run a grading kernel (kernel.json's argv)")
    start.add_argument("--course", default=str(ROOT))
    start.add_argument("-f", dest="connection_file", required=True)
    verify = commands.add_parser("check", help="start a real grading kernel in a sandbox and "
                                 "check what it needs, a line each")
    verify.add_argument("--course", default=str(ROOT), help="the course folder (its datasets/)")
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "kernel":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check":
        lines = check(Path(args.course).resolve())
        for ok, line in lines:
            print(line if ok else f"error: {line}", file=sys.stdout if ok else sys.stderr)
        return 0 if all(ok for ok, _ in lines) else 2
    return kernel(args.course, args.connection_file, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
