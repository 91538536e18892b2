"""rag/catalog.py, fast: the server catalog on a local Chroma store (its collections work the
same there), the local catalog, and the store folder's writer lock. Server mode runs the server
catalog against a real `chroma run` (tests/test_server_mode.py, slow)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from rag import catalog as catalog_module
from rag.catalog import (
    LOCK_FILE,
    PID_FILE,
    LocalCatalog,
    ServerCatalog,
    open_catalog,
    writer_busy,
    writer_lock,
)
from rag.config import Settings
from rag.errors import DocumentsError, StoreBusyError, StoreDamagedError, StoreError
from rag.manifest import FileEntry, Manifest
from rag.store import VectorStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VectorStore]:
    opened = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store"))
    yield opened
    opened.close()


def entry(n: int, chunks: int = 2) -> FileEntry:
    return FileEntry(
        hash=f"h{n}", size=100 + n, mtime=1.5 + n, chunks=[f"c{n}-{i}" for i in range(chunks)],
        synced_at=f"2026-12-0{n % 9 + 1}T00:00:00",
    )  # fmt: skip


def manifest(count: int = 3, **header: object) -> Manifest:
    values: dict[str, object] = dict(
        root="/docs", chunking="700/150", embedding="onnx:minilm", last_sync="2026-12-03T10:00:00",
        in_progress=False, generation=4,
    )  # fmt: skip
    values.update(header)
    return Manifest(files={f"f{n}.txt": entry(n) for n in range(count)}, **values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- server catalog


def test_a_new_server_catalog_is_empty(store: VectorStore) -> None:
    catalog = ServerCatalog(store)
    assert catalog.shared and catalog.where == store.where
    assert catalog.load() == Manifest()
    assert catalog.stamp() is None


def test_the_document_list_and_texts_round_trip(store: VectorStore) -> None:
    writer = ServerCatalog(store)
    written = manifest(3, in_progress=True)
    writer.keep_text("f0.txt", "Text of f0.")
    writer.keep_text("f1.txt", "Text of f1.")
    writer.save(written)
    reader = ServerCatalog(store)  # another process: nothing cached
    assert reader.load() == written
    assert reader.document_text("f0.txt", Path("/ignored")) == "Text of f0."
    assert reader.document_text("f1.txt", Path("/ignored")) == "Text of f1."
    with pytest.raises(DocumentsError) as unstored:
        reader.document_text("f2.txt", Path("/ignored"))
    assert str(unstored.value) == (
        f"'f2.txt' is not a document of the index on {store.where} (its text was not stored: "
        "run rag ingest): run rag docs to list them."
    )
    with pytest.raises(DocumentsError) as unknown:
        reader.document_text("nope.txt", Path("/ignored"))
    assert str(unknown.value) == (
        f"'nope.txt' is not a document of the index on {store.where}: run rag docs to list them."
    )
    # None in the header (no sync yet) is stored as "" and read back as None.
    writer.save(manifest(1, last_sync=None))
    assert ServerCatalog(store).load().last_sync is None


def test_changes_removals_and_the_stamp(store: VectorStore) -> None:
    writer = ServerCatalog(store)
    writer.save(manifest(4))
    first = writer.stamp()
    assert first is not None and ServerCatalog(store).stamp() == first
    changed = manifest(4, generation=5)
    del changed.files["f1.txt"]
    changed.files["f2.txt"] = entry(7)
    writer.save(changed)
    assert writer.stamp() != first
    assert ServerCatalog(store).load() == changed
    # A catalog that loaded before sees the other's save (the revision moved on).
    other = ServerCatalog(store)
    seen = other.load()
    seen.files.clear()  # a copy: the cache is not touched
    assert other.load() == changed
    again = manifest(2)
    writer.save(again)
    assert other.load() == again
    assert ServerCatalog(store).load() == again  # f2, f3 records deleted


def test_the_list_lives_in_the_collections_companion(store: VectorStore) -> None:
    """Other processes and versions find it by this name: ``<collection>__documents``."""
    ServerCatalog(store).save(manifest(1))
    names = {c.name for c in store.client.list_collections()}
    assert f"{store.name}__documents" in names


def test_the_list_is_read_once_per_revision(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It is read on every answer: a load at an unchanged revision reuses the last one."""
    ServerCatalog(store).save(manifest(3))
    catalog = ServerCatalog(store)
    reads: list[object] = []
    get = catalog.documents.get

    def counted(*args: object, **kwargs: object) -> object:
        reads.append(kwargs)
        return get(*args, **kwargs)

    monkeypatch.setattr(catalog.documents, "get", counted)
    assert catalog.load() == manifest(3) and len(reads) == 1
    assert catalog.load() == manifest(3) and len(reads) == 1
    ServerCatalog(store).save(manifest(2))
    assert catalog.load() == manifest(2) and len(reads) == 2


def test_a_fresh_catalog_removes_the_first_record_too(store: VectorStore) -> None:
    ServerCatalog(store).save(manifest(3))
    without_first = manifest(3)
    del without_first.files["f0.txt"]
    ServerCatalog(store).save(without_first)  # nothing cached: it lists the stored records
    assert ServerCatalog(store).load() == without_first


def test_long_lists_are_read_and_written_in_pages(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "_PAGE", 2)
    big = manifest(7)
    ServerCatalog(store).save(big)
    assert ServerCatalog(store).load() == big
    smaller = manifest(3)
    ServerCatalog(store).save(smaller)  # a fresh catalog lists the old records page by page
    assert ServerCatalog(store).load() == smaller


def test_an_unreadable_record_says_how_to_rebuild(store: VectorStore) -> None:
    catalog = ServerCatalog(store)
    catalog.save(manifest(1))
    catalog.documents.upsert(ids=["bad.txt"], embeddings=[[1.0]], metadatas=[{"hash": "x"}])
    with pytest.raises(StoreDamagedError) as damaged:
        ServerCatalog(store).load()
    assert str(damaged.value) == (
        f"The document list on {store.where} has an unreadable record for 'bad.txt': run rag "
        "ingest to rebuild it from the index."
    )


def test_another_version_reads_as_empty(store: VectorStore) -> None:
    catalog = ServerCatalog(store)
    catalog.save(manifest(2))
    header = dict(store.client.get_collection(catalog.documents.name).metadata or {})
    catalog.documents.modify(metadata={**header, "version": 99, "revision": "r2"})
    assert ServerCatalog(store).load() == Manifest()


def test_a_writer_that_lost_its_lease_saves_nothing(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import lease as lease_module

    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    catalog = ServerCatalog(store)
    catalog.save(manifest(1))
    with catalog.lease(5):
        catalog.save(manifest(2))  # held: saves
        marker = store.marker(f"{store.name}__lease")
        assert marker is not None
        store.drop_marker(f"{store.name}__lease", marker[0])
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            for _ in range(200):  # until the renewal notices
                catalog.save(manifest(2))
                threading.Event().wait(0.05)
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            catalog.save(manifest(3))
    assert ServerCatalog(store).load() == manifest(2)
    assert catalog._lease is None
    catalog.save(manifest(4))  # out of the lease: no check
    assert ServerCatalog(store).load() == manifest(4)


# ---------------------------------------------------------------- local catalog


def test_the_local_catalog_is_the_manifest_file_and_the_folder(tmp_path: Path) -> None:
    store_dir, docs = tmp_path / "store", tmp_path / "docs"
    store_dir.mkdir()
    docs.mkdir()
    (docs / "a.txt").write_text("Alpha text.", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("Secret.", encoding="utf-8")
    catalog = LocalCatalog(store_dir)
    assert not catalog.shared and catalog.path == store_dir / "manifest.json"
    assert catalog.stamp() is None and catalog.load() == Manifest()
    catalog.keep_text("a.txt", "ignored: the folder holds it")
    catalog.save(manifest(2))
    stat = catalog.path.stat()
    assert catalog.stamp() == (stat.st_mtime_ns, stat.st_ino)
    assert LocalCatalog(store_dir).load() == manifest(2)
    with catalog.lease(0.1), catalog.lease(0.1):  # no lease: the lock file is the lock
        pass
    assert catalog.document_text("a.txt", docs) == "Alpha text."
    for source in ("../outside.txt", "missing.txt", ".", str(tmp_path / "outside.txt")):
        with pytest.raises(DocumentsError) as refused:
            catalog.document_text(source, docs)
        assert str(refused.value) == (
            f"{source!r} is not a document of {docs}: run rag docs to list them."
        )
    assert LocalCatalog(tmp_path / "a-file" / "x").stamp() is None


def test_local_document_text_is_parsed_once_per_version_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page reads an answer's documents for every answer: a file is parsed once while it
    stays the same, and read again as soon as it is written to, touched or replaced."""
    docs = tmp_path / "docs"
    docs.mkdir()
    doc = docs / "a.txt"
    doc.write_text("Alpha text.", encoding="utf-8")
    parsed: list[Path] = []
    load = catalog_module.load_document

    def counting(path: Path) -> object:
        parsed.append(path)
        return load(path)

    monkeypatch.setattr(catalog_module, "load_document", counting)
    catalog = LocalCatalog(tmp_path / "store")
    assert catalog.document_text("a.txt", docs) == "Alpha text."
    assert catalog.document_text("./a.txt", docs) == "Alpha text."
    assert len(parsed) == 1
    when = doc.stat().st_mtime_ns
    doc.write_text("Omega text.", encoding="utf-8")  # same size
    os.utime(doc, ns=(when + 10**9, when + 10**9))
    assert catalog.document_text("a.txt", docs) == "Omega text."
    os.utime(doc, ns=(when, when))  # the old time back: the text is still the new one
    assert catalog.document_text("a.txt", docs) == "Omega text."
    doc.write_text("Longer alpha.", encoding="utf-8")
    os.utime(doc, ns=(when, when))  # same time, another size
    assert catalog.document_text("a.txt", docs) == "Longer alpha."
    replacement = docs / "b.tmp"
    replacement.write_text("Newer alpha.!", encoding="utf-8")  # same size, same time
    os.utime(replacement, ns=(when, when))
    replacement.replace(doc)  # another inode
    assert catalog.document_text("a.txt", docs) == "Newer alpha.!"
    assert len(parsed) == 5


def test_open_catalog_picks_by_the_url(tmp_path: Path, store: VectorStore) -> None:
    assert isinstance(open_catalog(tmp_path, None, lambda: store), LocalCatalog)
    assert isinstance(open_catalog(tmp_path, "", lambda: store), LocalCatalog)
    server = open_catalog(tmp_path, "http://127.0.0.1:9", lambda: store)
    assert isinstance(server, ServerCatalog) and server.store is store


# ---------------------------------------------------------------- the writer lock


def test_the_lock_records_its_holder_and_a_waiter_names_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_dir = tmp_path / "store"
    assert not writer_busy(store_dir)  # no lock file yet
    with writer_lock(store_dir):
        assert (store_dir / PID_FILE).read_text(encoding="ascii") == str(os.getpid())
        assert (store_dir / LOCK_FILE).exists()
        started = time.monotonic()
        assert writer_busy(store_dir)
        assert time.monotonic() - started < 0.5  # asks, never waits
        refused = pytest.raises(StoreBusyError)
        with caplog.at_level(logging.WARNING), refused as busy, writer_lock(store_dir, timeout=0.3):
            pass
    assert str(busy.value) == (
        f"another ingest is running (pid {os.getpid()}) on {store_dir}: wait for it to finish "
        "and try again."
    )
    assert caplog.messages == [
        f"another ingest is running (pid {os.getpid()}); waiting for it to finish ..."
    ]
    assert not (store_dir / PID_FILE).exists()
    assert not writer_busy(store_dir)


def test_a_waiter_gets_the_lock_when_it_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(catalog_module, "_WAIT_LOG_EVERY_S", 0.2)
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    holder = FileLock(store_dir / LOCK_FILE, thread_local=False)
    holder.acquire()
    (store_dir / PID_FILE).write_text("", encoding="ascii")  # its holder died before writing it
    released = threading.Timer(0.7, holder.release)
    released.start()
    with caplog.at_level(logging.WARNING), writer_lock(store_dir, timeout=5):
        got = True
    released.join()
    assert got
    assert (
        caplog.messages[0]
        == "another ingest is running (pid unknown); waiting for it to finish ..."
    )
    assert "still waiting for the ingest of pid unknown ..." in caplog.messages[1:]


def test_a_store_folder_that_cannot_be_locked(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file, not a folder"), writer_lock(tmp_path / "file"):
        pass
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    (store_dir / LOCK_FILE).mkdir()  # the lock file's name taken by a folder
    with pytest.raises(StoreError) as locked, writer_lock(store_dir):
        pass
    assert str(locked.value).startswith(f"Cannot lock {store_dir / LOCK_FILE} (")
    assert str(locked.value).endswith("): check that RAG_STORE_DIR is a writable folder.")
    assert not writer_busy(store_dir)
