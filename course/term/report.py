"""`python -m course.term report ASSIGNMENT`: what the class got wrong and whose work may not be
their own, from what the batches left (course/grading/misconceptions.py on the autograded
notebooks, course/term/similarity.py on the submitted ones), for any assignment. Neither
changes a grade."""
import time

from course.core import AssignmentError, find
from course.grading import misconceptions
from course.term import similarity
from course.term.term import TermError


def report(course, name):
    """Write reports/ASSIGNMENT/misconceptions.csv, its charts and similarity.html; print what
    they say. TermError if there is nothing to report on."""
    try:
        assignment = find(name, course.root)
    except AssignmentError as error:
        raise TermError(str(error)) from None
    students = course.students("submitted", assignment)
    if not students:
        raise TermError(f"no submission of {name} in {course.root / 'submitted'}. Fix: collect "
                        "and grade the class first (`python -m course.grade`).")
    if not assignment.release(course.root).is_file():
        raise TermError(f"no release notebook {assignment.release(course.root)}: the similarity "
                        "report leaves the release's code out. Fix: `make release`.")
    folder = course.reports / assignment.name
    started = time.perf_counter()
    graded = course.students("autograded", assignment)
    rows = misconceptions.of_students(course, assignment, graded,
                                      misconceptions.signatures_of(course, assignment))
    misconceptions.write(folder, assignment, rows)
    print("\n".join(misconceptions.report_lines(rows)))
    mistakes = time.perf_counter() - started
    started = time.perf_counter()
    pairs, thresholds, submissions = similarity.report(course, assignment, students)
    for function, threshold in thresholds.items():
        print(f"similarity threshold of {function}: "
              f"{'not used' if threshold.value is None else f'{threshold.value:.2f}'}")
    for pair in pairs:
        print(f"flagged: {pair.first} and {pair.second}, by {' and '.join(pair.flagged_by)}"
              + (f" ({', '.join(pair.code)})" if pair.code else ""))
    where = folder.relative_to(course.root)
    print(f"{name}: misconceptions of {len(graded)} graded submissions in {mistakes:.1f} s "
          f"({where}/{misconceptions.CSV} and a chart per function); {len(pairs)} pairs "
          f"of {len(submissions)} submissions flagged in {time.perf_counter() - started:.1f} s "
          f"({where}/similarity.html): for a person to judge, no grade changed")
    return pairs
