"""python -m course.audit (course/audit/__init__.py says what it does)."""
import sys

from course.audit.runs import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
