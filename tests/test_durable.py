"""Atomic, durable writes (rag/durable.py): what a crash, a full disk, a second writer or another
user of the machine can see of a file the index writes."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.durable import HOST, STALE_SECONDS, sweep_stale, write_atomic, write_file
from rag.errors import DiskFullError, StoreError
from rag.users import add_user


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_threads_of_one_process_replacing_one_file_never_tear_it(tmp_path: Path) -> None:
    """Each write has its own temporary file: a name shared by a process's threads let one
    truncate another's half-written file before its rename (a torn file, or a failed rename)."""
    path = tmp_path / "state.json"
    payloads = [json.dumps({"writer": w, "pad": "x" * (20_000 + w)}).encode() for w in range(4)]
    write_atomic(path, payloads[0])
    errors: list[BaseException] = []
    seen: set[bytes] = set()
    done = threading.Event()

    def writer(data: bytes) -> None:
        try:
            for _ in range(60):
                write_atomic(path, data)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def reader() -> None:
        while not done.is_set():
            seen.add(path.read_bytes())

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [threading.Thread(target=writer, args=(data,)) for data in payloads]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    watcher.join()
    assert errors == []
    assert seen <= set(payloads), "a reader saw a file no writer wrote whole"
    assert path.read_bytes() in payloads
    assert _leftovers(tmp_path) == []


def test_a_private_file_is_never_readable_by_others_not_even_before_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The users file holds password hashes: created 0600, not chmod-ed after the fact."""
    modes: list[int] = []
    replace = os.replace

    def watched(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        modes.append(stat.S_IMODE(os.stat(src).st_mode))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", watched)
    old = os.umask(0)
    try:
        add_user(tmp_path / "users.json", "rita", "reader", "reader-pass-1", rounds=4)
        write_atomic(tmp_path / "other.json", b"{}")
    finally:
        os.umask(old)
    assert modes == [0o600, 0o666]  # the users file private; another file as the umask says
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_nothing_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "manifest.json"
    write_atomic(path, b'{"old": true}')

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match="is full: free some space"):
        write_atomic(path, b'{"new": true}')
    monkeypatch.undo()
    assert path.read_bytes() == b'{"old": true}'
    assert _leftovers(tmp_path) == []
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(StoreError, match=r"Cannot write .*check that RAG_STORE_DIR"):
        write_atomic(tmp_path / "blocker" / "x.json", b"{}")


KILLED_BEFORE_RENAME = """
import os, sys
from pathlib import Path
import rag.durable as durable
durable.os.replace = lambda *a: os._exit(9)  # the power cut: after the write, before the rename
durable.write_atomic(Path(sys.argv[1]), b"x" * 100_000)
"""


def test_a_writer_killed_before_its_rename_leaves_a_file_the_next_write_removes(
    tmp_path: Path,
) -> None:
    """A kill between write and rename left ``.NAME.PID.HEX.tmp`` (as big as the file) for
    good: the next write of that file removes the ones of writers that run no more."""
    path = tmp_path / "manifest.json"
    write_atomic(path, b'{"old": true}')
    left = []
    for _ in range(2):
        killed = subprocess.run([sys.executable, "-c", KILLED_BEFORE_RENAME, str(path)])
        assert killed.returncode == 9
        left.append(_leftovers(tmp_path))
    # The first one's file is younger than STALE_SECONDS when the second writes: kept (it could
    # be a live writer's of another process space sharing the machine's name).
    assert [len(names) for names in left] == [1, 2] and left[0][0] in left[1]
    assert path.read_bytes() == b'{"old": true}'  # the killed writers changed nothing
    aged = time.time() - STALE_SECONDS - 1
    for name in left[1]:
        assert name.startswith(".manifest.json.") and name.endswith(".tmp")
        assert (tmp_path / name).stat().st_size == 100_000
        os.utime(tmp_path / name, (aged, aged))
    write_atomic(path, b'{"new": true}')
    assert _leftovers(tmp_path) == [] and path.read_bytes() == b'{"new": true}'


def test_only_temporary_files_of_dead_writers_of_that_file_are_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    hexes = "0123456789ab"
    other = "0" * 8 if HOST != "0" * 8 else "1" * 8
    names = {
        "dead": f".manifest.json.{HOST}-{dead.pid}.{hexes}.tmp",
        "huge pid": f".manifest.json.{HOST}-{10**30}.{hexes}.tmp",
        "running (this process)": f".manifest.json.{HOST}-{os.getpid()}.{hexes}.tmp",
        "running (pid 1)": f".manifest.json.{HOST}-1.{hexes}.tmp",
        "another machine's": f".manifest.json.{other}-{dead.pid}.{hexes}.tmp",
        "another file's": f".users.json.{HOST}-{dead.pid}.{hexes}.tmp",
        "a longer name": f".manifest.json.bak.{HOST}-{dead.pid}.{hexes}.tmp",
        "not a token": f".manifest.json.{HOST}-{dead.pid}.{hexes[:-1]}z.tmp",
        "a short token": f".manifest.json.{HOST}-{dead.pid}.{hexes[:-2]}.tmp",
        "a name that goes on": f".manifest.json.{HOST}-{dead.pid}.{hexes}.tmp.old.tmp",
        "no machine (before)": f".manifest.json.{dead.pid}.{hexes}.tmp",
    }
    aged = time.time() - STALE_SECONDS - 1
    for name in names.values():
        (tmp_path / name).write_text("left")
        os.utime(tmp_path / name, (aged, aged))
    names["dead but young"] = f".manifest.json.{HOST}-{dead.pid}.{'f' * 12}.tmp"
    (tmp_path / names["dead but young"]).write_text("left a minute ago")
    removed = sweep_stale(tmp_path / "manifest.json")
    assert sorted(p.name for p in removed) == sorted([names["dead"], names["huge pid"]])
    kept = set(names.values()) - {names["dead"], names["huge pid"]}
    assert set(_leftovers(tmp_path)) == kept
    assert sweep_stale(tmp_path / "manifest.json") == []
    assert sweep_stale(tmp_path / "no-such-folder" / "x.json") == []


def test_an_exclusive_write_does_not_follow_a_planted_link(tmp_path: Path) -> None:
    """A temporary name someone created first (a symbolic link to a file of the victim's) is
    refused, not written through."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "link.tmp"
    link.symlink_to(victim)
    with pytest.raises(FileExistsError):
        write_file(link, b"overwritten", exclusive=True)
    assert victim.read_text() == "precious"
    write_file(tmp_path / "plain.bin", b"1234")
    write_file(tmp_path / "plain.bin", b"ab")  # not exclusive: truncated and rewritten
    assert (tmp_path / "plain.bin").read_bytes() == b"ab"


def test_an_atomic_write_refuses_a_link_planted_at_its_temporary_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    monkeypatch.setattr("rag.durable.secrets.token_hex", lambda n: "f" * 2 * n)
    (tmp_path / f".manifest.json.{HOST}-{os.getpid()}.ffffffffffff.tmp").symlink_to(victim)
    with pytest.raises(StoreError, match="File exists"):
        write_atomic(tmp_path / "manifest.json", b"{}")
    assert victim.read_text() == "precious" and not (tmp_path / "manifest.json").exists()


def test_a_write_makes_the_folders_it_needs_and_a_new_file_takes_the_default_mode(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "a" / "b" / "c" / "manifest.json"
    write_atomic(deep, b"{}")
    assert deep.read_bytes() == b"{}"
    old = os.umask(0)
    try:
        write_file(tmp_path / "plain.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plain.bin").stat().st_mode) == 0o666


def test_a_full_disk_is_told_apart_whoever_raised_it_and_however_deep() -> None:
    from rag.durable import disk_full, is_disk_full, write_error

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(RuntimeError("Database or disk is full"))  # Chroma's SQLite, any case
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(RuntimeError("something else"))
    try:  # the cause of a cause, and an error raised while handling one (its context)
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise ValueError("wrapped") from inner
    except ValueError as middle:
        outer = RuntimeError("outer")
        outer.__context__ = middle
    assert is_disk_full(outer)
    only_context = RuntimeError("outer")
    only_context.__cause__ = None
    only_context.__context__ = OSError(errno.ENOSPC, "full")
    assert is_disk_full(only_context)
    where = Path("/data/store/manifest.json")
    assert str(disk_full(where.parent)) == (
        "The disk holding /data/store is full: free some space (or set RAG_STORE_DIR to a disk "
        "with room) and run rag ingest again; what was indexed before is kept."
    )
    # A server's full disk: not this machine's RAG_STORE_DIR, and its index is the team's.
    assert str(disk_full("http://127.0.0.1:8000")) == (
        "The disk of the Chroma server at http://127.0.0.1:8000 is full: free some space where "
        "its store is kept (chroma run --path DIR) and run rag ingest again; the index is not "
        "damaged, do not delete it."
    )
    assert "RAG_STORE_DIR" not in str(disk_full("https://index-host:8443"))
    full = write_error(OSError(errno.ENOSPC, "No space left on device"), where)
    assert isinstance(full, DiskFullError) and str(full) == str(disk_full(where.parent))
    denied = write_error(OSError(errno.EACCES, "Permission denied"), where)
    assert str(denied) == (
        "Cannot write /data/store/manifest.json (Permission denied): check that RAG_STORE_DIR "
        "is a writable folder, then run rag ingest again."
    )
    assert not isinstance(denied, DiskFullError)
    bare = write_error(OSError("no errno"), where)
    assert str(bare).startswith("Cannot write /data/store/manifest.json (no errno): ")
