"""Atomic, durable writes of the index's own files, and disk errors worth a clear message."""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from rag.errors import DiskFullError, StoreError

# A temporary file's name past ``.NAME``: ``.HOST-PID.HEX.tmp`` (write_atomic), HOST a digest
# of this machine's name: a folder shared between machines holds other machines' writers, whose
# process numbers mean nothing here.
TOKEN_BYTES = 6
# A temporary file this old is no live writer's (one lives for seconds at most), even where the
# machine's name cannot tell two process spaces apart (two containers of one host name sharing
# a folder). A product choice: leftovers wait this long for the next write to remove them.
STALE_SECONDS = 600
HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_STALE = re.compile(rf"\.([0-9a-f]{{8}})-([0-9]+)\.[0-9a-f]{{{2 * TOKEN_BYTES}}}\.tmp")
_FULL = (errno.ENOSPC, errno.EDQUOT)
# Free inodes under which a store's disk counts as out of them (see out_of_inodes).
LOW_INODES = 16
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


def on_server(where: Path | str) -> bool:
    """Whether ``where`` (a store's location as messages name it) is a Chroma server's URL."""
    return str(where).startswith(("http://", "https://"))


def disk_full(where: Path | str) -> DiskFullError:
    if on_server(where):  # the server's disk, not this machine's
        return DiskFullError(
            f"The disk of the Chroma server at {where} is full: free some space where its store "
            "is kept (chroma run --path DIR) and run rag ingest again; the index is not "
            "damaged, do not delete it."
        )
    if out_of_inodes(Path(where)):
        return no_inodes(where)
    return DiskFullError(
        f"The disk holding {where} is full: free some space (or set RAG_STORE_DIR to a disk "
        "with room) and run rag ingest again; what was indexed before is kept."
    )


def no_inodes(where: Path | str) -> DiskFullError:
    return DiskFullError(
        f"The disk holding {where} can hold no more files (no free inodes, though bytes may "
        "be free): remove files you do not need from that disk (or set RAG_STORE_DIR to "
        "another one) and run rag ingest again; what was indexed before is kept."
    )


def out_of_inodes(where: Path) -> bool:
    """Whether the file system holding ``where`` (or its nearest existing parent) is out of
    inodes: then "no space" means too many files, not too many bytes. Fewer than
    ``LOW_INODES`` count: a Chroma write opens a journal and segment files at once, and its
    temporary files are gone by the time the error is read."""
    for folder in (where, *where.parents):
        try:
            stats = os.statvfs(folder)
        except OSError:
            continue
        return stats.f_files > 0 and stats.f_favail < LOW_INODES
    return False


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


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user's included)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # none, or a number no process can have
        return False
    except OSError:  # EPERM: it runs, as someone else
        return True
    return True


def temporary_name(path: Path) -> Path:
    """A new name beside ``path`` for a file written before it is renamed to ``path``
    (``.NAME.HOST-PID.HEX.tmp``: ``sweep_stale`` knows whose it is)."""
    token = secrets.token_hex(TOKEN_BYTES)
    return path.with_name(f".{path.name}.{HOST}-{os.getpid()}.{token}.tmp")


def sweep_stale(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` that writers killed before their rename left
    (``.NAME.HOST-PID.HEX.tmp`` of a process of this machine that runs no more); the ones
    removed.

    A crash or a kill between write and rename leaves one such file, as big as ``path``, and
    nothing else reads or removes it. A running writer's file is left alone (its process is
    alive, this one's threads included), as are another machine's, names of other forms, and
    files younger than ``STALE_SECONDS``.
    """
    removed = []
    with contextlib.suppress(OSError):  # a folder that cannot be listed: nothing to sweep
        for entry in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            found = _STALE.fullmatch(entry.name[len(path.name) + 1 :])
            if found is None or found.group(1) != HOST or _alive(int(found.group(2))):
                continue
            with contextlib.suppress(OSError):
                if time.time() - entry.lstat().st_mtime < STALE_SECONDS:
                    continue  # perhaps a live writer whose process numbers are not ours
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    return removed


def write_atomic(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Replace ``path`` so that a crash or power loss leaves the old or the new file, whole.

    Write a temporary file of its own (a new name each call: two writers, threads of one
    process included, never share one), fsync it, rename it over ``path``, then fsync the
    folder. The file is created with ``mode`` (less the umask): a private file is never
    readable by others, not even before its rename. The temporary files of writers killed
    before their rename are removed first (``sweep_stale``).
    """
    try:
        replace_file(path, data, mode)
    except OSError as exc:
        raise write_error(exc, path) from exc


def replace_file(path: Path, data: bytes, mode: int = 0o666) -> None:
    """``write_atomic`` for files outside the store: the same writing, and an ``OSError``
    (naming the temporary file, if that is what failed) rather than a store error."""
    _place(path, data, mode, os.replace)


def write_new(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Create ``path`` whole with ``data``, as ``write_atomic`` writes, unless it exists:
    then ``FileExistsError`` and nothing changes (the file is given its name by a link, so of
    two writers racing, exactly one makes it). Other failures are raised as ``OSError``."""
    _place(path, data, mode, os.link)


def _place(path: Path, data: bytes, mode: int, place: Callable[[Path, Path], None]) -> None:
    """Write ``data`` to a temporary file of its own beside ``path``, flush it, ``place`` it
    at ``path`` (rename or link), flush the folder; the temporary name never stays."""
    tmp = temporary_name(path)
    sweep_stale(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(tmp, data, mode, exclusive=True)
        place(tmp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # gone after a rename; a link's second name
