"""The sync manifest: which files are indexed, their content hash and chunk ids."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.durable import write_atomic
from rag.errors import StoreDamagedError, StoreError

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
    # Bumped by every sync that changes the index, and written to Chroma and BM25 too: parts
    # that disagree on it were not written by the same sync.
    generation: int = 0
    # The host whose sync wrote it last ("" if unknown): in team mode, the writer.
    host: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)

    @property
    def total_chunks(self) -> int:
        return sum(len(entry.chunks) for entry in self.files.values())

    @property
    def chunk_ids(self) -> set[str]:
        return {chunk_id for entry in self.files.values() for chunk_id in entry.chunks}

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest on disk; parsed once per file version (it is read on every answer).

        Raises ``StoreDamagedError`` naming the file when it cannot be read.
        """
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls()
        except NotADirectoryError as exc:
            raise StoreError(
                f"The store folder {path.parent} is a file, not a folder: move it away, or set "
                "RAG_STORE_DIR to a folder the index can live in."
            ) from exc
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION:
                return cls()
            files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
            return cls(
                root=str(data.get("root", "")),
                chunking=str(data.get("chunking", "")),
                embedding=str(data.get("embedding", "")),
                last_sync=data.get("last_sync"),
                in_progress=bool(data.get("in_progress")),
                generation=int(data.get("generation", 0)),
                host=str(data.get("host", "")),
                files=files,
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            reason = "empty" if path.is_file() and not path.stat().st_size else type(exc).__name__
            raise StoreDamagedError(
                f"The index manifest {path} is unreadable ({reason}): run rag ingest to rebuild "
                "it from the index, or delete it and run rag ingest."
            ) from exc

    def copy(self) -> Manifest:
        """A copy whose ``files`` can change freely (entries are frozen and shared)."""
        return Manifest(
            root=self.root,
            chunking=self.chunking,
            embedding=self.embedding,
            last_sync=self.last_sync,
            in_progress=self.in_progress,
            generation=self.generation,
            host=self.host,
            files=dict(self.files),
        )

    def save(self, path: Path) -> None:
        """Write atomically and durably: a crash or power loss leaves the old or the new one."""
        data = {
            "version": VERSION,
            "root": self.root,
            "chunking": self.chunking,
            "embedding": self.embedding,
            "last_sync": self.last_sync,
            "in_progress": self.in_progress,
            "generation": self.generation,
            "host": self.host,
            "files": {name: asdict(entry) for name, entry in sorted(self.files.items())},
        }
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with _cache_lock:
            _cache[str(path)] = (key, self.copy())


_cache: dict[str, tuple[tuple[str, int, int, int], Manifest]] = {}
_cache_lock = threading.Lock()
