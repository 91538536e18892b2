"""The audit log (rag/audit.py) on real files: each line reaches the disk before ``append``
returns (seen by strace).

Tests written for deliberate bugs a review planted in rag/audit.py that the suite let through:

- ``os.fsync`` dropped from ``append``: a line reported written (the change it records already
  made) could be lost by a power cut, and nothing checked the system calls;
- ``append`` without its lock: threads whose lines took several writes (short writes: a full
  disk, a signal, a network file system) glued their pieces into each other's lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from rag import audit
from tests.conftest import system_calls


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see the fsyncs")
def test_an_audit_line_is_fsynced_after_it_is_written(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    code = (
        "import sys; from pathlib import Path; from rag import audit; "
        "audit.append(Path(sys.argv[1]), "
        "audit.AuditEvent('ed', 'editor', 'delete', ('a.txt',), 'ok'))"
    )
    calls = system_calls(code, [str(log)], "openat,write,fsync,close", tmp_path / "trace.log")
    opened = next(
        (i, found[1])
        for i, call in enumerate(calls)
        if (found := re.search(rf'openat\(.*"{re.escape(str(log))}".*= (\d+)$', call))
    )
    start, fd = opened
    after = calls[start:]
    written = next(i for i, call in enumerate(after) if re.search(rf"write\({fd},", call))
    closed = next(i for i, call in enumerate(after) if re.search(rf"close\({fd}\)", call))
    assert any(re.search(rf"fsync\({fd}\)", call) for call in after[written:closed]), calls
    assert '"action": "delete"' in log.read_text(encoding="utf-8")


def test_lines_of_several_threads_stay_whole_through_short_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def short_write(fd: int, data: bytes) -> int:
        time.sleep(0.001)  # another thread may run between the pieces
        return real_write(fd, bytes(data)[:16])

    monkeypatch.setattr(os, "write", short_write)
    path = tmp_path / "audit.jsonl"
    start = threading.Barrier(6)

    def log_one(n: int) -> None:
        start.wait()
        audit.append(path, audit.AuditEvent(f"user{n}", "editor", "upload", (f"f{n}.md",), "ok"))

    threads = [threading.Thread(target=log_one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    assert sorted(json.loads(line)["user"] for line in lines[:-1]) == [f"user{n}" for n in range(6)]
