"""File modes of the desk service: everything it keeps is private to the account it runs as.

The data dir holds the database (personal data), the OTP pepper, key files, uploads and stored
evidence, and in demo mode the local outboxes (real one-time codes). Directories are 0700 and
files 0600:

* the service process runs under ``umask 0o077`` (:func:`restrict_umask`, called by the CLI
  before anything is created), so whatever it or a library creates -- SQLite's ``-wal`` and
  ``-shm`` included -- is private;
* files the service writes itself are created with an explicit mode too (:func:`open_private`,
  :func:`write_private`), so in-process use (tests, an embedding program) gets the same modes;
* at start-up :func:`secure_data_dir` tightens what an older version or an operator left
  readable, and creates the SQLite file 0600 before SQLite opens it: SQLite gives its ``-wal``
  and ``-shm`` files the mode of the database file.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SERVICE_UMASK = 0o077
#: files SQLite keeps beside the database
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def restrict_umask() -> int:
    """Set the process umask to 0o077; returns the previous one."""
    return os.umask(SERVICE_UMASK)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with mode 0600 (``O_CREAT`` added), ``O_NOFOLLOW`` where the OS has it."""
    fd = os.open(path, flags | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    with contextlib.suppress(OSError):
        os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode through os.open
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), mode 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = open_private(tmp, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    """``os.pwrite`` until every byte of ``data`` is at ``offset``: a short write (a disk that
    fills up part-way) goes on with the rest, so the next one raises the real error (ENOSPC)."""
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        if n <= 0:  # no progress and no errno: never report a write that did not happen
            raise OSError(errno.EIO, "write made no progress")
        view = view[n:]
        offset += n


def write_all(fd: int, data: bytes | memoryview) -> None:
    """``os.write`` until every byte of ``data`` is written (for ``O_APPEND`` files)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "write made no progress")
        view = view[n:]


def fsync_dir(path: Path) -> None:
    """fsync a directory: a rename or a new file in it survives a power cut once this returns."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a file system that cannot sync a directory
            raise
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents, which get the umask's mode) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(path, PRIVATE_DIR)


def _chmod(path: Path, mode: int) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or stat.S_IMODE(st.st_mode) == mode:
        return False
    try:
        path.chmod(mode)
    except OSError as exc:  # not ours (another account's file): say so, carry on
        logger.warning("cannot restrict the mode of %s: %s", path.name, exc.strerror)
        return False
    return True


def secure_tree(root: Path) -> int:
    """Make ``root`` and every directory below it 0700 and every file 0600 (symbolic links are
    neither followed nor changed). Returns how many entries were changed."""
    changed = 0
    if not root.is_dir() or root.is_symlink():
        return 0
    changed += _chmod(root, PRIVATE_DIR)
    for current, dirs, names in os.walk(root, followlinks=False):
        base = Path(current)
        for d in dirs:
            changed += _chmod(base / d, PRIVATE_DIR)
        for n in names:
            p = base / n
            if p.is_file() and not p.is_symlink():
                changed += _chmod(p, PRIVATE_FILE)
    return changed


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URL; None for other databases and memory."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    raw = url.split(":///", 1)[1].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw)


def secure_sqlite(path: Path) -> None:
    """Create the database file 0600 when missing and make it and its side files 0600."""
    if not path.exists() and path.parent.is_dir():
        with contextlib.suppress(FileExistsError):  # an empty file is a new database to SQLite
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for suffix in ("", *SQLITE_SIDE_FILES):
        _chmod(path.with_name(path.name + suffix), PRIVATE_FILE)


def secure_data_dir(data_dir: Path, database_url: str | None = None) -> None:
    """At start-up: data dir 0700 with everything below it private, and the SQLite file (which
    ``--db`` may put elsewhere) created 0600 before SQLite opens it."""
    make_private_dir(data_dir)
    changed = secure_tree(data_dir)
    db = sqlite_file(database_url) if database_url else None
    if db is not None:
        secure_sqlite(db)
    if changed:
        logger.warning("restricted the modes of %d entries in the data dir to 0700/0600",
                       changed)
