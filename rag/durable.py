"""Atomic, durable writes of the index's own files, and disk errors worth a clear message."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from rag.errors import DiskFullError, StoreError

_FULL = (errno.ENOSPC, errno.EDQUOT)
_FULL_TEXT = ("no space left", "disk is full", "database or disk is full", "quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (ours, the OS's or Chroma's) says the disk has no space left."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _FULL:
            return True
        if any(text in str(exc).lower() for text in _FULL_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def disk_full(where: Path | str) -> DiskFullError:
    return DiskFullError(
        f"The disk holding {where} is full: free some space (or set RAG_STORE_DIR to a disk "
        "with room) and run rag ingest again; what was indexed before is kept."
    )


def write_error(exc: OSError, path: Path) -> StoreError:
    if is_disk_full(exc):
        return disk_full(path.parent)
    return StoreError(
        f"Cannot write {path} ({exc.strerror or exc}): check that RAG_STORE_DIR is a writable "
        "folder, then run rag ingest again."
    )


def fsync_dir(path: Path) -> None:
    """Make a rename or creation in ``path`` survive a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, mode: int = 0o666, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` and flush it to the disk (no rename: see write_atomic).

    A new file gets ``mode`` (less the umask) from its creation on; ``exclusive``: fail if
    ``path`` exists, a symbolic link included, rather than write through it.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with open(os.open(path, flags, mode), "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def write_atomic(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Replace ``path`` so that a crash or power loss leaves the old or the new file, whole.

    Write a temporary file of its own (a new name each call: two writers, threads of one
    process included, never share one), fsync it, rename it over ``path``, then fsync the
    folder. The file is created with ``mode`` (less the umask): a private file is never
    readable by others, not even before its rename.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(tmp, data, mode, exclusive=True)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise write_error(exc, path) from exc
