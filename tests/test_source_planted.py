"""Which folder a sync reads, from the document list an index keeps (rag/source.py on real
folders): a replica whose folder holds nothing to index serves, a shared index written before
hosts were recorded is still this machine's, the same folder through a link is no other folder,
and a refusal lists every file that would go.

Tests written for deliberate bugs a review planted in rag/source.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import DocumentsError
from rag.manifest import FileEntry, Manifest
from rag.source import describe, sync_folder

SERVER = "http://chroma.example:8000"


def indexed(folder: Path, names: list[str], host: str) -> Manifest:
    """The document list of an index synced from ``folder`` (its files written there)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in names:
        (folder / name).write_text(f"The harbour of {name} opens at six.\n", encoding="utf-8")
        files[name] = FileEntry("h", 40, 0.0, [f"{name}#0"], "2026-12-01T10:00:00+00:00")
    return Manifest(root=str(folder.resolve()), host=host, files=files)


def test_a_replica_whose_folder_holds_nothing_to_index_serves_the_team_index(
    tmp_path: Path,
) -> None:
    """A folder with files a sync would not read (a program, a hidden note) holds no
    documents: syncing it would empty the team's index, so the replica serves it as it is."""
    manifest = indexed(tmp_path / "writer-docs", ["a.txt"], host="writer-box")
    here = tmp_path / "here"
    here.mkdir()
    (here / "tool.exe").write_bytes(b"MZ program")
    (here / ".notes.txt").write_text("hidden", encoding="utf-8")
    settings = Settings(docs_dir=here, store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=True, where=SERVER)
    assert sync_folder(here, settings, source, manifest, replace=False) is None
    (here / "b.txt").write_text("A document.", encoding="utf-8")  # now it holds one
    with pytest.raises(DocumentsError, match="--replace"):
        sync_folder(here, settings, source, manifest, replace=False)


def test_a_shared_index_that_names_no_host_belongs_to_the_folder_here(tmp_path: Path) -> None:
    """A document list written before the writer's host was recorded names none: the folder
    it records is here, so this machine may sync it (it is not a replica of another host)."""
    docs = tmp_path / "docs"
    manifest = indexed(docs, ["a.txt"], host="")
    settings = Settings(store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=True, where=SERVER)
    assert (source.folder, source.writable) == (docs.resolve(), True)
    assert sync_folder(None, settings, source, manifest, replace=False) == docs.resolve()


def test_the_index_folder_named_through_a_link_is_the_same_folder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    manifest = indexed(docs, ["a.txt", "b.txt"], host="box")
    link = tmp_path / "link-to-docs"
    link.symlink_to(docs, target_is_directory=True)
    settings = Settings(docs_dir=link, store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=False, where=str(tmp_path / "store"))
    assert sync_folder(link, settings, source, manifest, replace=False) == link
    dotted = docs / ".." / "docs"
    assert sync_folder(dotted, settings, source, manifest, replace=False) == dotted


def test_a_refusal_lists_five_files_that_would_go_without_an_ellipsis(tmp_path: Path) -> None:
    names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]
    manifest = indexed(tmp_path / "first", names, host="box")
    other = tmp_path / "other"
    other.mkdir()
    (other / "z.txt").write_text("Another document.", encoding="utf-8")
    settings = Settings(docs_dir=other, store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=False, where=str(tmp_path / "store"))
    with pytest.raises(DocumentsError) as refused:
        sync_folder(other, settings, source, manifest, replace=False)
    message = str(refused.value)
    assert "would remove 5 of them (a.txt, b.txt, c.txt, d.txt, e.txt). Pass" in message
    (tmp_path / "first" / "f.txt").write_text("One more.", encoding="utf-8")
    manifest.files["f.txt"] = manifest.files["a.txt"]
    with pytest.raises(DocumentsError) as refused:
        sync_folder(other, settings, source, manifest, replace=False)
    message = str(refused.value)
    assert "would remove 6 of them (a.txt, b.txt, c.txt, d.txt, e.txt, ...). Pass" in message
