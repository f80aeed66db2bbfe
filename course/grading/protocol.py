"""What a batch needs of a grader (course.grading.batch.grade_assignment): the local grader
(course/grading/local.py) and the task queue's (course/queue/coordinator.py) both are one, and
only the command (course/grade.py) picks which."""
from pathlib import Path
from typing import Protocol

from course.core import SubmissionResult


class Grader(Protocol):
    """One batch of one assignment's submissions, graded by nbgrader's autograde as
    nbgrader_config.py declares it, wherever its kernels run."""
    jobs: int  # submissions graded at once
    unsafe: bool  # student code runs with the grader's rights (--unsafe-no-sandbox)
    reports: Path  # reports/ASSIGNMENT/, where the batch's reports go
    digest: dict  # {path: SHA-256} of the course files grading must not change, before it

    def isolation(self) -> tuple[str | None, str]:
        """(What isolates each submission, for the batch's record, or None where nothing does;
        the same in the line printed as the batch starts.)"""

    def run(self, students: list[str]) -> dict[str, SubmissionResult]:
        """{student: its record, without scores} for `students`, each graded once."""

    def leftover_processes(self) -> list:
        """Processes of the batch's sandboxes still running after it, one entry each."""

    def close(self) -> None:
        """Remove what the batch left (its scratch), however it ended."""
