"""An append-only audit log of the changes asked of the page: one JSON line per attempt.

Who (the signed-in user and their role, the client's address), what (upload, delete, resync and
the file names; or a sign-in that failed or was turned away), when (UTC, ISO 8601) and the
result: ``ok``, ``refused`` (with the reason) or ``error`` (with the message). The file is opened
with ``O_APPEND`` for each line, written in one call, flushed and fsynced: lines from several
threads or processes never interleave, and a line that was reported written survives a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rag.errors import ConfigError

Action = Literal["upload", "delete", "resync", "sign-in"]
Result = Literal["ok", "refused", "error"]
_LOCK = threading.Lock()


@dataclass(frozen=True)
class AuditEvent:
    user: str | None  # None: a page without sign-in (loopback), or not signed in
    role: str | None
    action: Action
    files: tuple[str, ...]
    result: Result
    reason: str = ""  # why it was refused, what went wrong, or what the page reported
    client: str = ""  # the client's address
    time: str = field(default_factory=lambda: now())

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["files"] = list(self.files)
        ordered = {key: data[key] for key in ("time", "user", "role", "client", "action",
                                              "files", "result", "reason")}  # fmt: skip
        return json.dumps(ordered, ensure_ascii=False)


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds (``2026-12-03T19:04:05.123+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def check_writable(path: Path) -> None:
    """Raise a one-line ``ConfigError`` unless lines can be appended to ``path``."""
    try:
        os.close(_open(path))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the audit log {path} ({exc.strerror or exc}): set RAG_AUDIT_LOG to a "
            "file in a folder you can write."
        ) from exc


def append(path: Path, event: AuditEvent) -> None:
    """Append ``event`` as one line to ``path`` and flush it to the disk (raises ``OSError``).

    A write that fails part way (a full disk) is taken back: the file is cut to its size before,
    so that no torn line is left for the next event to be glued to."""
    line = (event.to_json() + "\n").encode("utf-8")
    with _LOCK:
        fd = _open(path)
        try:
            before = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(line):
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                raise
        finally:
            os.close(fd)


def read(path: Path) -> list[dict[str, Any]]:
    """The events in ``path``, oldest first (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    # Lines end at "\n" only: str.splitlines() also splits at U+2028, U+2029 and U+0085,
    # which a JSON line holds as they are (a user name tried at sign-in can carry them).
    return [json.loads(line) for line in text.split("\n") if line.strip()]
