"""The sync manifest: which files are indexed, their content hash and chunk ids."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1


@dataclass(frozen=True)
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
    # The embedding model and backend the stored vectors come from ("" before the first sync).
    embedding: str = ""
    last_sync: str | None = None
    # True while a sync is writing: a crash leaves it set, and the next sync reconciles.
    in_progress: bool = False
    files: dict[str, FileEntry] = field(default_factory=dict)

    @property
    def total_chunks(self) -> int:
        return sum(len(entry.chunks) for entry in self.files.values())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest on disk; parsed once per file version (it is read on every answer)."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls()
        key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with _cache_lock:
            cached = _cache.get(str(path))
        if cached is None or cached[0] != key:
            cached = (key, cls._parse(path))
            with _cache_lock:
                _cache[str(path)] = cached
        return cached[1].copy()

    @classmethod
    def _parse(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return cls()
        files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
        return cls(
            root=data.get("root", ""),
            chunking=data.get("chunking", ""),
            embedding=data.get("embedding", ""),
            last_sync=data.get("last_sync"),
            in_progress=bool(data.get("in_progress")),
            files=files,
        )

    def copy(self) -> Manifest:
        """A copy whose ``files`` can change freely (entries are frozen and shared)."""
        return Manifest(
            root=self.root,
            chunking=self.chunking,
            embedding=self.embedding,
            last_sync=self.last_sync,
            in_progress=self.in_progress,
            files=dict(self.files),
        )

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves either the old or the new manifest."""
        data = {
            "version": VERSION,
            "root": self.root,
            "chunking": self.chunking,
            "embedding": self.embedding,
            "last_sync": self.last_sync,
            "in_progress": self.in_progress,
            "files": {name: asdict(entry) for name, entry in sorted(self.files.items())},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with _cache_lock:
            _cache[str(path)] = (key, self.copy())


_cache: dict[str, tuple[tuple[str, int, int, int], Manifest]] = {}
_cache_lock = threading.Lock()
