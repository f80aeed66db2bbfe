"""The course's collect step: nbgrader's, trusting nothing the student wrote in the exchange.

Set in nbgrader_config.py (`ExchangeFactory.collect`), so `nbgrader collect`, formgrader's
Collect button and the watcher (`course.term watch`, through `nbgrader collect`) use it.
`nbgrader collect` runs as root and nbgrader's own copy (`shutil.copytree`) follows symbolic
links, takes the submission's owner on trust (a mismatch is a warning) and its time from what
the student wrote: the folder's name and its timestamp.txt (nbgrader issues 1097 and 1104); and
one folder it cannot take (too large, gone, unreadable) stops the collect of the whole class.
Here, for each inbound folder:

- refused, with one log line naming it and why (names escaped: nothing a student chose starts a
  line), and the collect goes on with the others: a symbolic link, a hard link or a special
  file anywhere in it (the folder itself included); an entry whose owner is not the student the
  folder names (`check_owner`, on by default: a submission made for a classmate); a name that
  is not STUDENT+ASSIGNMENT+TIME or names an unsafe student id; regular files holding more than
  `CourseDirectory.max_dir_size` (their sizes as lstat gives them, before anything is read); and
  a folder that changes, vanishes or cannot be read while it is inspected or copied;
- copied without following anything: each folder and file opened relative to its folder's
  descriptor with O_NOFOLLOW, and checked on that descriptor to be what was listed; each file
  read to the size it had when it was listed, and refused if it grew, shrank or changed while it
  was read, so a copy never holds more than max_dir_size;
- copied beside the collected one (submitted/STUDENT/.ASSIGNMENT.collecting-*) and put in place
  only once whole: a refused folder leaves nothing in submitted/, and a student's submission
  collected before stays there (the log line says so) until a newer one is collected whole;
- timed by what the student cannot set: the latest change time (ctime) of the folder and of
  everything in it, as root sees it. That time is written to the collected timestamp.txt (which
  autograde and the late penalty read), and a timestamp the student wrote (timestamp.txt, the
  folder's name) that differs from it by more than `timestamp_tolerance` seconds gets one log
  line. The latest submission, and the latest before the due date, are chosen by that time.
"""
import contextlib
import datetime
import errno
import fnmatch
import grp
import os
import pwd
import shutil
import stat
import tempfile

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.utils import parse_utc
from traitlets import Float, Integer

from course.core import escape, safe_id
from course.plugins.team import open_to_team

# A submission is a few folders deep; a deeper tree is refused before it reaches what recurses
# on folders (Python's recursion limit, shutil.rmtree, nbgrader's copytree in autograde).
MAX_DEPTH = 32


class RefusedEntry(Exception):
    """An inbound entry that must not be collected; the message says which and why, on one
    line (names in it escaped)."""


def _kind(info):
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if stat.S_ISREG(info.st_mode):
        return "a hard link" if info.st_nlink > 1 else None
    if stat.S_ISDIR(info.st_mode):
        return None
    return "not a regular file"


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user id {uid}"


def _judge(what, info, owner):
    """RefusedEntry if the entry `what` (its lstat `info`) is a link, a hard link or a special
    file, or is not owned by `owner` (a uid; None: any owner)."""
    if _kind(info):
        raise RefusedEntry(f"{what} is {_kind(info)}")
    if owner is not None and info.st_uid != owner:
        raise RefusedEntry(f"{what} is owned by {_user(info.st_uid)}, not by the student it "
                           "names")


def _same(info, listed):
    """Whether `info` is still the entry `listed`: the same inode and type, and for a file the
    same size and times (a folder's change as entries come and go in it)."""
    def identity(entry):
        return entry.st_dev, entry.st_ino, stat.S_IFMT(entry.st_mode)

    if identity(info) != identity(listed):
        return False
    return not stat.S_ISREG(listed.st_mode) or (
        (info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        == (listed.st_size, listed.st_mtime_ns, listed.st_ctime_ns))


def _open_listed(name, folder_fd, listed, what):
    """A descriptor of `name` (relative to the folder descriptor `folder_fd`; a path where it is
    None), opened without following it and checked to be the entry `listed` (its lstat)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO swapped in must not block
    if stat.S_ISDIR(listed.st_mode):
        flags |= os.O_DIRECTORY
    try:
        fd = os.open(name, flags, dir_fd=folder_fd)
    except OSError as error:  # a link swapped in (ELOOP), gone (ENOENT)
        raise RefusedEntry(f"{what} changed while it was read ({error.strerror})") from None
    if not _same(os.fstat(fd), listed):
        os.close(fd)
        raise RefusedEntry(f"{what} changed while it was read")
    return fd


def walk(folder, owner=None, max_size=None, skip=None, max_depth=MAX_DEPTH):
    """Everything in the inbound `folder`, nothing followed, a folder before what it holds:
    (relative path, descriptor of the folder that holds it, its name there, its lstat), the
    folder itself first ("", None, folder, lstat). Each entry is judged as it is listed (a link,
    hard link or special file, an owner other than `owner`: RefusedEntry); `skip(relative path,
    lstat)` leaves an entry out, a folder with all it holds. RefusedEntry too when the regular
    files not skipped hold more than `max_size` bytes (their sizes as listed: nothing is read to
    know), when a folder changes while it is read, or when folders are nested more than
    `max_depth` deep; OSError when something cannot be listed (gone meanwhile)."""
    listed = os.lstat(folder)
    _judge("it", listed, owner)
    if not stat.S_ISDIR(listed.st_mode):
        raise RefusedEntry("it is a file, not a folder")
    total = 0

    def inside(folder_fd, prefix, depth):
        nonlocal total
        with os.scandir(folder_fd) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            relative = os.path.join(prefix, name)
            shown = escape(relative, 200)  # in messages: a name the student chose
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
            _judge(shown, info, owner)
            if skip is not None and skip(relative, info):
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
                if max_size is not None and total > max_size:
                    raise RefusedEntry(f"its files hold more than the {max_size:,} bytes that "
                                       "CourseDirectory.max_dir_size allows")
            yield relative, folder_fd, name, info
            if stat.S_ISDIR(info.st_mode):
                if depth > max_depth:
                    raise RefusedEntry(f"{shown} is nested more than {max_depth} folders deep "
                                       "(SafeCollect.max_depth)")
                fd = _open_listed(name, folder_fd, info, shown)
                try:
                    yield from inside(fd, relative, depth + 1)
                finally:
                    os.close(fd)

    top = _open_listed(folder, None, listed, "it")
    try:
        yield "", None, folder, listed
        yield from inside(top, "", 1)
    finally:
        os.close(top)


def inspect(folder, owner=None, max_size=None, max_depth=MAX_DEPTH):
    """The latest change time (ctime) of the inbound `folder` and of everything in it, as walk
    reads them (nothing followed); RefusedEntry for a link, hard link or special file, an entry
    not owned by `owner` (a uid; None: any owner), regular files of more than `max_size` bytes
    in all, folders more than `max_depth` deep, or a folder that changed while it was read;
    OSError if it cannot be read."""
    return max(info.st_ctime for *_, info in walk(folder, owner, max_size, None, max_depth))


def copy_without_following(source, destination, keep, owner=None, max_size=None,
                           max_depth=MAX_DEPTH):
    """Copy the regular files and folders under the inbound folder `source` to `destination`
    (new), as walk lists them (`owner`, `max_size`, `max_depth`); `keep(relative path, size)`
    says which to take (size None: a folder). Each file is opened relative to its folder's
    descriptor without following it, checked to be the one listed, and read to the size it was
    listed with: RefusedEntry if it changed meanwhile (grew, shrank, was replaced), so nothing
    read passes `max_size`; the caller removes a partial copy. Returns the latest change time of
    what was copied."""
    def skip(relative, info):
        return not keep(relative, None if stat.S_ISDIR(info.st_mode) else info.st_size)

    latest = 0.0
    for relative, folder_fd, name, listed in walk(source, owner, max_size, skip, max_depth):
        latest = max(latest, listed.st_ctime)
        target = os.path.join(destination, relative) if relative else destination
        if stat.S_ISDIR(listed.st_mode):
            os.mkdir(target, 0o755)
            continue
        shown = escape(relative, 200)
        fd = _open_listed(name, folder_fd, listed, shown)
        try:
            with open(target, "xb") as out:
                left = listed.st_size
                while left:
                    block = os.read(fd, min(left, 1 << 20))
                    if not block:
                        break
                    out.write(block)
                    left -= len(block)
                if left or os.read(fd, 1) or not _same(os.fstat(fd), listed):
                    raise RefusedEntry(f"{shown} changed while it was read")
        finally:
            os.close(fd)
    return latest


def _reason(error):
    """Why an inbound folder is refused, from what reading or copying it raised."""
    if isinstance(error, RefusedEntry):
        return str(error)
    if error.errno == errno.ENOENT:
        return "it, or something in it, disappeared while it was read"
    return f"it could not be collected ({error.strerror or error})"


def _utc(seconds):
    """Naive UTC, as nbgrader's parse_utc gives and the gradebook's due dates are."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


def trusted_owner(uid, course_root):
    """Whether a course's folder in the exchange owned by `uid` may be used: root's, this
    account's, or the teaching team's (an account whose group is the course folder's, as
    `python -m course.hub setup --grader` shares it)."""
    if uid in (0, os.geteuid()):
        return True
    group = os.stat(course_root).st_gid
    try:
        account = pwd.getpwuid(uid)
        members = grp.getgrgid(group).gr_mem
    except KeyError:
        return False
    return group != 0 and (account.pw_gid == group or account.pw_name in members)


class CourseFolders:
    """The course's folders in the exchange (EXCHANGE/COURSE_ID, its inbound, outbound and
    feedback) must be the course's: with `CourseDirectory.groupshared` nbgrader no longer
    checks who owns them, and the exchange lets every account make entries, so a student could
    make the course's folder first and then read every classmate's submission and change what
    they fetch. A folder owned by another account, or a link, stops the step in one line."""

    def check_course_folder(self, path):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode) or not trusted_owner(info.st_uid, self.coursedir.root):
            what = "a link" if stat.S_ISLNK(info.st_mode) else f"owned by {_user(info.st_uid)}"
            self.fail(f"{escape(path)} is {what}, not the course's: whoever owns it reads every "
                      "submission and changes what students fetch. Fix: remove it (as root), "
                      "then `python -m course.hub setup` before releasing.")

    def ensure_directory(self, path, mode):
        self.check_course_folder(path)
        super().ensure_directory(path, mode)


class SafeReleaseAssignment(CourseFolders, ExchangeReleaseAssignment):
    """nbgrader's release_assignment into the course's own folders only (CourseFolders)."""


class SafeReleaseFeedback(CourseFolders, ExchangeReleaseFeedback):
    """nbgrader's release_feedback into the course's own folders only (CourseFolders)."""


class SafeCollect(CourseFolders, ExchangeCollect):
    __doc__ = __doc__

    timestamp_tolerance = Float(
        120.0, help="Seconds by which a timestamp the student wrote (timestamp.txt, the inbound "
        "folder's name) may differ from the exchange's change time before it is reported; the "
        "change time is used either way.").tag(config=True)

    max_depth = Integer(
        MAX_DEPTH, help="Folders nested deeper than this in a submission make it refused: "
        "deeper trees break what recurses on folders (shutil.rmtree, nbgrader's copy in "
        "autograde).").tag(config=True)

    records_seen = ()

    @property
    def max_size(self):
        """CourseDirectory.max_dir_size in bytes, as nbgrader counts it."""
        return 1000 * self.coursedir.max_dir_size

    def _path_to_record(self, path):
        try:
            record = super()._path_to_record(path)
        except Exception:  # noqa: BLE001 - a name the student chose: refuse it, collect the rest
            filename = os.path.basename(path)
            record = {"username": filename.split("+")[0], "filename": filename,
                      "timestamp": None, "refused": "its name is not STUDENT+ASSIGNMENT+TIME"}
        self.records_seen = [*self.records_seen, record]
        record["claimed"] = record["timestamp"]
        record["path"] = os.path.join(self.inbound_path, record["filename"])
        record["owner"] = None
        if not record.get("refused") and not safe_id(record["username"]):
            record["refused"] = (f"the student id {record['username']!r} it names is not a safe "
                                 "name")
        elif not record.get("refused") and self.check_owner:
            try:
                record["owner"] = pwd.getpwnam(record["username"]).pw_uid
            except KeyError:
                record["refused"] = (
                    f"the student {record['username']!r} it names has no account on this "
                    "machine (unset CollectApp.check_owner where student ids are not account "
                    "names)")
        latest = None
        if not record.get("refused"):
            try:
                latest = inspect(record["path"], record["owner"], self.max_size,
                                 self.max_depth)
            except (RefusedEntry, OSError) as error:
                record["refused"] = _reason(error)
        # a refused entry is never "before the due date" and sorts behind the student's others
        record["timestamp"] = datetime.datetime.max if latest is None else _utc(latest)
        return record

    def _sort_by_timestamp(self, records):
        """Latest first, refused entries after every other: a refused folder (a classmate's
        forgery in this student's name) never hides the student's own submission."""
        return sorted(records, key=lambda r: (not r.get("refused"), r["timestamp"]),
                      reverse=True)

    def init_src(self):
        course_path = os.path.join(self.root, self.coursedir.course_id)
        for path in (course_path, os.path.join(course_path, "inbound")):
            self.check_course_folder(path)
        super().init_src()  # each student's latest (before the due date), by our times
        for record in sorted(self.records_seen, key=lambda r: r["filename"]):
            if record.get("refused"):
                self._refuse(record, record["refused"])
        self.src_records = sorted((r for r in self.src_records if not r.get("refused")),
                                  key=lambda r: r["username"])

    def _refuse(self, record, why, kept=False):
        """The one log line of a refused inbound folder, escaped: the student chose its name."""
        self.log.error("Refused %s: %s. Nothing of it was collected%s.",
                       escape(record["filename"]), escape(why),
                       "; the submission collected before stays in submitted/" if kept else "")

    def copy_files(self):
        """nbgrader's, each student in turn (by id): a folder that cannot be taken whole is
        refused in one line and the others are collected."""
        assignment, course = self.coursedir.assignment_id, self.coursedir.course_id
        if not self.src_records:
            self.log.warning("No submissions of '%s' for course '%s' to collect", assignment,
                             course)
        else:
            self.log.info("Processing %d submissions of '%s' for course '%s'",
                          len(self.src_records), assignment, course)
        for record in self.src_records:
            self._collect(record, assignment)

    def _collect(self, record, assignment):
        """One inbound folder into submitted/ by nbgrader's rules (--update, --before-duedate),
        copied beside what was collected before and put in its place once whole: refused, it
        leaves submitted/ as it was."""
        student = record["username"]
        dest = self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                          assignment)
        updating = os.path.isdir(dest)
        if updating:
            existing = self.coursedir.get_existing_timestamp(dest)
            newer = existing is None or record["timestamp"] > existing
            if not (self.update and newer) and not (
                    self.before_duedate and existing != record["timestamp"]):
                self.log.info("No newer submission to collect: %s %s" if self.update else
                              "Submission already exists, use --update to update: %s %s",
                              student, assignment)
                return
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{assignment}.collecting-", dir=os.path.dirname(dest))
        try:
            try:
                self.do_copy(record["path"], os.path.join(staging, assignment))
            except (RefusedEntry, OSError) as error:
                self._refuse(record, _reason(error), kept=updating)
                return
            if updating:
                os.rename(dest, os.path.join(staging, "replaced"))
            os.rename(os.path.join(staging, assignment), dest)
            if self.coursedir.groupshared:  # the teaching team's to replace (course.hub)
                open_to_team(os.path.dirname(dest))
            self.log.info("%s submission: %s %s", "Updating" if updating else "Collecting",
                          student, assignment)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if not os.path.isdir(dest):  # a student's folder made for a refused one
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(dest))

    def do_copy(self, src, dest, log=None):
        """The inbound folder `src` copied to `dest` (new) by copy_without_following, with
        nbgrader's rules (CourseDirectory.ignore, include, max_file_size, max_dir_size), and
        the exchange's time written to its timestamp.txt; RefusedEntry or OSError if it cannot
        be taken whole (`dest` is then partial: the caller removes it)."""
        record = next(r for r in self.src_records if r["path"] == src)
        ignore, include = self.coursedir.ignore, self.coursedir.include

        def keep(relative, size):  # nbgrader's own rules (exchange.ignore_patterns)
            name = os.path.basename(relative)
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
                return False
            largest = self.coursedir.max_file_size
            return size is None or (
                (not include or any(fnmatch.fnmatch(name, pattern) for pattern in include))
                and (not largest or size <= 1000 * largest))

        latest = copy_without_following(src, dest, keep, record["owner"], self.max_size,
                                        self.max_depth)
        # changed after it was inspected, and copied whole: the time of what was copied
        record["timestamp"] = max(record["timestamp"], _utc(latest))
        self._check_claims(record, dest)
        with open(os.path.join(dest, "timestamp.txt"), "w") as handle:
            handle.write(record["timestamp"].strftime("%Y-%m-%d %H:%M:%S.%f UTC"))

    def _check_claims(self, record, dest):
        """One log line for each timestamp the student wrote that the change time belies."""
        claims = {"the folder's name": record["claimed"]}
        written = os.path.join(dest, "timestamp.txt")
        if os.path.exists(written):
            try:
                with open(written, errors="replace") as handle:
                    claims["timestamp.txt"] = parse_utc(handle.read(100).strip())
            except (ValueError, OverflowError):
                claims["timestamp.txt"] = None
        name = escape(record["filename"])
        for where, claimed in claims.items():
            if claimed is None:
                self.log.warning("%s: %s holds no valid time; the exchange's change time %s is "
                                 "used.", name, where, record["timestamp"])
            elif abs((claimed - record["timestamp"]).total_seconds()) > self.timestamp_tolerance:
                self.log.warning("%s: %s says %s, the exchange's change time is %s: the change "
                                 "time is used.", name, where, claimed, record["timestamp"])
