"""Incremental sync: idempotent re-runs, edits, deletes, renames, skipped files, crash repair."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import rag
from rag.api import engine
from rag.config import Settings
from rag.manifest import Manifest
from tests.conftest import SEED_FILE

EXTRA = "The Danube flows through Belgrade. Its length is about 2,850 kilometres."


def stored_ids(settings: Settings) -> set[str]:
    return engine(settings).store.all_ids()


def manifest_ids(settings: Settings) -> set[str]:
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    return {chunk_id for entry in manifest.files.values() for chunk_id in entry.chunks}


def assert_consistent(settings: Settings) -> None:
    """Chroma holds exactly the manifest's chunks, and BM25 indexes the same set."""
    ids = stored_ids(settings)
    assert ids == manifest_ids(settings)
    lexical = engine(settings).lexical
    lexical._loaded = False  # read what is on disk
    assert len(lexical) == len(ids)


def test_first_ingest_then_unchanged(settings: Settings) -> None:
    first = rag.ingest(settings=settings)
    assert (first.added_files, first.unchanged_files) == (1, 0)
    assert first.added_chunks == first.total_chunks == first.embedded_chunks > 0
    second = rag.ingest(settings=settings)
    assert (second.added_files, second.updated_files, second.removed_files) == (0, 0, 0)
    assert second.added_chunks == 0 and second.embedded_chunks == 0
    assert second.unchanged_files == 1
    assert second.unchanged_chunks == first.total_chunks
    assert_consistent(settings)


def test_touch_without_change_is_unchanged(settings: Settings, docs_dir: Path) -> None:
    rag.ingest(settings=settings)
    os.utime(docs_dir / SEED_FILE, (1, 1))
    report = rag.ingest(settings=settings)
    assert report.unchanged_files == 1 and report.updated_files == 0


def test_edit_delete_rename(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    first = rag.ingest(settings=settings)
    assert first.added_files == 2
    seed_chunks = first.total_chunks - 1

    # Edit: the changed file replaces its chunks; only the new text is embedded.
    (docs_dir / "danube.txt").write_text(
        EXTRA + " The Danube ends in the Black Sea.", encoding="utf-8"
    )
    edited = rag.ingest(settings=settings)
    assert (edited.updated_files, edited.unchanged_files, edited.added_files) == (1, 1, 0)
    assert edited.added_chunks == 1 and edited.removed_chunks == 1
    assert edited.embedded_chunks == 1
    assert edited.total_chunks == first.total_chunks
    assert_consistent(settings)
    answer = rag.answer("Where does the Danube end?", settings=settings)
    assert "Black Sea" in answer.text

    # Rename: nothing is embedded again, the old name disappears.
    (docs_dir / "danube.txt").rename(docs_dir / "river.txt")
    renamed = rag.ingest(settings=settings)
    assert (renamed.renamed_files, renamed.added_files, renamed.removed_files) == (1, 0, 0)
    assert renamed.embedded_chunks == 0
    assert [d.source for d in rag.documents(settings).documents] == [SEED_FILE, "river.txt"]
    assert_consistent(settings)
    cited = rag.answer("Where does the Danube end?", settings=settings).citations
    assert cited and cited[0].source == "river.txt"

    # Delete: its chunks go too.
    (docs_dir / "river.txt").unlink()
    deleted = rag.ingest(settings=settings)
    assert (deleted.removed_files, deleted.removed_chunks) == (1, 1)
    assert deleted.total_chunks == seed_chunks == engine(settings).store.count()
    assert_consistent(settings)


def test_copy_of_a_file_reuses_embeddings(settings: Settings, docs_dir: Path) -> None:
    rag.ingest(settings=settings)
    shutil.copy(docs_dir / SEED_FILE, docs_dir / "copy.txt")
    report = rag.ingest(settings=settings)
    assert report.added_files == 1 and report.embedded_chunks == 0
    assert report.total_chunks == 2 * report.added_chunks
    assert_consistent(settings)


def test_bad_files_are_skipped_with_reasons(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "empty.txt").write_text("   \n", encoding="utf-8")
    (docs_dir / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (docs_dir / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (docs_dir / "image.png").write_bytes(b"\x89PNG\r\n")
    (docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs_dir / ".hidden.txt").write_text("secret", encoding="utf-8")
    (docs_dir.parent / "secret.txt").write_text("Outside the folder.", encoding="utf-8")
    (docs_dir / "outside.txt").symlink_to(docs_dir.parent / "secret.txt")
    report = rag.ingest(settings=settings)
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.txt"] == "binary file (not text)"
    assert reasons["latin1.txt"].startswith("not UTF-8 text")
    assert reasons["image.png"] == "unsupported type .png"
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert reasons["outside.txt"] == "a link to a file outside the folder"
    assert ".hidden.txt" not in reasons
    assert report.added_files == 1 and report.total_files == 1


def test_crash_half_way_is_repaired(settings: Settings, docs_dir: Path) -> None:
    """Simulate a kill after chunks were written but before the manifest recorded them."""
    rag.ingest(settings=settings)
    manifest_path = settings.store_dir / "manifest.json"
    before = manifest_path.read_text()
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    # Roll the manifest back to before the second sync and mark it unfinished: the store now
    # holds orphan chunks of danube.txt that the manifest does not list.
    data = json.loads(before)
    data["in_progress"] = True
    manifest_path.write_text(json.dumps(data))
    assert stored_ids(settings) != manifest_ids(settings)

    report = rag.ingest(settings=settings)
    assert report.added_files == 1
    assert_consistent(settings)
    assert engine(settings).store.count() == report.total_chunks


def test_crash_after_deleting_old_chunks_is_repaired(settings: Settings) -> None:
    rag.ingest(settings=settings)
    eng = engine(settings)
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    entry = manifest.files[SEED_FILE]
    eng.store.delete(entry.chunks[:2])  # killed while replacing the file's chunks
    manifest.in_progress = True
    manifest.save(settings.store_dir / "manifest.json")

    report = rag.ingest(settings=settings)
    assert report.added_files == 1
    assert report.total_chunks == len(entry.chunks)
    assert_consistent(settings)


def test_remove_document(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    removed = rag.remove_document("danube.txt", settings=settings)
    assert removed == 1
    assert not (docs_dir / "danube.txt").exists()
    assert [d.source for d in rag.documents(settings).documents] == [SEED_FILE]
    assert_consistent(settings)
    with pytest.raises(rag.RagError, match="outside the documents folder"):
        rag.remove_document("../../etc/passwd", settings=settings)


def test_chunking_change_rechunks_without_duplicates(settings: Settings) -> None:
    rag.ingest(settings=settings)
    smaller = settings.with_(chunk_size=300, chunk_overlap=100)
    report = rag.ingest(settings=smaller)
    assert report.updated_files == 1
    assert_consistent(smaller)
    text = rag.document_text(SEED_FILE, smaller)
    for chunk in engine(smaller).store.iter_chunks():
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 300


def test_remove_document_deletes_only_the_indexed_file(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    (docs_dir / "link.txt").symlink_to(docs_dir / "danube.txt")
    rag.ingest(settings=settings)
    # A link is removed as a link: its target stays, and stays indexed.
    assert rag.remove_document("link.txt", settings=settings) == 1
    assert not (docs_dir / "link.txt").is_symlink()
    assert (docs_dir / "danube.txt").read_text(encoding="utf-8") == EXTRA
    assert [d.source for d in rag.documents(settings).documents] == [SEED_FILE, "danube.txt"]
    # Names that are not index keys touch nothing on disk.
    for name in (str(docs_dir / "danube.txt"), "sub/../danube.txt", "missing.txt"):
        with pytest.raises(rag.RagError):
            rag.remove_document(name, settings=settings)
    assert (docs_dir / "danube.txt").exists()
    assert_consistent(settings)
