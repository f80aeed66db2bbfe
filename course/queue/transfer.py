"""Files as JSON for the queue's messages (a folder packed, unpacked whole or not at all), and
the digest of the files that decide a grade."""
import base64
import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from course.core import files_under


def grading_digest(root, assignment):
    """SHA-256 of the files that decide a grade: the assignment's source/ and hidden/ folders,
    course/ and nbgrader_config.py (what a worker's copy must hold the same of)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in (root / "source" / assignment, root / "hidden" / assignment, root / "course",
                 root / "nbgrader_config.py"):
        for file in files_under(path):
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def pack(folder):
    """{relative path: base64} of the regular files under `folder` (nothing followed)."""
    found = {}
    for parent, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(parent) / name
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(folder))] = base64.b64encode(
                    path.read_bytes()).decode("ascii")
    return found


def unpack(files, folder):
    """Write `files` ({relative path: base64}) as the folder `folder`, which they replace
    whole, or not at all: written beside it first. A path that is absolute or climbs out (`..`)
    is refused with ValueError before anything is written."""
    paths = {}
    for relative in files:
        parts = PurePosixPath(relative).parts
        if (not parts or PurePosixPath(relative).is_absolute()
                or any(part in ("", ".", "..") for part in parts)):
            raise ValueError(f"refused the path {relative!r}: not inside the folder")
        paths[relative] = parts
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for relative, parts in paths.items():
            path = partial.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(files[relative]))
        os.chmod(partial, 0o755)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
