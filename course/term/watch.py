"""Grading as the students submit: each new submission in the exchange collected, graded on the
queue and, when asked, its feedback released."""
import datetime
import json
import os
import pwd
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course import queue
from course.core import assignments, escape, nbgrader_config, safe_id
from course.plugins import RefusedEntry, inspect
from course.term import status
from course.term.resubmit import collect_latest
from course.term.term import Term, TermError


def exchange_inbound(course, exchange=None):
    """The exchange's inbound folder of this course, as nbgrader's configuration names it."""
    from nbgrader.exchange.default.exchange import Exchange

    config = nbgrader_config(course.root)
    root = exchange or config.get("Exchange", {}).get("root") or Exchange.root.default_value
    course_id = config.get("CourseDirectory", {}).get("course_id") or ""
    return Path(root) / course_id / "inbound"


def inbound_entries(inbound, assignment, seen):
    """[(entry, student, time it reached the exchange)] of the new inbound entries of
    `assignment`, oldest first; names parsed as nbgrader's collect does (STUDENT+ASSIGNMENT+
    TIME[+RANDOM], split from the right)."""
    found = []
    for entry in inbound.iterdir() if inbound.is_dir() else []:
        parts = entry.name.rsplit("+", 3)
        if entry.name in seen or len(parts) < 3 or parts[1] != assignment:
            continue
        try:
            when = entry.lstat().st_ctime
        except OSError:  # removed meanwhile
            continue
        found.append((entry, parts[0], datetime.datetime.fromtimestamp(
            when, datetime.UTC).replace(tzinfo=None)))
    return sorted(found, key=lambda item: item[2])


def watch(term, broker, assignment, per_day=None, release=False, interval=30.0, once=False):
    """Grade each new submission of `assignment` as it reaches the exchange: collected by the
    course's collect step (`nbgrader collect --update --student`), graded on the queue
    (course.grade --queue), its feedback released if `release`. An entry not owned by the
    student it names is refused (SafeCollect's own check); a student's submissions past
    `per_day` in one day (UTC), an older one that a newer one supersedes in the same look, and
    any after the student's due date (their extension included) are left to the final grading
    (`nbgrader collect`, then `make autograde` or `course.grade --queue`: the last submission
    counts, as always). With `release`, the student's Fetch Feedback brings what became of each
    submission (course/term/status.py): the feedback page with the graded attempts left today
    at its top, or a page saying why it was not graded now and what happens to it. What was
    seen and done is kept in reports/ASSIGNMENT/watched.json, so a restarted watcher goes on
    where it stopped; a failure of the queue or the grader is not kept, and is tried again at
    the next look."""
    course = term.course
    inbound = exchange_inbound(course, term.exchange)
    state = course.reports / assignment / "watched.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        seen = json.loads(state.read_text()) if state.exists() else {}
        with Gradebook(course.db_url) as gradebook:
            gradebook.find_assignment(assignment)
    except (ValueError, MissingEntry) as error:
        raise TermError(f"cannot watch {assignment}: {error or 'not in the gradebook'}. Fix: "
                        f"`make release`, or remove a damaged {state}.") from None
    print(f"watching {inbound} for {assignment}"
          + (f", at most {per_day} a day per student" if per_day else "")
          + (", releasing feedback" if release else ""), flush=True)
    looking = Look(term, {**os.environ, queue.BROKER_VARIABLE: broker}, assignment, per_day,
                   release, inbound)
    while True:
        entries = inbound_entries(inbound, assignment, seen)
        newest = {student: entry.name for entry, student, _ in entries}
        for entry, student, when in entries:
            today = sum(1 for record in seen.values() if record["student"] == student
                        and record["outcome"] == "graded" and record["at"][:10] == f"{when:%F}")
            keep, outcome = looking.at(entry, student, when, today, newest[student])
            print(f"{escape(entry.name, 120)}: {outcome}", flush=True)
            if not keep:
                continue
            seen[entry.name] = {"student": student, "at": when.isoformat(),
                                "outcome": outcome.split(",")[0]}
            partial = state.with_name(state.name + ".partial")
            partial.write_text(json.dumps(seen, indent=1) + "\n")
            partial.replace(state)
        if once:
            return seen
        time.sleep(interval)


# what the student's page says when the grader failed
GRADER_FAILED = ("not graded: the grader failed", "The grader could not grade it (the course's "
                 "staff see why in the grading report). Nothing is lost: the final grading "
                 "grades your last submission.")


@dataclass
class Look:
    """What the watcher does with one entry of the exchange's inbound folder."""
    term: Term
    environment: dict  # course.grade's, with the broker's URL
    assignment: str
    per_day: int | None
    release: bool
    inbound: Path

    def due(self, student):
        """The student's due date (their extension's, else the assignment's), or None."""
        with Gradebook(self.term.course.db_url) as gradebook:
            try:
                return gradebook.find_submission(self.assignment, student).duedate
            except MissingEntry:
                return gradebook.find_assignment(self.assignment).duedate

    def at(self, entry, student, when, today, newest):
        """(whether to keep what became of it in watched.json, the watcher's line): graded,
        left to the final grading, refused, or not graded now (the queue or the grader, not
        kept: tried again at the next look)."""
        due = self.due(student)
        keep, told = True, None  # told: (title, explanation) of the student's page
        if newest != entry.name:
            outcome = "superseded by a later submission"
            told = ("not graded: a later submission replaced it", "A later submission of "
                    "yours arrived before this one was graded: that one is graded instead.")
        elif due is not None and when > due:
            outcome = "after the due date: left to the final grading"
            told = ("after your due date", f"It arrived after your due date "
                    f"({due:%Y-%m-%d %H:%M} UTC): it is not graded now, and the final "
                    "grading grades your last submission, with the course's late policy.")
        elif self.per_day and today >= self.per_day:
            outcome = (f"over the limit of {self.per_day} a day: left to the final grading "
                       "(the last submission counts)")
            told = ("not graded now: today's graded attempts are used", "It is kept: the "
                    "final grading, after the due date, grades your last submission.")
        elif not safe_id(student):
            outcome = "not a safe student id: left to the final grading, which reports it"
        else:
            keep, outcome, told = self.grade(entry, student, when, today)
        if self.release and keep and told:
            outcome += _tell(self.term.course, self.inbound, entry, student, self.assignment,
                             when, told, status.attempts_left(self.per_day, today))
        return keep, outcome

    def grade(self, entry, student, when, today):
        """(keep, outcome, told) of collecting and grading the entry."""
        course, assignment = self.term.course, self.assignment
        try:
            inspect(entry, pwd.getpwnam(student).pw_uid)  # SafeCollect's own check
            collect_latest(self.term, assignment, student)
            code = subprocess.run(
                [sys.executable, "-m", "course.grade", "--root", str(course.root), "--queue",
                 "--assignment", assignment, "--", student], cwd=course.root,
                env=self.environment, capture_output=True, text=True).returncode
            if code != 0:
                return (code != 2,  # 2: the queue or the grader, not this submission
                        f"not graded: course.grade exited {code}; see reports/{assignment}/"
                        "grading_report.txt", GRADER_FAILED)
            if self.release:
                _add_attempts(course, assignment, student, when,
                              status.attempts_left(self.per_day, today + 1))
                self.term.nbgrader("release_feedback", assignment, f"--student={student}")
            return True, "graded" + (", feedback released" if self.release else ""), None
        except (RefusedEntry, KeyError, OSError) as error:
            return True, f"refused: {error}", ("refused", f"It was refused: {error}. Nothing "
                                               "of it was graded: submit again from the "
                                               "Assignments tab.")
        except TermError as error:
            return True, f"not graded: {error}", GRADER_FAILED


def _add_attempts(course, assignment, student, when, attempts):
    """The attempts line at the top of the student's feedback page(s), before release."""
    for page in (course.root / "feedback" / student / assignment).glob("*.html"):
        page.write_text(status.with_attempts(page.read_text(), when, attempts))


def _tell(course, inbound, entry, student, assignment, when, told, attempts):
    """Put the page saying what became of `entry` where its student's Fetch Feedback finds it;
    what to add to the watcher's line."""
    try:
        secret = status.read_secret(entry, pwd.getpwnam(student).pw_uid)
        stem = assignments(course.root)[assignment].stem
        page = status.status_page(assignment, when, *told, attempts)
        status.release(inbound.parent / "feedback", course.root, secret, [stem], page)
    except (status.StatusError, KeyError, OSError) as error:
        return f" (no page for the student: {escape(error, 200)})"
    return ", the student told why"
