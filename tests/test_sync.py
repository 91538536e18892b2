"""Incremental sync: idempotent re-runs, edits, deletes, renames, skipped files, crash repair."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

import rag
from rag.api import engine, shared_embedder
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import ConfigError, DocumentsError
from rag.manifest import Manifest
from rag.models import IngestReport, SkippedFile
from rag.sync import (
    BULK_LOADED_MIN_CHUNKS,
    BULK_MIN_CHUNKS,
    Syncer,
    check_folder,
    disagreement,
    refresh_lexical,
    size_problem,
    unchanged_report,
)
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
    # The new time is recorded: the next sync does not read the file again.
    entry = Manifest.load(settings.store_dir / "manifest.json").files[SEED_FILE]
    stat = (docs_dir / SEED_FILE).stat()
    assert (entry.size, entry.mtime) == (stat.st_size, 1.0)


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
    assert (renamed.added_chunks, renamed.removed_chunks) == (0, 0)  # its chunks are kept
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


def test_a_readers_bug_on_one_file_skips_that_file_only(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error a format's reader was not written for (pypdf's NotImplementedError was one)
    stopped the whole sync at that file: every other new or changed file waited for a fix.
    An upload is checked the same way (``rag.check_document``, the page's upload)."""
    from rag.loaders import markdown

    real = markdown.load_markdown

    def buggy(text: str, *args: object, **kwargs: object) -> object:
        if "trips the reader" in text:
            raise TypeError("a case the reader was not written for")
        if "floods the reason" in text:  # an error that carries a whole stream in its text
            raise ValueError("bad byte\n" + "x" * 5000)
        return real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(markdown, "load_markdown", buggy)
    (docs_dir / "odd.md").write_text("# Odd\n\nThis page trips the reader.", encoding="utf-8")
    (docs_dir / "fine.md").write_text("# Fine\n\nThe Danube flows east.", encoding="utf-8")
    report = rag.ingest(settings=settings)
    assert report.skipped == [
        SkippedFile(
            "odd.md",
            "reading it failed (TypeError: a case the reader was not written for): please "
            "report this",
        )
    ]
    assert report.added_files == report.total_files == 2  # the seed and fine.md
    assert "odd.md" not in {d.source for d in rag.documents(settings=settings).documents}
    with pytest.raises(DocumentsError, match=r"^reading it failed \(TypeError: a case"):
        rag.check_document(docs_dir / "odd.md", settings=settings)
    # The reason stays one line of at most 200 characters of the error (then "…").
    (docs_dir / "flood.md").write_text("# Flood\n\nThis page floods the reason.", encoding="utf-8")
    [flood] = [s for s in rag.ingest(settings=settings).skipped if s.path == "flood.md"]
    assert flood.reason == (
        f"reading it failed (ValueError: bad byte {'x' * 178}…): please report this"
    )


def crashed_after_adding_danube(settings: Settings, docs_dir: Path) -> IngestReport:
    """A sync that wrote danube.txt's chunks and was killed before its manifest listed them:
    the manifest rolled back to the sync before and marked unfinished. The first sync's report."""
    first = rag.ingest(settings=settings)
    manifest_path = settings.store_dir / "manifest.json"
    before = manifest_path.read_text()
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    data = json.loads(before)
    data["in_progress"] = True
    manifest_path.write_text(json.dumps(data))
    return first


def test_crash_half_way_is_repaired(settings: Settings, docs_dir: Path) -> None:
    """Simulate a kill after chunks were written but before the manifest recorded them."""
    crashed_after_adding_danube(settings, docs_dir)
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
    with pytest.raises(rag.RagError, match="outside the documents folder"):
        rag.remove_document(str(docs_dir.parent / "elsewhere.txt"), settings=settings)
    # A path inside the folder names the document the way to name it (was: "outside").
    with pytest.raises(rag.RagError) as a_path:
        rag.remove_document(str(docs_dir / SEED_FILE), settings=settings)
    assert str(a_path.value) == (
        f"{str(docs_dir / SEED_FILE)!r} is a path: name the document as rag docs lists it, "
        f"relative to the documents folder {rag.api.documents_root(settings)} ({SEED_FILE!r})."
    )
    assert (docs_dir / SEED_FILE).exists()


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


@pytest.mark.parametrize(
    ("old_rule", "old_key", "sentence", "cut"),
    [
        (
            "inside_token",
            "structure-v3",
            "It works by leveraging the fs.ReadStream API.",
            "It works by leveraging the fs.",
        ),
        (
            "lone_stop",
            "structure-v5",
            "It reads from the last . (period) character.",
            "It reads from the last .",
        ),
    ],
)
def test_an_index_chunked_before_a_sentence_rule_is_rechunked(
    settings: Settings,
    docs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    old_rule: str,
    old_key: str,
    sentence: str,
    cut: str,
) -> None:
    """An index whose sentences were split by an older rule ("the fs." | "ReadStream API.",
    structure-v3; "the last ." | "(period) character.", structure-v5) gets the whole sentence
    at its next sync, reusing the embeddings of the chunks whose text did not change; the
    store, the manifest and BM25 stay in line."""
    (docs_dir / "streams.txt").write_text(f"Streams are fast. {sentence} Next.\n", "utf-8")
    with monkeypatch.context() as old:
        old.setattr(f"rag.chunking.{old_rule}", lambda *args: False)
        old.setattr(
            "rag.sync.chunking_key", lambda s: f"{old_key}/{s.chunk_size}/{s.chunk_overlap}"
        )
        first = rag.ingest(settings=settings)
    assert first.added_files == 2
    assert cut in stored_sentences(settings)

    report = rag.ingest(settings=settings)
    assert report.updated_files == 2 and report.unchanged_files == 0
    assert report.embedded_chunks < report.total_chunks  # the seed's chunks kept theirs
    assert sentence in stored_sentences(settings)
    assert cut not in stored_sentences(settings)
    assert_consistent(settings)
    again = rag.ingest(settings=settings)
    assert (again.updated_files, again.embedded_chunks) == (0, 0)


def test_an_index_chunked_before_the_introduced_unit_rule_is_rechunked(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks made before a sentence that introduces code kept it (structure-v6) get it at the
    next sync: every chunk that holds "run the following:" holds the command too (before, the
    first ended at the sentence; the next held both only through its overlap)."""
    lead = " ".join(f"Sentence number {i} says a little." for i in range(18))
    command = "cargo build --release " * 9
    (docs_dir / "build.md").write_text(
        f"# Build\n\n{lead} Then run the following:\n\n```\n{command}\n```\n\nAfter.\n", "utf-8"
    )

    def holding() -> list[str]:
        chunks = engine(settings).store.iter_chunks()
        return [c.text for c in chunks if "run the following:" in c.text]

    with monkeypatch.context() as old:
        old.setattr("rag.chunking.introduces", lambda *args: False)
        old.setattr(
            "rag.sync.chunking_key", lambda s: f"structure-v6/{s.chunk_size}/{s.chunk_overlap}"
        )
        rag.ingest(settings=settings)
    assert holding() and not all("cargo build" in text for text in holding())

    report = rag.ingest(settings=settings)
    assert report.updated_files == 2
    assert holding() and all("cargo build" in text for text in holding())
    assert_consistent(settings)


def test_an_index_of_tables_read_with_spaces_at_inline_edges_is_rechunked(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells read before structure-v8 held "( M )" for "(<b>M</b>)": the next sync re-reads
    such a page, though the file did not change, and answers quote the cell as shown."""
    from rag.loaders import html

    row = "<tr><td>Mark Auto (<b>M</b>)</td><td>Marks the package as automatic.</td></tr>"
    page = f"<html><body><main><h1>Keys</h1><table>{row * 12}</table></main></body></html>"
    (docs_dir / "keys.html").write_text(page, encoding="utf-8")

    def texts() -> str:
        return "\n".join(c.text for c in engine(settings).store.iter_chunks())

    with monkeypatch.context() as old:
        old.setattr(html, "_inline_text", lambda node: html.collapse(" ".join(html._strings(node))))
        old.setattr(
            "rag.sync.chunking_key", lambda s: f"structure-v7/{s.chunk_size}/{s.chunk_overlap}"
        )
        rag.ingest(settings=settings)
    assert "Mark Auto ( M )" in texts()

    report = rag.ingest(settings=settings)
    assert report.updated_files >= 1
    assert "Mark Auto (M) | Marks" in texts() and "( M )" not in texts()
    assert_consistent(settings)


def stored_sentences(settings: Settings) -> set[str]:
    return {
        chunk.text[s:e]
        for chunk in engine(settings).store.iter_chunks()
        for s, e in chunk.sentences
    }


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


# Fast checks of the sync's parts (mutation testing, tests/README.md): the folder checks, the
# size caps, the progress it reports, the bulk decision and the disagreement it repairs.


def test_the_folder_must_exist_be_a_folder_and_hold_documents(settings: Settings) -> None:
    syncer = engine(settings).syncer(settings)
    missing = settings.store_dir.parent / "missing"
    with pytest.raises(DocumentsError, match=r"The documents folder .*missing does not exist: "):
        syncer.sync(missing)
    with pytest.raises(DocumentsError) as absent:
        syncer.sync(missing)
    assert str(absent.value) == (
        f"The documents folder {missing} does not exist: create it and add .txt, .md, "
        ".markdown, .html, .htm, .rst, .pdf, .docx files, or point to another folder "
        "(rag ingest PATH, or RAG_DOCS_DIR)."
    )
    (missing.parent / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DocumentsError, match=r"a\.txt is a file, not a folder"):
        syncer.sync(missing.parent / "a.txt")
    missing.mkdir()
    with pytest.raises(
        DocumentsError, match=r"No documents found in .*missing: add .*\.txt"
    ) as err:
        syncer.sync(missing)
    assert "skipped" not in str(err.value)
    assert str(err.value) == (
        f"No documents found in {missing.resolve()}: add .txt, .md, .markdown, .html, .htm, "
        ".rst, .pdf, .docx files there and run rag ingest again."
    )
    (missing / "image.png").write_bytes(b"\x89PNG")
    (missing / "notes").write_bytes(b"x")
    with pytest.raises(DocumentsError, match=r"\(2 file\(s\) skipped: unsupported type \.png\)"):
        syncer.sync(missing)
    (missing / "a.txt").write_text("The Danube flows.", encoding="utf-8")
    assert SkippedFile("notes", "unsupported type (none)") in syncer.sync(missing).skipped
    assert check_folder(missing) == missing.resolve()


def test_files_over_the_size_caps_are_skipped_before_they_are_read(
    settings: Settings, tmp_path: Path
) -> None:
    docs = tmp_path / "sized"
    docs.mkdir()
    (docs / "at_cap.txt").write_text("Rivers " * 146 + "ab", encoding="utf-8")  # 1024 bytes
    (docs / "over.txt").write_text("Rivers " * 146 + "abc", encoding="utf-8")  # 1025 bytes
    (docs / "page.html").write_text("<p>" + "Rivers " * 300 + "</p>", encoding="utf-8")
    capped = settings.with_(max_file_mb=1 / 1024, max_html_mb=2 / 1024)
    report = engine(capped).syncer(capped).sync(docs)
    assert report.skipped == [
        SkippedFile(
            "over.txt",
            "0.0 MB is over the 0.000976562 MB limit for a file "
            "(raise RAG_MAX_FILE_MB to index it)",
        ),
        SkippedFile(
            "page.html",
            "0.0 MB is over the 0.00195312 MB limit for an HTML file "
            "(raise RAG_MAX_HTML_MB to index it)",
        ),
    ]
    assert report.added_files == 1
    assert size_problem(docs / "x.HTM", 3 * 1024 * 1024, capped) == (
        "3.0 MB is over the 0.00195312 MB limit for an HTML file "
        "(raise RAG_MAX_HTML_MB to index it)"
    )
    assert size_problem(docs / "x.pdf", 100 * 1024 * 1024, capped) == (  # MiB, as the caps are
        "100.0 MB is over the 0.000976562 MB limit for a file (raise RAG_MAX_FILE_MB to index it)"
    )
    assert size_problem(docs / "x.htm", 2048, capped) == ""
    assert size_problem(docs / "x.txt", 1024, capped) == ""


def test_the_progress_of_a_sync(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "image.png").write_bytes(b"\x89PNG")
    calls: list[tuple[int, int, str]] = []
    report = engine(settings).syncer(settings).sync(docs_dir, lambda *a: calls.append(a))
    chunks = report.total_chunks
    assert chunks > 1
    assert calls == [
        (0, 2, "Reading 0/2 files"),
        (1, 2, "Reading 1/2 files"),
        (2, 2, "Reading 2/2 files"),
        (0, chunks, f"Indexed 0/{chunks} chunks of 0/1 files"),
        (chunks, chunks, f"Indexed {chunks}/{chunks} chunks of 1/1 files"),
    ]
    calls.clear()
    again = engine(settings).syncer(settings).sync(docs_dir, lambda *a: calls.append(a))
    unchanged = unchanged_report(Manifest.load(settings.store_dir / "manifest.json"))
    assert (unchanged.unchanged_files, unchanged.total_chunks) == (1, chunks)
    assert dataclasses.replace(again, seconds=0.0, skipped=[]) == unchanged
    assert calls == [
        (0, 2, "Reading 0/2 files"),
        (1, 2, "Reading 1/2 files"),
        (2, 2, "Reading 2/2 files"),
    ]


def test_the_bulk_runtime_is_for_large_syncs_of_new_texts(settings: Settings) -> None:
    syncer = engine(settings).syncer(settings)
    new = [f"h{i}" for i in range(BULK_MIN_CHUNKS)]
    assert syncer._is_bulk(new)
    assert not syncer._is_bulk(new[:-1])
    assert not syncer._is_bulk(new[:-1] + new[:1])  # a repeated text counts once
    assert not engine(settings).syncer(settings.with_(embed_bulk="off"))._is_bulk(new)
    syncer.embedder.__dict__["_bulk_runtime"] = object()  # loaded by an earlier large sync
    try:
        assert syncer._is_bulk(new[:BULK_LOADED_MIN_CHUNKS])
        assert not syncer._is_bulk(new[: BULK_LOADED_MIN_CHUNKS - 1])
    finally:
        del syncer.embedder.__dict__["_bulk_runtime"]


def test_the_embedder_must_be_the_one_the_settings_name(settings: Settings) -> None:
    eng = engine(settings)
    other = Embedder(backend="onnx-int8")
    with pytest.raises(ConfigError, match=r"gives .* vectors but the settings name the 'onnx'"):
        Syncer(settings, eng.store, eng.lexical, other)
    int8 = settings.with_(embed_backend="onnx-int8")
    with pytest.raises(ConfigError) as wrong:
        Syncer(int8, eng.store, eng.lexical, Embedder(backend="onnx"))
    assert str(wrong.value) == (
        "The embedder gives all-MiniLM-L6-v2/fp32 vectors but the settings name the 'onnx-int8' "
        "backend (all-MiniLM-L6-v2/int8): pass the embedder of these settings "
        "(rag.api.shared_embedder(settings))."
    )


def test_each_disagreement_is_named(settings: Settings, docs_dir: Path) -> None:
    rag.ingest(settings=settings)
    eng = engine(settings)
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    syncer = eng.syncer(settings)
    chunks = manifest.total_chunks
    assert disagreement(manifest, eng.store, eng.lexical) is None
    assert syncer._disagreement(manifest) is None
    manifest.in_progress = True
    assert disagreement(manifest, eng.store, eng.lexical) == "the last sync did not finish"
    manifest.in_progress = False
    eng.lexical.update([], [sorted(manifest.chunk_ids)[0]], manifest.generation)
    assert disagreement(manifest, eng.store, eng.lexical) == (
        f"the lexical index holds {chunks - 1} chunks and the manifest lists {chunks}"
    )
    assert syncer._disagreement(manifest) is None  # the sync rebuilds the lexical index anyway
    eng.store.set_generation(manifest.generation + 5, manifest.root)
    assert syncer._disagreement(manifest) == (
        f"the store was written by sync {manifest.generation + 5} and the manifest by sync "
        f"{manifest.generation}"
    )
    entry = manifest.files[SEED_FILE]
    eng.store.delete(entry.chunks[:1])
    assert disagreement(manifest, eng.store, eng.lexical) == (
        f"the store holds {chunks - 1} chunks and the manifest lists {chunks}"
    )


def test_a_lost_document_list_is_rebuilt_from_the_store(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    path = settings.store_dir / "manifest.json"
    saved = Manifest.load(path)
    syncer = engine(settings).syncer(settings)
    rebuilt = syncer.manifest_from_store()
    assert (rebuilt.root, rebuilt.embedding, rebuilt.generation) == (
        saved.root,
        saved.embedding,
        saved.generation,
    )
    assert (rebuilt.chunking, rebuilt.in_progress, rebuilt.last_sync is not None) == (
        "",
        False,
        True,
    )
    assert list(rebuilt.files) == [SEED_FILE, "danube.txt"]
    for source, entry in rebuilt.files.items():
        # Chunks in document order; the hash unknown, so the next sync reads every file again.
        assert entry.chunks == saved.files[source].chunks and len(entry.chunks) > 0
        assert (entry.hash, entry.mtime, entry.size) == (
            "",
            0.0,
            (docs_dir / source).stat().st_size,
        )
        assert datetime.fromisoformat(entry.synced_at).tzinfo is not None
    (docs_dir / "danube.txt").unlink()
    assert syncer.manifest_from_store().files["danube.txt"].size == 0  # gone from the folder
    engine(settings).store.set_generation(saved.generation, "")  # a store that names no folder
    assert {e.size for e in syncer.manifest_from_store().files.values()} == {0}
    engine(settings).store.set_generation(saved.generation, saved.root)

    # Missing, or empty and unfinished (a first sync that crashed), while the store holds chunks.
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    path.unlink()
    assert syncer.load_manifest().files.keys() == saved.files.keys()
    assert Manifest.load(path).files.keys() == saved.files.keys()  # saved again
    Manifest(in_progress=True).save(path)
    again = syncer.load_manifest()
    assert again.in_progress and again.files.keys() == saved.files.keys()
    report = syncer.sync(docs_dir)
    assert (report.embedded_chunks, report.total_chunks) == (0, saved.total_chunks)
    assert_consistent(settings)


def test_removing_a_document_is_one_more_sync_and_updates_bm25_in_place(
    settings: Settings, docs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    eng = engine(settings)
    path = settings.store_dir / "manifest.json"
    before = Manifest.load(path)
    syncer = eng.syncer(settings)
    assert syncer.remove("missing.txt") == 0
    caplog.set_level("INFO", logger="rag.sync")
    assert syncer.remove("danube.txt") == len(before.files["danube.txt"].chunks)
    after = Manifest.load(path)
    assert list(after.files) == [SEED_FILE] and after.in_progress is False
    assert after.generation == before.generation + 1
    state = eng.store.state()
    assert (state.generation, state.root) == (after.generation, before.root)
    assert (eng.lexical.generation, len(eng.lexical)) == (after.generation, after.total_chunks)
    assert "Rebuilding the lexical index" not in caplog.text  # updated, not rebuilt
    assert_consistent(settings)
    eng = engine(settings)  # (assert_consistent may have reopened it)
    refresh_lexical(eng.store, eng.lexical, 41)
    assert (eng.lexical.generation, len(eng.lexical)) == (41, after.total_chunks)


def test_a_removal_marks_the_document_list_unfinished_before_it_writes(settings: Settings) -> None:
    rag.ingest(settings=settings)
    syncer = engine(settings).syncer(settings)

    def lost_the_lease() -> None:  # the first check before a write: the removal stops there
        raise RuntimeError("stopped")

    syncer.fence = lost_the_lease  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="stopped"):
        syncer.remove(SEED_FILE)
    assert Manifest.load(settings.store_dir / "manifest.json").in_progress is True


def test_lexical_changes_that_do_not_add_up_rebuild_it_from_the_store(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    rag.ingest(settings=settings)
    eng = engine(settings)
    chunks = Manifest.load(settings.store_dir / "manifest.json").total_chunks
    syncer = eng.syncer(settings)
    caplog.set_level("INFO", logger="rag.sync")
    # A row the store does not hold: the update applies, but the count is not the manifest's.
    syncer._added_rows = [("ghost", "a chunk no store holds")]
    syncer._update_lexical(chunks, [], generation=7)
    assert "Rebuilding the lexical index from the store." in caplog.messages
    assert (len(eng.lexical), eng.lexical.generation) == (chunks, 7)
    assert "ghost" not in {chunk_id for chunk_id, _ in eng.lexical.search("store holds", 50)}


def test_an_edit_to_the_text_of_a_deleted_file_is_no_rename(
    settings: Settings, docs_dir: Path
) -> None:
    """Only a new file can be a rename: an edited file that now holds a deleted file's text
    replaces its own chunks, and the deleted file's go (no chunk of either is left over)."""
    sava = "The Sava meets the Danube at Belgrade."
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    (docs_dir / "sava.txt").write_text(sava, encoding="utf-8")
    rag.ingest(settings=settings)
    (docs_dir / "sava.txt").unlink()
    (docs_dir / "danube.txt").write_text(sava, encoding="utf-8")
    report = rag.ingest(settings=settings)
    assert (report.updated_files, report.removed_files, report.renamed_files) == (1, 1, 0)
    assert report.added_files == 0
    assert_consistent(settings)


def _sentences(word: str, n: int) -> str:
    return " ".join(f"The {word} record number {i} says {i * 37} units moved." for i in range(n))


def test_a_sync_in_several_windows_counts_embeds_and_saves_its_progress(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are embedded and added a window at a time (``_WINDOW``, made small here): every
    window's new texts count, each file is finished in its last window, and the document list is
    saved mid-sync at most every ``_SAVE_EVERY_S`` (with what is finished, for a crash)."""
    monkeypatch.setattr("rag.sync._WINDOW", 2)
    docs = tmp_path / "windows"
    docs.mkdir()
    (docs / "a.txt").write_text(_sentences("alpha", 12), encoding="utf-8")
    (docs / "b.txt").write_text(_sentences("beta", 12), encoding="utf-8")
    small = settings.with_(chunk_size=200, chunk_overlap=0)

    def run(folder: Path) -> tuple[object, list[tuple[int, int, str]], list[tuple[bool, list]]]:
        syncer = engine(small).syncer(small)
        real_save = syncer.catalog.save
        saves: list[tuple[bool, list]] = []

        def save(manifest: Manifest) -> None:
            saves.append((manifest.in_progress, sorted(manifest.files)))
            real_save(manifest)

        syncer.catalog.save = save  # type: ignore[method-assign]
        calls: list[tuple[int, int, str]] = []
        return syncer.sync(folder, lambda *a: calls.append(a)), calls, saves

    report, calls, saves = run(docs)
    chunks = report.total_chunks
    assert chunks >= 6  # three windows or more
    assert report.embedded_chunks == report.added_chunks == chunks
    assert calls[-1] == (chunks, chunks, f"Indexed {chunks}/{chunks} chunks of 2/2 files")
    assert saves == [(True, []), (False, ["a.txt", "b.txt"])]  # a quick sync: no save between
    assert_consistent(small)

    monkeypatch.setattr("rag.sync._SAVE_EVERY_S", -1.0)  # a save after every window
    (docs / "c.txt").write_text(_sentences("gamma", 12), encoding="utf-8")
    (docs / "d.txt").write_text(_sentences("delta", 12), encoding="utf-8")
    report, calls, saves = run(docs)
    assert report.embedded_chunks == report.added_chunks > 4
    during = saves[1:-1]
    assert len(during) >= 3 and all(in_progress for in_progress, _ in during)
    assert (True, ["a.txt", "b.txt", "c.txt"]) in during  # c finished, d not yet
    assert saves[-1] == (False, ["a.txt", "b.txt", "c.txt", "d.txt"])
    assert_consistent(small)


def test_only_a_sync_with_many_new_texts_asks_for_the_bulk_runtime(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedder is asked for its bulk runtime when the sync has enough new texts (the
    runtime itself is tested in tests/test_embeddings.py, slow: here the request is recorded
    and the vectors come from the ONNX runtime)."""
    monkeypatch.setattr("rag.sync.BULK_MIN_CHUNKS", 3)
    docs = tmp_path / "bulk"
    docs.mkdir()
    (docs / "a.txt").write_text(_sentences("alpha", 12), encoding="utf-8")
    asked: list[bool] = []
    real = Embedder.embed_documents

    def embed(self: Embedder, texts: list[str], bulk: bool = False) -> object:
        asked.append(bulk)
        return real(self, texts)

    monkeypatch.setattr(Embedder, "embed_documents", embed)
    for bulk in ("auto", "off"):
        chosen = settings.with_(
            embed_bulk=bulk, store_dir=tmp_path / f"store-{bulk}", chunk_size=200, chunk_overlap=0
        )
        assert engine(chosen).syncer(chosen).sync(docs).embedded_chunks >= 3
    assert asked == [True, False]


def test_two_renames_in_one_sync_are_both_counted(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    (docs_dir / "sava.txt").write_text("The Sava meets the Danube at Belgrade.", encoding="utf-8")
    rag.ingest(settings=settings)
    (docs_dir / "danube.txt").rename(docs_dir / "river.txt")
    (docs_dir / "sava.txt").rename(docs_dir / "tributary.txt")
    report = rag.ingest(settings=settings)
    assert (report.renamed_files, report.added_files, report.removed_files) == (2, 0, 0)
    assert report.embedded_chunks == 0
    assert_consistent(settings)


def test_a_sync_that_only_removes_reports_no_indexing(settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    (docs_dir / "danube.txt").unlink()
    calls: list[tuple[int, int, str]] = []
    report = engine(settings).syncer(settings).sync(docs_dir, lambda *a: calls.append(a))
    assert report.removed_files == 1
    assert [c for c in calls if c[2].startswith("Indexed")] == []
    assert_consistent(settings)


def test_the_document_list_records_each_files_size_time_and_sync(
    settings: Settings, docs_dir: Path
) -> None:
    """What the next sync compares (size and mtime: an unchanged file is not read again), and
    when each file was synced (rag docs, the UI's library)."""
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    rag.ingest(settings=settings)
    for source, entry in Manifest.load(settings.store_dir / "manifest.json").files.items():
        stat = (docs_dir / source).stat()
        assert (entry.size, entry.mtime) == (stat.st_size, stat.st_mtime)
        assert datetime.fromisoformat(entry.synced_at).tzinfo is not None


def test_a_server_catalog_keeps_each_synced_documents_text(
    settings: Settings, docs_dir: Path
) -> None:
    """Server mode: the catalog stores each document's full text (the UI shows it from there)."""
    from rag.catalog import ServerCatalog

    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    eng = engine(settings)
    catalog = ServerCatalog(eng.store)
    embedder = shared_embedder(settings)
    Syncer(settings, eng.store, eng.lexical, embedder, catalog=catalog).sync(docs_dir)
    reader = ServerCatalog(eng.store)  # another process
    assert reader.document_text("danube.txt", Path("/ignored")) == EXTRA
    assert set(reader.load().files) == {SEED_FILE, "danube.txt"}


def test_a_damaged_document_list_is_rebuilt_from_the_store_as_finished(
    settings: Settings, docs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unreadable list is rebuilt from the store and saved, and says so; the store was
    complete, so the rebuilt list is not marked unfinished (no repair follows)."""
    rag.ingest(settings=settings)
    path = settings.store_dir / "manifest.json"
    saved = Manifest.load(path)
    path.write_text("{ torn", encoding="utf-8")
    caplog.set_level("WARNING", logger="rag.sync")
    rebuilt = engine(settings).syncer(settings).load_manifest()
    assert rebuilt.files.keys() == saved.files.keys() and rebuilt.in_progress is False
    assert caplog.messages == [
        f"The index manifest {path} is unreadable (JSONDecodeError) Rebuilding it from the index."
    ]
    assert Manifest.load(path).files.keys() == saved.files.keys()
    # Missing while the store holds chunks: rebuilt too, and said so.
    path.unlink()
    caplog.clear()
    syncer = engine(settings).syncer(settings)
    assert syncer.load_manifest().files.keys() == saved.files.keys()
    assert caplog.messages == [
        f"The document list lists nothing but {syncer.store.where} holds "
        f"{saved.total_chunks} chunks: rebuilding it from the index."
    ]


def test_a_sync_says_what_it_repairs_replaces_and_re_embeds(
    settings: Settings, docs_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The log of a sync that repairs an unfinished one, replaces another folder's index, or
    finds another backend's vectors (cleared and embedded again, BM25 rebuilt)."""
    from rag.source import this_host

    caplog.set_level("INFO", logger="rag.sync")
    first = rag.ingest(settings=settings)
    path = settings.store_dir / "manifest.json"
    assert Manifest.load(path).host == this_host()
    rag.ingest(settings=settings)
    assert not [m for m in caplog.messages if m.startswith(("Repairing", "Replacing"))]

    manifest = Manifest.load(path)
    manifest.in_progress = True
    manifest.save(path)
    caplog.clear()
    rag.ingest(settings=settings)
    assert "Repairing the index first: the last sync did not finish." in caplog.messages

    other = tmp_path / "other"
    other.mkdir()
    (other / "danube.txt").write_text(EXTRA, encoding="utf-8")
    caplog.clear()
    caplog.set_level("DEBUG", logger="rag.sync")
    engine(settings).syncer(settings).sync(other)
    assert f"Replacing the index of {docs_dir.resolve()} with {other.resolve()}." in (
        caplog.messages
    )
    caplog.set_level("INFO", logger="rag.sync")
    caplog.clear()  # through rag.ingest, one line says it (a reviewer saw two, said twice)
    rag.ingest(docs_dir, settings=settings, replace=True)
    assert len([m for m in caplog.messages if m.startswith("Replacing the index")]) == 1

    eng = engine(settings)
    eng.store.set_embedding("another/model")
    caplog.clear()
    report = eng.syncer(settings).sync(docs_dir)
    own = shared_embedder(settings).id
    assert (
        f"The index holds another/model embeddings and this backend gives {own}: "
        "re-embedding everything."
    ) in caplog.messages
    assert eng.store.embedding() == own
    assert report.embedded_chunks == report.total_chunks == first.total_chunks
    assert "Rebuilding the lexical index from the store." not in caplog.messages  # rebuilt whole
    assert_consistent(settings)


def test_a_current_lexical_index_is_updated_and_a_stale_one_rebuilt(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag.ingest(settings=settings)
    eng = engine(settings)
    path = settings.store_dir / "manifest.json"
    builds: list[int] = []
    real_build = eng.lexical.build

    def build(rows: object, generation: int = 0) -> None:
        builds.append(generation)
        real_build(rows, generation)  # type: ignore[arg-type]

    monkeypatch.setattr(eng.lexical, "build", build)
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    eng.syncer(settings).sync(docs_dir)
    assert builds == []  # in place: no rebuild of the whole index
    # Another sync's index (an older generation) with as many rows: rebuilt, not patched.
    real_build([(i, "stale words") for i in sorted(Manifest.load(path).chunk_ids)], 0)
    (docs_dir / "sava.txt").write_text("The Sava meets the Danube at Belgrade.", encoding="utf-8")
    eng.syncer(settings).sync(docs_dir)
    assert builds == [Manifest.load(path).generation]
    assert eng.lexical.search("Danube kilometres", 5)
    assert_consistent(settings)


def test_a_crashed_syncs_chunks_of_a_file_gone_since_are_deleted(
    settings: Settings, docs_dir: Path
) -> None:
    """Chunks a crashed sync wrote and no entry lists: reused when their file is synced again
    (test_crash_half_way_is_repaired), deleted when the file is gone by the repair."""
    first = crashed_after_adding_danube(settings, docs_dir)
    (docs_dir / "danube.txt").unlink()
    report = rag.ingest(settings=settings)
    assert report.total_chunks == first.total_chunks == engine(settings).store.count()
    assert_consistent(settings)


def test_a_sync_is_marked_unfinished_before_its_first_write(settings: Settings) -> None:
    rag.ingest(settings=settings)
    (settings.docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    syncer = engine(settings).syncer(settings)

    def lost_the_lease() -> None:
        raise RuntimeError("stopped")

    syncer.fence = lost_the_lease  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="stopped"):
        syncer.sync(settings.docs_dir)
    assert Manifest.load(settings.store_dir / "manifest.json").in_progress is True


def test_each_changing_sync_is_one_generation_of_every_part(
    settings: Settings, docs_dir: Path
) -> None:
    rag.ingest(settings=settings)
    eng = engine(settings)
    path = settings.store_dir / "manifest.json"
    before = Manifest.load(path).generation
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    eng.syncer(settings).sync(docs_dir)
    after = Manifest.load(path)
    assert after.generation == before + 1 and after.in_progress is False
    assert eng.store.state().generation == eng.lexical.generation == before + 1
    assert eng.store.embedding() == shared_embedder(settings).id
    # Nothing changed in the folder but BM25 is another sync's: the sync rebuilds it.
    eng.lexical.build([(i, "stale words") for i in sorted(after.chunk_ids)], 0)
    eng.syncer(settings).sync(docs_dir)
    assert eng.lexical.generation == before + 2
    assert eng.lexical.search("Danube kilometres", 5)
    assert_consistent(settings)


def test_a_sync_reports_its_time_and_records_when_it_ran(settings: Settings) -> None:
    from datetime import UTC

    started = datetime.now(UTC).replace(microsecond=0)
    report = rag.ingest(settings=settings)
    assert 0.0 < report.seconds < 600.0  # this sync's wall-clock, not a clock reading
    last = Manifest.load(settings.store_dir / "manifest.json").last_sync
    assert last is not None and datetime.fromisoformat(last) >= started


def test_touched_files_are_each_unchanged_and_none_is_dropped(
    settings: Settings, docs_dir: Path
) -> None:
    (docs_dir / "danube.txt").write_text(EXTRA, encoding="utf-8")
    (docs_dir / "sava.txt").write_text("The Sava meets the Danube at Belgrade.", encoding="utf-8")
    rag.ingest(settings=settings)
    for name in ("danube.txt", "sava.txt"):
        os.utime(docs_dir / name, (1, 1))
    report = rag.ingest(settings=settings)
    assert (report.unchanged_files, report.removed_files, report.total_files) == (3, 0, 3)
    again = rag.ingest(settings=settings)  # now by size and time, none read
    assert (again.unchanged_files, again.removed_files, again.total_files) == (3, 0, 3)
    assert_consistent(settings)


def test_a_syncer_without_a_catalog_opens_the_store_folders(settings: Settings) -> None:
    eng = engine(settings)
    syncer = Syncer(settings, eng.store, eng.lexical, shared_embedder(settings))
    report = syncer.sync(settings.docs_dir)
    saved = Manifest.load(settings.store_dir / "manifest.json")
    assert report.total_chunks == saved.total_chunks > 0


def test_a_documents_title_reaches_its_stored_chunks(settings: Settings, docs_dir: Path) -> None:
    page = "<html><head><title>Rivers of Serbia</title></head><body><p>"
    (docs_dir / "rivers.html").write_text(page + EXTRA + "</p></body></html>", encoding="utf-8")
    rag.ingest(settings=settings)
    titles = {c.title for c in engine(settings).store.iter_chunks() if c.source == "rivers.html"}
    assert titles == {"Rivers of Serbia"}


# Survivors of the rag/sync.py mutation run (tests/README.md), each checked on its mutant.


def test_a_skipped_file_does_not_end_the_scan(settings: Settings, tmp_path: Path) -> None:
    """An unsupported file and a link out of the folder are skipped, in order, and the files
    after them still read (kills ``_scan_45``, a ``continue`` made ``break``, and the reasons'
    words ``_scan_64``, ``_65``, ``_69``, ``_70``)."""
    docs = tmp_path / "ordered"
    docs.mkdir()
    (docs / "a.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "outside.md").write_text("# Out\n\nNot in the folder.\n", encoding="utf-8")
    (docs / "b-link.md").symlink_to(tmp_path / "outside.md")
    (docs / "c.md").write_text("# Cranes\n\nCranes fly south.\n", encoding="utf-8")
    (docs / "d.md").write_text("# Herons\n\nHerons wade.\n", encoding="utf-8")
    report = engine(settings).syncer(settings).sync(docs)
    assert report.skipped == [
        SkippedFile("a.png", "unsupported type .png"),
        SkippedFile("b-link.md", "a link to a file outside the folder"),
    ]
    assert report.added_files == 2


def test_skipped_files_are_logged_with_their_reason(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Kills ``_scan_84``, ``_85``, ``_89``, ``_90`` (the two warnings' words)."""
    docs = tmp_path / "logged"
    docs.mkdir()
    (docs / "big.txt").write_text("Rivers " * 300, encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "ok.txt").write_text("Rivers run.", encoding="utf-8")
    capped = settings.with_(max_file_mb=1 / 1024)
    with caplog.at_level(logging.WARNING, logger="rag.sync"):
        engine(capped).syncer(capped).sync(docs)
    lines = [r.getMessage() for r in caplog.records if r.name == "rag.sync"]
    assert any(line.startswith("Skipping big.txt: 0.0 MB is over the") for line in lines)
    assert any(line.startswith("Skipping broken.pdf: not a readable PDF") for line in lines)


def test_the_parse_time_limit_reaches_the_loaders(settings: Settings, tmp_path: Path) -> None:
    """Kills ``_scan_82`` (``load_document`` called without ``max_parse_seconds``)."""
    docs = tmp_path / "slow"
    docs.mkdir()
    (docs / "page.html").write_text("<p>" + "<b>Rivers</b> " * 2000 + "</p>", encoding="utf-8")
    (docs / "ok.txt").write_text("Rivers run.", encoding="utf-8")
    hurried = settings.with_(max_parse_seconds=1e-9)
    report = engine(hurried).syncer(hurried).sync(docs)
    (skipped,) = report.skipped
    assert skipped.path == "page.html" and "RAG_MAX_PARSE_SECONDS" in skipped.reason
    assert report.added_files == 1


def test_new_bytes_with_the_same_text_update_the_recorded_size(
    settings: Settings, tmp_path: Path
) -> None:
    """A file whose bytes change but whose text does not is not re-indexed, but its size and
    time are recorded, so the next sync does not read it again (kills ``_scan_111``)."""
    docs = tmp_path / "same-text"
    docs.mkdir()
    page = docs / "page.html"
    page.write_text("<html><body><p>Herons wade.</p></body></html>", encoding="utf-8")
    syncer = engine(settings).syncer(settings)
    syncer.sync(docs)
    page.write_text("<html><body><p>Herons wade.</p><!-- a comment --></body></html>", "utf-8")
    again = syncer.sync(docs)
    assert again.updated_files == 0 and again.unchanged_files == 1
    (entry,) = engine(settings).catalog.load().files.values()
    assert entry.size == page.stat().st_size


def test_a_sync_records_which_embedding_its_vectors_come_from(settings: Settings) -> None:
    """Another process opening the store reads the embedding id (kills ``sync_106``)."""
    import chromadb

    rag.ingest(settings=settings)
    client = chromadb.PersistentClient(path=str(settings.store_dir / "chroma"))
    metadata = client.get_collection(settings.collection).metadata or {}
    assert metadata.get("embedding") == shared_embedder(settings).id


def test_a_documents_pages_sections_and_title_reach_its_chunks(
    settings: Settings, tmp_path: Path
) -> None:
    """Kills ``_scan_122``, ``_129``, ``_130`` (the loader's pages, structure and title not
    passed to the chunker)."""
    from tests.test_loaders_chunking import make_pdf

    docs = tmp_path / "structured"
    docs.mkdir()
    make_pdf(docs / "two.pdf", ["Herons wade in water.", "Cranes fly south."])
    (docs / "guide.md").write_text(
        "# Bird guide\n\nAn intro.\n\n## Herons\n\nHerons wade.\n", encoding="utf-8"
    )
    (docs / "notes.html").write_text(
        "<html><head><title>Field notes</title></head><body><p>Herons nest in trees.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    engine(settings).syncer(settings).sync(docs)
    chunks = [p.chunk for p in rag.retrieve("herons cranes", k=20, settings=settings.with_(
        docs_dir=docs))]  # fmt: skip
    pages = {c.page for c in chunks if c.source == "two.pdf"}
    assert pages == {1, 2}
    guide = [c for c in chunks if c.source == "guide.md"]
    assert {c.title for c in guide} == {"Bird guide"}
    assert "Bird guide > Herons" in {c.section for c in guide}
    # A page's title that is not its first line (HTML's <title>) is the chunks' title too.
    assert {c.title for c in chunks if c.source == "notes.html"} == {"Field notes"}
