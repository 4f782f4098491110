"""Atomic file writes, stale temporary files, and one lock per folder.

A write goes to a temporary file beside its target (``.<name>.<random>.tmp``), is flushed to disk,
renamed over the target (atomic on POSIX) and the folder is synced, so readers see the old file or the
new one, never a part, and a power cut keeps one of the two. A write killed half-way leaves its temporary
file behind; the next write of the same target removes those older than :data:`STALE_TMP_SECONDS` (a
writer that holds the folder's lock removes them all at once: see :func:`clean_temporaries`).
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from filelock import FileLock, Timeout

TMP_SUFFIX = ".tmp"
STALE_TMP_SECONDS = 15 * 60
"""A temporary file untouched for this long belongs to a write that was interrupted."""
LOCK_FILE = ".lock"
LOCK_TIMEOUT = 600.0
"""Seconds a writer waits for another writer of the same folder before giving up."""
FILE_MODE = 0o666
"""Mode of a new file before the process umask applies (the usual 0644 under umask 022)."""


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def temporaries(path: Path) -> list[Path]:
    """The temporary files of writes of ``path`` (finished writes leave none)."""
    path = Path(path)
    return sorted(path.parent.glob(f"{_tmp_prefix(path)}*{TMP_SUFFIX}"))


def clean_temporaries(folder: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove temporary files in ``folder`` untouched for ``older_than`` seconds (0: all); return them."""
    return _remove_stale(Path(folder).glob(f".*{TMP_SUFFIX}"), older_than)


def _remove_stale(candidates: Iterable[Path], older_than: float) -> list[Path]:
    now = time.time()
    removed = []
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime >= older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue  # removed meanwhile by another writer, or not ours to remove
    return removed


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the directory entry itself is synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform without directory handles: the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], object], durable: bool = True) -> None:
    """Call ``write`` on a temporary file in the same directory, then rename it over ``path``.

    Readers see the old file or the new one, never a part; a failing ``write`` leaves ``path`` untouched.
    The new file keeps the mode of the file it replaces (else 0666 less the umask, which is never
    changed: changing it is process-wide and unsafe beside other threads). ``durable`` syncs the file and
    its folder to disk; ``durable=False`` is for caches (after a power cut the file may be missing or
    empty, never half of another). Stale temporary files of earlier, interrupted writes of ``path``
    are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(temporaries(path), STALE_TMP_SECONDS)
    tmp = path.parent / f"{_tmp_prefix(path)}{secrets.token_hex(6)}{TMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        try:
            os.fchmod(fd, path.stat().st_mode & 0o7777)
        except (FileNotFoundError, AttributeError):
            pass  # a new file: 0666 less the umask, as the kernel applied it
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write`)."""
    data = text.encode("utf-8")
    atomic_write(path, lambda fh: fh.write(data), durable)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: fh.write(data))


class FolderLock:
    """An exclusive lock on a folder, across processes and threads: ``with FolderLock(folder): ...``.

    Every writer of the folder takes it; readers never need it. Waiting longer than ``timeout`` seconds
    raises ``TimeoutError`` naming the folder.
    """

    def __init__(self, folder: Path | str, timeout: float = LOCK_TIMEOUT):
        self.folder = Path(folder)
        self.timeout = timeout
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.folder / LOCK_FILE), timeout=timeout, thread_local=False,
                              is_singleton=False)

    def __enter__(self) -> FolderLock:
        try:
            self._lock.acquire()
        except Timeout as err:
            raise TimeoutError(f"{self.folder}: another writer has held its lock for more than {self.timeout:g} s; "
                               f"try again when it has finished") from err
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
