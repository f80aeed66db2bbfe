"""The course's collect step: nbgrader's, trusting nothing the student wrote in the exchange.

Set in nbgrader_config.py (`ExchangeFactory.collect`), so `nbgrader collect` and formgrader's
Collect button use it too. `nbgrader collect` runs as root and nbgrader's own copy
(`shutil.copytree`) follows symbolic links, takes the submission's owner on trust (a mismatch is
a warning) and its time from what the student wrote: the folder's name and its
timestamp.txt (nbgrader issues 1097 and 1104). Here, for each inbound folder:

- refused, with one log line naming it and why: a symbolic link, a hard link or a special file
  anywhere in it (the folder itself included), or an entry whose owner is not the student the
  folder names (`check_owner`, on by default: a submission made for a classmate);
- copied without following anything: each file opened with O_NOFOLLOW relative to its folder's
  descriptor and checked again on that descriptor, so a link swapped in after the check is
  never read through;
- timed by what the student cannot set: the latest change time (ctime) of the folder and of
  everything in it, as root sees it. That time is written to the collected timestamp.txt (which
  autograde and the late penalty read), and a timestamp the student wrote (timestamp.txt, the
  folder's name) that differs from it by more than `timestamp_tolerance` seconds gets one log
  line. The latest submission, and the latest before the due date, are chosen by that time.
"""
import datetime
import fnmatch
import os
import pwd
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import parse_utc
from traitlets import Float


class RefusedEntry(Exception):
    """An inbound entry that must not be collected; the message says which and why."""


def _kind(info):
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if stat.S_ISREG(info.st_mode):
        return "a hard link" if info.st_nlink > 1 else None
    if stat.S_ISDIR(info.st_mode):
        return None
    return "not a regular file"


def inspect(folder, owner=None):
    """The latest change time (ctime) of the inbound `folder` and of everything in it; raises
    RefusedEntry for a link, hard link or special file, or an entry not owned by `owner` (a uid;
    None: any owner). Nothing is followed."""
    latest = 0.0

    def judge(path):
        nonlocal latest
        relative = os.path.relpath(path, folder)
        info = os.lstat(path)
        if _kind(info):
            raise RefusedEntry(f"{relative} is {_kind(info)}")
        if owner is not None and info.st_uid != owner:
            raise RefusedEntry(f"{relative} is owned by {_user(info.st_uid)}, not by the "
                               "student it names")
        latest = max(latest, info.st_ctime)

    judge(folder)
    for parent, folders, names in os.walk(folder, followlinks=False):
        for name in [*folders, *names]:
            judge(os.path.join(parent, name))
    return latest


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user id {uid}"


def copy_without_following(source, destination, keep):
    """Copy the regular files and folders under `source` to `destination` (new), opening
    every component relative to its folder with O_NOFOLLOW; `keep(relative path, size)` says
    which files to take (size None: a folder). Raises RefusedEntry if anything turns out not to
    be a regular file or folder (changed since it was inspected)."""
    def copy_folder(folder_fd, target, prefix):
        os.mkdir(target, 0o755)
        with os.scandir(folder_fd) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            relative = os.path.join(prefix, name)
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
            except OSError as error:  # a link (ELOOP), or gone
                raise RefusedEntry(f"{relative} could not be opened without following it "
                                   f"({error.strerror})") from None
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode):
                    if keep(relative, None):
                        copy_folder(fd, os.path.join(target, name), relative)
                    continue
                if _kind(info) is not None:
                    raise RefusedEntry(f"{relative} is {_kind(info)}")
                if not keep(relative, info.st_size):
                    continue
                with open(os.path.join(target, name), "xb") as out:
                    while True:
                        block = os.read(fd, 1 << 20)
                        if not block:
                            break
                        out.write(block)
            finally:
                os.close(fd)

    top = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY)
    try:
        copy_folder(top, destination, "")
    finally:
        os.close(top)


class SafeCollect(ExchangeCollect):
    __doc__ = __doc__

    timestamp_tolerance = Float(
        120.0, help="Seconds by which a timestamp the student wrote (timestamp.txt, the inbound "
        "folder's name) may differ from the exchange's change time before it is reported; the "
        "change time is used either way.").tag(config=True)

    records_seen = ()

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
        try:
            owner = pwd.getpwnam(record["username"]).pw_uid if self.check_owner else None
        except KeyError:
            owner, record["refused"] = None, (
                f"the student {record['username']!r} it names has no account on this machine "
                "(unset CollectApp.check_owner where student ids are not account names)")
        try:
            latest = inspect(record["path"], owner)
        except (RefusedEntry, OSError) as error:
            record.setdefault("refused", str(error))
            latest = os.lstat(record["path"]).st_ctime
        # naive UTC, as nbgrader's parse_utc gives and the gradebook's due dates are
        record["timestamp"] = datetime.datetime.fromtimestamp(
            latest, datetime.UTC).replace(tzinfo=None)
        return record

    def _sort_by_timestamp(self, records):
        """Latest first, refused entries after every other: a refused folder (a classmate's
        forgery in this student's name) never hides the student's own submission."""
        return sorted(records, key=lambda r: (not r.get("refused"), r["timestamp"]),
                      reverse=True)

    def init_src(self):
        super().init_src()  # each student's latest (before the due date), by our times
        for record in sorted(self.records_seen, key=lambda r: r["filename"]):
            if record.get("refused"):
                self.log.error("Refused %s: %s. Nothing of it was collected.",
                               record["filename"], record["refused"])
        self.src_records = [r for r in self.src_records if not r.get("refused")]
        self.refused = [r for r in self.records_seen if r.get("refused")]

    def do_copy(self, src, dest, log=None):
        record = next(r for r in self.src_records if r["path"] == src)
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"{record['filename']}: the submission is larger than "
                               f"CourseDirectory.max_dir_size ({self.coursedir.max_dir_size} kB)")
        ignore, include = self.coursedir.ignore, self.coursedir.include

        def keep(relative, size):  # nbgrader's own rules (exchange.ignore_patterns)
            name = os.path.basename(relative)
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
                return False
            largest = self.coursedir.max_file_size
            return size is None or (
                (not include or any(fnmatch.fnmatch(name, pattern) for pattern in include))
                and (not largest or size <= 1000 * largest))

        try:
            copy_without_following(src, dest, keep)
        except RefusedEntry as error:
            self.log.error("Refused %s: %s (it changed while it was collected). Nothing of it "
                           "was collected.", record["filename"], error)
            shutil.rmtree(dest, ignore_errors=True)
            return
        self._check_claims(record, dest)
        with open(os.path.join(dest, "timestamp.txt"), "w") as handle:
            handle.write(record["timestamp"].strftime("%Y-%m-%d %H:%M:%S.%f UTC"))

    def _check_claims(self, record, dest):
        """One log line for each timestamp the student wrote that the change time belies."""
        claims = {"the folder's name": record["claimed"]}
        written = os.path.join(dest, "timestamp.txt")
        if os.path.exists(written):
            try:
                with open(written) as handle:
                    claims["timestamp.txt"] = parse_utc(handle.read().strip())
            except ValueError:
                claims["timestamp.txt"] = None
        for where, claimed in claims.items():
            if claimed is None:
                self.log.warning("%s: %s holds no valid time; the exchange's change time %s is "
                                 "used.", record["filename"], where, record["timestamp"])
            elif abs((claimed - record["timestamp"]).total_seconds()) > self.timestamp_tolerance:
                self.log.warning("%s: %s says %s, the exchange's change time is %s: the change "
                                 "time is used.", record["filename"], where, claimed,
                                 record["timestamp"])
