"""rag/durable.py's steps and edges that the other durable tests do not see: the folder is
flushed after the rename (or the rename itself can be lost to a power cut), a writer of another
user is alive however its process answers, a temporary file a few minutes old is left to its
writer, and a file system's inode count read right where it has none or the store is not made
yet.

Tests written for deliberate bugs a review planted in rag/durable.py that the suite let through:

- ``_place`` without ``fsync_dir`` after the rename (the new name could be lost on power loss);
- ``_alive`` reading EPERM (a process of another user) as dead: that writer's temporary file
  removed under it;
- ``STALE_SECONDS`` at 60 instead of 600 (a slow writer's file swept after a minute);
- ``out_of_inodes`` without its ``f_files > 0`` check: a file system that counts no inodes
  (procfs here, some network and copy-on-write ones) read as out of them;
- ``out_of_inodes`` giving up at a folder that does not exist yet instead of asking its
  nearest parent (a store not created yet on a disk out of inodes was told "full").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.durable import HOST, out_of_inodes, sweep_stale, write_atomic
from tests.tmpfs import run_on_tmpfs

ROOT = Path(__file__).resolve().parents[1]


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def test_the_folder_is_flushed_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real calls, watched in order: the file's data, the rename, then the folder (which
    holds the new name: without its flush a power cut can bring back the old file)."""
    steps: list[tuple[str, str]] = []
    fsync, replace = os.fsync, os.replace

    def watched_fsync(fd: int) -> None:
        steps.append(("fsync", _fd_path(fd)))
        fsync(fd)

    def watched_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        steps.append(("replace", str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    monkeypatch.setattr(os, "replace", watched_replace)
    path = tmp_path / "manifest.json"
    write_atomic(path, b"{}")
    assert [step for step, _ in steps] == ["fsync", "replace", "fsync"]
    assert steps[0][1].startswith(str(tmp_path / ".manifest.json."))
    assert steps[1:] == [("replace", str(path)), ("fsync", str(tmp_path))]


def _aged(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_dead_writers_file_of_five_minutes_is_left_to_it(tmp_path: Path) -> None:
    """A writer lives for seconds, but the name's process number may be of another process
    space (two containers of one host name): its file is kept ten minutes, the product's
    choice (STALE_SECONDS), not one."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    young = tmp_path / f".manifest.json.{HOST}-{dead.pid}.{'a' * 12}.tmp"
    old = tmp_path / f".manifest.json.{HOST}-{dead.pid}.{'b' * 12}.tmp"
    for path, age in ((young, 300), (old, 601)):
        path.write_text("left")
        _aged(path, age)
    assert sweep_stale(tmp_path / "manifest.json") == [old]
    assert young.exists()


SWEEP = """
import sys
from pathlib import Path
from rag.durable import sweep_stale
print(len(sweep_stale(Path(sys.argv[1]))))
"""


def test_a_writer_running_as_another_user_is_alive(tmp_path: Path) -> None:
    """``kill(pid, 0)`` on another user's process fails with EPERM: it runs. Root may signal
    anyone, so as root the sweep runs in a user namespace (no capabilities) and the writer is
    a process of user 65534; as another user, pid 1 (root's) is that writer."""
    writer = None
    if os.geteuid() == 0:
        if not shutil.which("unshare"):
            pytest.skip("needs unshare to sweep without root's rights")
        command = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]
        if subprocess.run([*command, "true"], capture_output=True).returncode != 0:
            pytest.skip("needs a user namespace to sweep without root's rights")
        writer = subprocess.Popen(["sleep", "60"], user=65534)
        pid = writer.pid
    else:
        command, pid = [], 1
    try:
        left = tmp_path / f".manifest.json.{HOST}-{pid}.{'c' * 12}.tmp"
        left.write_text("being written")
        _aged(left, 3600)
        done = subprocess.run(
            [*command, sys.executable, "-c", SWEEP, str(tmp_path / "manifest.json")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        if writer is not None:
            writer.kill()
            writer.wait()
    assert (done.returncode, done.stdout) == (0, "0\n"), done.stderr
    assert left.exists()


def test_a_file_system_that_counts_no_inodes_is_not_out_of_them() -> None:
    stats = os.statvfs("/proc")
    assert stats.f_files == 0  # procfs reports no inode count, as btrfs and some shares do
    assert not out_of_inodes(Path("/proc"))
    assert not out_of_inodes(Path("/proc/no-such-entry/store"))


INODES = """
import sys
from pathlib import Path
from rag.durable import disk_full, out_of_inodes
store = Path(sys.argv[1]) / "index" / "store"
print(out_of_inodes(Path(sys.argv[1])), out_of_inodes(store))
print(disk_full(store))
"""


def test_a_store_not_made_yet_is_judged_by_the_disk_it_would_be_on(tmp_path: Path) -> None:
    """A tmpfs of 12 inodes (one used by its root), mounted in a user namespace: the store's
    folder is not there, so its nearest parent's file system is the one asked."""
    mount = tmp_path / "disk"
    done = run_on_tmpfs(mount, "size=64k,nr_inodes=12", INODES)
    assert done.returncode == 0, done.stderr
    first, message = done.stdout.splitlines()
    assert first == "True True"
    assert message.startswith(f"The disk holding {mount}/index/store can hold no more files")
