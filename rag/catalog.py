"""The document list of the index (the manifest), its writer lock and the documents' texts.

This is where local and server mode differ, and the only place (``open_catalog``):

- Local: ``manifest.json`` in the store folder, a lock file beside it, texts read from the
  documents folder.
- Server (``RAG_CHROMA_URL``): the server is the truth. The document list and each document's
  full text live in a second collection, ``<collection>__documents`` (one record per document;
  the manifest's header in the collection's metadata), the writer lock is a lease held in the
  server (``rag/lease.py``). The store folder keeps only caches (BM25), rebuilt from the server
  when its generation moves on.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from rag.chunking import content_hash
from rag.errors import DocumentsError, StoreBusyError, StoreDamagedError, StoreError
from rag.lease import ServerLease
from rag.loaders import UnreadableFile, load_document
from rag.manifest import VERSION, FileEntry, Manifest
from rag.store import VectorStore, check_store_folder, guarded

log = logging.getLogger(__name__)
LOCK_FILE = "sync.lock"  # held by the one process that writes the store (or its caches)
PID_FILE = "sync.pid"  # which process that is, for the message of those waiting
_WAIT_LOG_EVERY_S = 30.0
_PAGE = 1000


class Catalog(Protocol):
    """What a sync and the answer path need besides the chunks' collection and BM25."""

    shared: bool  # True: other processes and machines write the same index (server mode)

    def load(self) -> Manifest:
        """The document list; ``StoreDamagedError`` if it cannot be read."""

    def save(self, manifest: Manifest) -> None:
        """Write the document list (with the texts given to ``keep_text`` since)."""

    def keep_text(self, source: str, text: str) -> None:
        """Remember a document's full text for the next ``save`` (server mode stores it)."""

    def stamp(self) -> Hashable:
        """Cheap: changes whenever any process saves the document list."""

    def lease(self, timeout: float | None) -> AbstractContextManager[None]:
        """Hold the index's writer lock beyond this store folder (server mode)."""

    def check(self) -> None:
        """Raise ``StoreBusyError`` if this writer lost the lease (server mode): called before
        every write, so that a writer another one replaced writes nothing more."""

    def document_text(self, source: str, root: Path) -> str:
        """The text every offset of ``source`` refers to."""


def open_catalog(
    store_dir: Path,
    chroma_url: str | None,
    store: Callable[[], VectorStore],
    manifest: Path | None = None,
) -> Catalog:
    """The seam between local and server mode. ``manifest``: the collection's manifest file
    (``Settings.own``), by default the store folder's ``manifest.json``."""
    if chroma_url:
        return ServerCatalog(store())
    return LocalCatalog(store_dir, manifest)


class LocalCatalog:
    """``manifest.json`` in the store folder (``manifest-<collection>.json`` for a collection
    other than the default); texts from the documents folder."""

    shared = False

    def __init__(self, store_dir: Path, manifest: Path | None = None) -> None:
        self.path = manifest if manifest is not None else store_dir / "manifest.json"

    def load(self) -> Manifest:
        return Manifest.load(self.path)

    def save(self, manifest: Manifest) -> None:
        manifest.save(self.path)

    def keep_text(self, source: str, text: str) -> None:
        pass  # the documents folder holds it

    def stamp(self) -> Hashable:
        try:
            stat = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_mtime_ns, stat.st_ino

    def lease(self, timeout: float | None) -> AbstractContextManager[None]:
        return nullcontext()  # the store folder's lock file is the whole lock

    def check(self) -> None:
        pass  # the lock file is held until the process ends: it cannot be lost

    def document_text(self, source: str, root: Path) -> str:
        try:
            path = (root / source).resolve()
            inside = root.resolve() in path.parents and path.is_file()
        except (OSError, ValueError):  # a NUL byte, a name too long
            inside = False
        if not inside:
            raise DocumentsError(
                f"{source!r} is not a document of {root}: run rag docs to list them."
            )
        try:
            stat = path.stat()
            text = _loaded_text(
                str(path), stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino
            )
        except (OSError, UnreadableFile) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DocumentsError(
                f"Cannot read {source!r} in {root} ({reason}): give this user read access to "
                "it, or run rag ingest to bring the index in line with the folder."
            ) from exc
        indexed = _indexed_hashes(self.path, self.stamp()).get(source)
        if indexed is not None and indexed != content_hash(text):
            # The citations' offsets are into the text as indexed: into this one, they would
            # point at the wrong words without a sign (a file edited, not synced yet).
            raise DocumentsError(
                f"{source!r} has changed since it was indexed, so the offsets of its citations "
                "no longer point into it: run rag ingest (or wait for the running sync), then "
                "ask again."
            )
        return text


@functools.lru_cache(maxsize=4)
def _indexed_hashes(path: Path, stamp: Hashable) -> dict[str, str]:
    """Each document's content hash as the manifest at ``path`` lists it, read once while the
    manifest stays the same (``stamp``)."""
    return {source: entry.hash for source, entry in Manifest.load(path).files.items()}


@functools.lru_cache(maxsize=16)
def _loaded_text(path: str, mtime_ns: int, ctime_ns: int, size: int, inode: int) -> str:
    """A document's text, parsed once while the file stays the same (its modification and
    change times, size and inode; a write or a ``touch`` moves the change time). The page
    shows each answer's passages in their document: parsing a long HTML page again for every
    answer cost more than the answer."""
    return load_document(Path(path)).text


_HEADER = ("root", "chunking", "embedding", "last_sync", "in_progress", "generation", "host")


class ServerCatalog:
    """The document list and texts in ``<collection>__documents`` on the Chroma server."""

    shared = True

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self.where = store.where
        self.documents = store.companion("documents")
        self._texts: dict[str, str] = {}
        self._saved: tuple[Hashable, Manifest] | None = None  # as last loaded or saved
        self._lease: ServerLease | None = None

    @guarded("reading the document list")
    def _header(self) -> dict[str, Any]:
        return dict(self.store.client.get_collection(self.documents.name).metadata or {})

    def stamp(self) -> Hashable:
        return self._header().get("revision")

    def load(self) -> Manifest:
        header = self._header()
        revision = header.get("revision")
        if self._saved is not None and self._saved[0] == revision:
            return self._saved[1].copy()
        manifest = self._read(header)
        self._saved = (revision, manifest.copy())
        return manifest

    @guarded("reading the document list")
    def _read(self, header: dict[str, Any]) -> Manifest:
        if not header or header.get("version") != VERSION:
            return Manifest()
        files: dict[str, FileEntry] = {}
        offset = 0
        while True:
            page = self.documents.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for source, meta in zip(page["ids"], page["metadatas"] or []):
                if meta is None:
                    continue
                try:
                    files[source] = FileEntry(
                        hash=str(meta["hash"]),
                        size=int(meta["size"]),
                        mtime=float(meta["mtime"]),
                        chunks=[str(c) for c in json.loads(str(meta["chunks"]))],
                        synced_at=str(meta["synced_at"]),
                    )
                except (KeyError, ValueError, TypeError) as exc:
                    raise StoreDamagedError(
                        f"The document list on {self.where} has an unreadable record for "
                        f"{source!r}: run rag ingest to rebuild it from the index."
                    ) from exc
            if len(page["ids"]) < _PAGE:
                break
            offset += _PAGE
        return Manifest(
            root=str(header.get("root", "")),
            chunking=str(header.get("chunking", "")),
            embedding=str(header.get("embedding", "")),
            last_sync=str(header["last_sync"]) if header.get("last_sync") else None,
            in_progress=bool(header.get("in_progress")),
            generation=int(header.get("generation", 0)),
            host=str(header.get("host", "")),
            files=files,
        )

    def keep_text(self, source: str, text: str) -> None:
        self._texts[source] = text

    @guarded("writing the document list")
    def save(self, manifest: Manifest) -> None:
        """Records first, header last: a crash in between leaves ``in_progress`` set by the
        sync's first save, and the next sync repairs (as a torn ``manifest.json`` cannot be)."""
        self.check()
        before: Mapping[str, FileEntry | None] = (
            self._saved[1].files if self._saved is not None else self._all_sources()
        )
        changed = {s: e for s, e in manifest.files.items() if before.get(s) != e}
        gone = [s for s in before if s not in manifest.files]
        with_text = [s for s in changed if s in self._texts]
        without_text = [s for s in changed if s not in self._texts]
        for group, texts in ((with_text, True), (without_text, False)):
            for i in range(0, len(group), 100):
                ids = group[i : i + 100]
                self.documents.upsert(
                    ids=ids,
                    embeddings=[[1.0]] * len(ids),  # Chroma wants a vector; none is searched
                    metadatas=[_entry_metadata(manifest.files[s]) for s in ids],
                    documents=[self._texts[s] for s in ids] if texts else None,
                )
        for i in range(0, len(gone), 500):
            self.documents.delete(ids=gone[i : i + 500])
        for source in changed:
            self._texts.pop(source, None)
        revision = uuid.uuid4().hex
        header: dict[str, Any] = {"version": VERSION, "revision": revision}
        for key, value in asdict(manifest).items():
            if key in _HEADER:
                header[key] = "" if value is None else value
        self.documents.modify(metadata=header)
        self._saved = (revision, manifest.copy())

    def _all_sources(self) -> dict[str, FileEntry | None]:
        found: dict[str, FileEntry | None] = {}
        offset = 0
        while True:
            page = self.documents.get(include=[], limit=_PAGE, offset=offset)
            found.update(dict.fromkeys(page["ids"]))
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def check(self) -> None:
        if self._lease is not None:
            self._lease.check()

    @contextmanager
    def lease(self, timeout: float | None) -> Iterator[None]:
        lease = ServerLease(self.store)
        with lease.held(timeout):
            self._lease = lease
            try:
                yield
            finally:
                self._lease = None

    @guarded("reading a document's text")
    def document_text(self, source: str, root: Path) -> str:
        found = self.documents.get(ids=[source], include=["documents"])
        texts = found["documents"] or []
        if not found["ids"] or not texts or texts[0] is None:
            raise DocumentsError(
                f"{source!r} is not a document of the index on {self.where}"
                + (" (its text was not stored: run rag ingest)" if found["ids"] else "")
                + ": run rag docs to list them."
            )
        return str(texts[0])


def _entry_metadata(entry: FileEntry) -> dict[str, str | int | float]:
    return {
        "hash": entry.hash,
        "size": entry.size,
        "mtime": entry.mtime,
        "chunks": json.dumps(entry.chunks),
        "synced_at": entry.synced_at,
    }


@contextmanager
def writer_lock(store_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """One writer per store folder across processes: an exclusive lock on a file in it.

    Waits for the writer that holds it (logging who that is), for ever or ``timeout`` seconds;
    then raises ``StoreBusyError``. The OS releases the lock of a killed process.
    """
    from filelock import FileLock, Timeout

    check_store_folder(store_dir)
    lock = FileLock(store_dir / LOCK_FILE, thread_local=False)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _holder(store_dir)
            log.warning("another ingest is running (pid %s); waiting for it to finish ...", holder)
            while True:
                left = _WAIT_LOG_EVERY_S if deadline is None else deadline - time.monotonic()
                try:
                    lock.acquire(timeout=max(0.0, min(left, _WAIT_LOG_EVERY_S)))
                    break
                except Timeout as exc:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise StoreBusyError(
                            f"another ingest is running (pid {holder}) on {store_dir}: wait for "
                            "it to finish and try again."
                        ) from exc
                    log.warning("still waiting for the ingest of pid %s ...", _holder(store_dir))
    except OSError as exc:
        raise StoreError(
            f"Cannot lock {store_dir / LOCK_FILE} ({exc.strerror or exc}): check that "
            "RAG_STORE_DIR is a writable folder."
        ) from exc
    try:
        with suppress(OSError):
            (store_dir / PID_FILE).write_text(str(os.getpid()), encoding="ascii")
        yield
    finally:
        with suppress(OSError):
            (store_dir / PID_FILE).unlink()
        lock.release()


def writer_busy(store_dir: Path) -> bool:
    """Whether another process holds the writer lock of this store folder right now."""
    from filelock import FileLock, Timeout

    if not (store_dir / LOCK_FILE).exists():
        return False
    lock = FileLock(store_dir / LOCK_FILE, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def _holder(store_dir: Path) -> str:
    try:
        return (store_dir / PID_FILE).read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"
