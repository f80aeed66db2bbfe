"""The numbers that bound grading, each a named setting with its help, overridable by an
environment variable: each submission's boundary and grading (`Settings`, COURSE_SANDBOX_*) and
the task queue's delivery (`Delivery`, COURSE_QUEUE_*). `python -m course.sandbox check` prints
them all."""
import os
from dataclasses import dataclass, field, fields


def setting(default, help):
    """A field of Settings: its default and what it bounds (`Settings.described`)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """The numbers that bound grading: each submission's boundary, and its grading as a whole.
    Each is overridable by an environment variable COURSE_SANDBOX_<NAME> (e.g.
    COURSE_SANDBOX_MEMORY_GIB=4); `python -m course.sandbox check` prints them all."""
    memory_gib: float = setting(8, "address space of each process: an allocation past it is a "
                                "MemoryError")
    cpu_seconds: int = setting(30 * 60, "CPU time of each process, a backstop (a notebook's "
                               "grading takes about 30 s)")
    submission_seconds: int = setting(30 * 60, "wall time of one submission's whole grading "
                                      "(nbgrader's autograde, on top of its per-cell timeout): "
                                      "then its grading process is killed and it is not graded")
    processes: int = setting(512, "processes and threads of the user id (TensorFlow starts "
                             "about 60)")
    file_gib: float = setting(1, "the largest file it may write")
    scratch_gib: float = setting(1, "each of HOME, /tmp and new files in its folder (tmpfs, in "
                                 "memory)")
    open_files: int = setting(4096, "open files of each process")
    output_bytes: int = setting(2**26, "what the hidden tests may publish for one graded "
                                "function (about 20 kB when correct)")
    first_uid: int = setting(3_000_000, "the first of the boundaries' user ids (no login user "
                             "may have one)")
    identities: int = setting(1024, "boundaries that can run at once on one machine")
    state: str = setting("/var/tmp/course-sandbox", "root-only folder: lock files and each "
                         "boundary's scratch")
    threads: int = setting(0, "threads of each kernel's thread pools (TensorFlow's, oneDNN's, "
                           "OpenMP's), 0 for all cores; course.grade sets cores / jobs, so "
                           "that --jobs N on N cores does not oversubscribe")

    @classmethod
    def from_environment(cls):
        found = {}
        for each in fields(cls):
            value = os.environ.get(f"COURSE_SANDBOX_{each.name.upper()}")
            if value is not None:
                found[each.name] = type(each.default)(value)
        return cls(**found)

    def described(self):
        return described(self, "COURSE_SANDBOX_")


def described(settings, prefix):
    """A line per field of the dataclass `settings`: its name, value, the environment variable
    (`prefix` + NAME) that overrides it and what it bounds (the field's help)."""
    return [f"{each.name} = {getattr(settings, each.name)!r} ({prefix}{each.name.upper()}): "
            f"{each.metadata['help']}" for each in fields(settings)]


SETTINGS = Settings.from_environment()


@dataclass(frozen=True)
class Delivery:
    """How long things may take; each overridable by COURSE_QUEUE_<NAME> (seconds)."""
    time_limit: int = field(default=SETTINGS.submission_seconds + 300, metadata={
        "help": "wall time of one task (a submission's grading and its packing), then its "
                "process is killed; above submission_seconds, which stops the grading first"})
    visibility: int = field(default=SETTINGS.submission_seconds + 900, metadata={
        "help": "a task not acknowledged after this long (its worker's machine gone) goes back "
                "to the queue for another worker"})

    def described(self):
        return described(self, "COURSE_QUEUE_")

    @property
    def wait(self):
        """How long the coordinator waits for one result: a redelivery, then the task again."""
        return self.visibility + self.time_limit

    @classmethod
    def from_environment(cls):
        return cls(**{name: int(os.environ[f"COURSE_QUEUE_{name.upper()}"])
                      for name in cls.__dataclass_fields__
                      if os.environ.get(f"COURSE_QUEUE_{name.upper()}")})


# What a submission may print while graded: the defaults and help of ExecuteWithHiddenTests's
# traits (course/plugins/preprocessors.py; nbgrader_config.py may set them), here so that
# `python -m course.sandbox check` states them without the preprocessor
OUTPUT_LIMITS = {
    "max_cell_output_characters": (
        2**20, "Characters of output kept for one cell of a submission (display data, prints, "
        "results); what follows is dropped as it arrives."),
    "max_notebook_output_characters": (
        2**23, "Characters of output kept for a whole submission: a message that would pass it "
        "is dropped as it arrives."),
    "max_error_characters": (
        2**14, "Characters kept of an error's message and of each of its traceback lines (an "
        "error is never dropped: it decides the cell's score)."),
}
