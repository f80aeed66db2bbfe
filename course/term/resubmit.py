"""Resubmissions and feedback: a student's latest submission collected, feedback made after
hand grading."""
import subprocess
import sys

from course.term.term import TermError


def collect_latest(term, assignment, student):
    """The student's latest submission collected in place of what submitted/ holds (`nbgrader
    collect --update`, the course's safe collect); the collect's log. TermError when nothing
    newer was collected: refused (the line says why), or nothing newer there. A refused entry
    that collect did not choose (a classmate's forgery in this student's name) is only
    reported: collect sorts those behind the student's own."""
    log = term.nbgrader("collect", assignment, f"--student={student}", "--update")
    refused = [line.strip() for line in log.splitlines() if "Refused " in line]
    if "Updating submission" not in log and "Collecting submission" not in log:
        if refused:
            raise TermError(f"{student}: the new submission was refused ({refused[-1]}). Fix: "
                            "ask the student to submit again.")
        raise TermError(f"{student}: no newer submission of {assignment} in the exchange than "
                        f"the one collected. Fix: ask the student to submit (nbgrader submit).")
    for line in refused:
        print(f"{student}: also in the exchange, refused: {line}", flush=True)
    return log


def resubmit(term, assignment, student):
    course = term.course
    collect_latest(term, assignment, student)
    print(f"{student}: the new submission of {assignment} collected", flush=True)
    return subprocess.run([sys.executable, "-m", "course.grade", "--root", str(course.root),
                           student, "--assignment", assignment], cwd=course.root).returncode


def feedback(term, assignment, students, release):
    course = term.course
    for student in students or [None]:
        only = [f"--student={student}"] if student else []
        term.nbgrader("generate_feedback", assignment, *only, "--force")
        if release:
            term.nbgrader("release_feedback", assignment, *only)
    made = sorted(p.parent.name for p in course.path("autograded").glob(f"*/{assignment}")
                  if not students or p.parent.name in students)  # generate_feedback's input
    print(f"{assignment}: feedback made again for {len(made)} students"
          + (" and released" if release else "") + ", late penalties computed with the "
          "hand-graded points")
