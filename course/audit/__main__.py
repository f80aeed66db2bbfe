"""python -m course.audit (course/audit/__init__.py says what it does)."""
import argparse
import os
import sys

from course.audit import catalog
from course.audit.runs import in_process, through_nbgrader
from course.core import AssignmentError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--assignment", nargs="+", metavar="NAME",
                        help="audit these assignments (default: every one with a catalog)")
    parser.add_argument("--in-process", action="store_true",
                        help="only the catalogs, graded in this process (a minute or two)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade the attacks without the sandbox, to see which ones the "
                             "sandbox is what stops (never on a machine you care about)")
    parser.add_argument("--only", nargs="+", default=(), metavar="STUDENT",
                        help="grade only these of the audit's submissions (while debugging)")
    args = parser.parse_args(argv)
    try:
        if args.in_process:
            return in_process(args.assignment)
        return through_nbgrader(args.jobs, args.unsafe_no_sandbox, args.only, args.assignment)
    except (catalog.CatalogError, AssignmentError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
