"""The course as a term's chores see it: its folder, its exchange, nbgrader run in it."""
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from course.core import NBGRADER, Course, nbgrader_environment


class TermError(Exception):
    """A command that cannot do what it was asked: the message says what and the fix."""


@dataclass(frozen=True)
class Term:
    """The course folder a command works in, and the exchange nbgrader's steps use (None: as
    nbgrader's configuration says, c.Exchange.root)."""
    course: Course
    exchange: Path | None = None

    def nbgrader(self, *args):
        """Run nbgrader in the course folder; its output; TermError with its first error line
        if it fails (nbgrader's last line only says that it failed)."""
        options = [f"--Exchange.root={self.exchange}"] if self.exchange else []
        run = subprocess.run([*NBGRADER, *args, *options], cwd=self.course.root,
                             env=nbgrader_environment(), capture_output=True, text=True)
        if run.returncode != 0:
            lines = (run.stdout + run.stderr).strip().splitlines() or ["no output"]
            errors = [line for line in lines if re.search(r"\| (ERROR|CRITICAL)\]", line)
                      and not line.rstrip().endswith("failed")]
            raise TermError(f"nbgrader {' '.join(args)} failed: {(errors or lines)[-1].strip()}")
        return run.stdout + run.stderr
