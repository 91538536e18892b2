"""The sync manifest: which files are indexed, their content hash and chunk ids."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1


@dataclass
class FileEntry:
    hash: str
    size: int
    mtime: float
    chunks: list[str]
    synced_at: str


@dataclass
class Manifest:
    root: str = ""
    chunking: str = ""
    last_sync: str | None = None
    # True while a sync is writing: a crash leaves it set, and the next sync reconciles.
    in_progress: bool = False
    files: dict[str, FileEntry] = field(default_factory=dict)

    @property
    def total_chunks(self) -> int:
        return sum(len(entry.chunks) for entry in self.files.values())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return cls()
        files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
        return cls(
            root=data.get("root", ""),
            chunking=data.get("chunking", ""),
            last_sync=data.get("last_sync"),
            in_progress=bool(data.get("in_progress")),
            files=files,
        )

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves either the old or the new manifest."""
        data = {
            "version": VERSION,
            "root": self.root,
            "chunking": self.chunking,
            "last_sync": self.last_sync,
            "in_progress": self.in_progress,
            "files": {name: asdict(entry) for name, entry in sorted(self.files.items())},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
