"""What grading produces, as data: one submission's result, a finding, a misconception, a batch,
and the batch's results (reports/ASSIGNMENT/grading_results.json). The grader writes them; the
grading report, the audit, the task queue, the benchmarks and the tests read them. Frozen: a
step that learns more makes a new record (dataclasses.replace).

The JSON is these records' fields (`to_json`); a submission's OPTIONAL fields are left out
while they are None, as they were before these records, so files old and new read the same.
"""
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

GRADED, NOT_GRADED = "graded", "not graded"  # a submission's status
# Why a submission was not graded (SubmissionResult.failure), as data: the report's line is
# rendered from it, and the batch's checks (course.grading.batch.broken_grader) read it
REFUSED = "refused"  # by the submission check, before nbgrader saw it (`problem`: why, the fix)
FAILED = "autograde failed"  # nbgrader autograde stopped (`error`: its exception, "Type: text")
TIMED_OUT = "timed out"  # its grading ran over Settings.submission_seconds and was stopped
DIED = "grader died"  # the process grading it died


@dataclass(frozen=True)
class Autograded:
    """What one `nbgrader autograde` of a submission gave (course.grading.worker's answer): it
    ran to its end (`success`), or `failure` (FAILED, TIMED_OUT, DIED) says why not, with
    `error`, the exception that stopped nbgrader ("DeadKernelError: Kernel died"), where one did;
    `feedback_error`: after a success, why `nbgrader generate_feedback` made no page."""
    success: bool
    failure: str | None = None
    error: str | None = None
    feedback_error: str | None = None


@dataclass(frozen=True)
class SubmissionResult:
    """One submission of one batch.

    status: GRADED (its grades are in the gradebook) or NOT_GRADED (`problem` says why, in a
    line; `failure` is its kind: REFUSED, FAILED, TIMED_OUT or DIED, and `error` the exception
    that stopped nbgrader, where one did);
    killed: processes of its kernel's sandbox killed for a limit; seconds: its grading's wall
    time; scores: {graded function or written answer: [score (None while a written answer
    waits for a hand grade), max score]}; peak_memory_mib: the most memory its kernel held;
    processes_left: on a queue, its sandbox's processes left after it on the worker;
    feedback_problem: graded, but its feedback page could not be made (why, with its log).
    """
    student: str
    assignment: str
    status: str = NOT_GRADED
    problem: str | None = None
    killed: int = 0
    seconds: float = 0.0
    scores: dict = field(default_factory=dict)
    peak_memory_mib: int | None = None
    processes_left: int | None = None
    feedback_problem: str | None = None
    failure: str | None = None
    error: str | None = None

    @property
    def graded(self):
        return self.status == GRADED

    OPTIONAL = ("peak_memory_mib", "processes_left",  # only where measured
                "feedback_problem", "failure", "error")

    def to_json(self):
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if not (f.name in self.OPTIONAL and getattr(self, f.name) is None)}

    @classmethod
    def from_json(cls, data):
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass(frozen=True)
class Finding:
    """Something the instructor should know about one submission; `cell` None for the whole
    submission. Kinds: not graded, files, test cell, error, result, hand grade, stderr, hidden,
    processes, output (cut), feedback (no page made)."""
    student: str
    cell: str | None
    kind: str
    message: str


@dataclass(frozen=True)
class Misconception:
    """A cell of one submission whose hidden tests failed, and what its outputs show: the name
    of a cataloged mistake, with the catalog's words for it (`why`), or "unknown" (matches none)
    or "not written" (course/grading/misconceptions.py)."""
    student: str
    function: str
    misconception: str
    why: str


@dataclass(frozen=True)
class Batch:
    """What one batch did to the course: its size and time, the course files it changed (none
    expected), the gradebook's integrity and the submissions recorded in it, and the sandbox
    processes left (None without a sandbox)."""
    assignment: str
    submissions: int
    jobs: int
    sandbox: str | None
    seconds: float
    seconds_per_submission: float
    course_files_changed: list
    gradebook_integrity: str
    submissions_recorded: int
    processes_left: int | None


@dataclass(frozen=True)
class Results:
    """A batch's results: reports/ASSIGNMENT/grading_results.json."""
    batch: Batch
    submissions: dict  # {student: SubmissionResult}
    findings: list  # [Finding]
    misconceptions: list = field(default_factory=list)  # [Misconception]

    def to_json(self):
        return {"batch": dataclasses.asdict(self.batch),
                "submissions": {s: r.to_json() for s, r in self.submissions.items()},
                "findings": [dataclasses.asdict(f) for f in self.findings],
                "misconceptions": [dataclasses.asdict(m) for m in self.misconceptions]}

    def write(self, path):
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def from_json(cls, data):
        return cls(Batch(**data["batch"]),
                   {s: SubmissionResult.from_json(r) for s, r in data["submissions"].items()},
                   [Finding(**f) for f in data["findings"]],
                   [Misconception(**m) for m in data.get("misconceptions", [])])

    @classmethod
    def read(cls, path):
        return cls.from_json(json.loads(Path(path).read_text()))
