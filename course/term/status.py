"""What became of a submission graded as it arrives (`python -m course.term watch`), told to
the student where they look for it: their Assignments tab's *Fetch Feedback*.

nbgrader's own feedback path is used as it is: a page in the exchange's feedback folder named
by `notebook_hash(submission_secret, notebook)`, which only the student who made that
submission can compute (the secret is in their submit cache) and which their fetch_feedback
brings home beside the notebook. A graded submission's page is its feedback, with one line
added at the top: when it was graded and how many graded attempts the student has left today.
A submission that was not graded now (over the day's limit, after the due date, superseded,
refused, or the grader failed) gets a page of its own that says so, why, and what happens to
it; nothing in it comes from the submission but the reason a refusal gives, escaped.
"""
import html
import os
import stat
import tempfile

from nbgrader.utils import notebook_hash

from course.plugins import trusted_owner

SECRET = "submission_secret.txt"
SECRET_BYTES = 256  # nbgrader writes a 32-character hex key
# the exchange's feedback folder as nbgrader's release_feedback makes it with groupshared
FEEDBACK_MODE = 0o2771


class StatusError(Exception):
    """The status page cannot be put where the student fetches it; the message says why."""


def read_secret(entry, owner):
    """The submission's key (its submission_secret.txt), read without following anything and
    only from a regular file of the student `owner` of at most SECRET_BYTES."""
    folder = None
    try:
        folder = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        handle = os.open(SECRET, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        try:
            info = os.fstat(handle)
            if (not stat.S_ISREG(info.st_mode) or info.st_uid != owner
                    or info.st_size > SECRET_BYTES):
                raise StatusError(f"its {SECRET} is not a small file of the student's")
            secret = os.read(handle, SECRET_BYTES).decode("ascii", "replace").strip()
        finally:
            os.close(handle)
    except OSError as error:
        raise StatusError(f"its {SECRET} could not be read ({error.strerror})") from None
    finally:
        if folder is not None:
            os.close(folder)
    if not secret or not secret.isalnum():
        raise StatusError(f"its {SECRET} holds no key")
    return secret


def attempts_left(per_day, used):
    """The line on every page: graded attempts left today (UTC) after `used` of `per_day`."""
    if not per_day:
        return "Every submission is graded as it arrives (no daily limit)."
    left = max(per_day - used, 0)
    tomorrow = "" if left else " The next one can be graded from 00:00 UTC tomorrow."
    return (f"Graded attempts left today (UTC): {left} of {per_day}.{tomorrow}")


def status_page(assignment, when, title, explanation, attempts):
    """A self-contained page: what became of the submission of `when` (naive UTC), and why."""
    text = [html.escape(part) for part in (assignment, title, explanation, attempts)]
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{text[0]}: {text[1]}</title>\n"
            "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.5}"
            "</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{text[0]}: {text[1]}</h1>\n"
            f"<p>Your submission of {when:%Y-%m-%d %H:%M:%S} UTC. {text[2]}</p>\n"
            f'<p class="course-attempts">{text[3]}</p>\n</main>\n</body>\n</html>\n')


def with_attempts(page, when, attempts):
    """The feedback page `page` (HTML) with one line at the top of its body: graded on
    submission, and the attempts left."""
    line = (f'<p class="course-attempts" style="padding:0.5em 1em;background:#eef">Graded on '
            f"submission ({when:%Y-%m-%d %H:%M:%S} UTC). {html.escape(attempts)}</p>\n")
    start = page.find("<body")
    if start < 0:
        return line + page
    end = page.index(">", start) + 1
    return page[:end] + "\n" + line + page[end:]


def release(feedback_folder, course_root, secret, notebooks, page):
    """Put `page` in the exchange's `feedback_folder` for each of `notebooks` (their names, as
    released) of the submission whose key is `secret`, readable by the student alone who can
    name it (the folder is not listable); each file written whole, then moved into place."""
    folder = os.fspath(feedback_folder)
    if not os.path.lexists(folder):
        os.mkdir(folder)
        os.chmod(folder, FEEDBACK_MODE)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or not trusted_owner(info.st_uid, course_root):
        raise StatusError(f"{folder} is not the course's own folder")
    placed = []
    for notebook in notebooks:
        target = os.path.join(folder, f"{notebook_hash(secret=secret, notebook_id=notebook)}.html")
        handle, partial = tempfile.mkstemp(dir=folder, prefix=".status-", suffix=".partial")
        with os.fdopen(handle, "w") as out:
            out.write(page)
        os.chmod(partial, 0o644)
        os.replace(partial, target)
        placed.append(target)
    return placed
