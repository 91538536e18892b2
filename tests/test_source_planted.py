"""Which folder a sync reads, from the document list an index keeps (rag/source.py on real
folders): a replica whose folder holds nothing to index serves, a shared index written before
hosts were recorded is still this machine's, the same folder through a link is no other folder,
a refusal lists every file that would go, an emptied index takes another folder without
--replace, and a local index recorded under another host name is still synced here, the first
sync of an empty team index reads the folder named, a replica synced without a folder serves,
and a sub-folder named like an indexed file counts that file as going.

Tests written for deliberate bugs a review planted in rag/source.py that the suite let through."""

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


def test_an_emptied_index_takes_any_folder_without_replace(tmp_path: Path) -> None:
    """An index whose documents were all removed holds nothing to lose: another folder syncs
    into it without --replace."""
    old = tmp_path / "old-docs"
    old.mkdir()
    manifest = Manifest(root=str(old.resolve()), host="", files={})
    new = tmp_path / "new-docs"
    new.mkdir()
    (new / "a.txt").write_text("The harbour opens at six.\n", encoding="utf-8")
    settings = Settings(docs_dir=new, store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=False, where=str(tmp_path / "store"))
    assert source.recorded == ""
    assert sync_folder(new, settings, source, manifest, replace=False) == new


def test_a_local_index_recorded_by_another_host_is_still_synced_here(tmp_path: Path) -> None:
    """A local store last synced under another host name (a renamed machine, a copied store)
    still belongs to its folder here: a sync reads that folder."""
    docs = tmp_path / "docs"
    manifest = indexed(docs, ["a.txt"], host="old-name-of-this-box")
    settings = Settings(store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=False, where=str(tmp_path / "store"))
    assert (source.folder, source.writable) == (docs.resolve(), True)
    assert sync_folder(None, settings, source, manifest, replace=False) == docs.resolve()


def test_the_first_sync_of_an_empty_team_index_reads_the_folder_named(tmp_path: Path) -> None:
    """An empty team index has no writer yet: the machine that names a folder syncs it (even
    one with nothing to index yet), it is not turned into a replica."""
    empty = tmp_path / "docs"
    empty.mkdir()
    settings = Settings(docs_dir=empty, store_dir=tmp_path / "store")
    source = describe(Manifest(), settings, shared=True, where=SERVER)
    assert sync_folder(empty, settings, source, Manifest(), replace=False) == empty


def test_a_replica_without_the_writers_folder_serves_when_synced_without_one(
    tmp_path: Path,
) -> None:
    """`rag ingest` on a replica (the team's folder is on another machine) serves the team's
    index as it is, rather than failing as if the folder had been deleted."""
    manifest = indexed(tmp_path / "writer-docs", ["a.txt"], host="writer-box")
    manifest = Manifest(root=str(tmp_path / "not-here"), host="writer-box", files=manifest.files)
    settings = Settings(store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=True, where=SERVER)
    assert source.folder is None
    assert sync_folder(None, settings, source, manifest, replace=False) is None


def test_a_folder_where_a_file_was_counts_that_file_as_going(tmp_path: Path) -> None:
    """A folder holding a sub-folder named like an indexed file would remove that file: the
    refusal names it."""
    manifest = indexed(tmp_path / "old", ["a.txt", "b.txt"], host="")
    new = tmp_path / "new"
    (new / "a.txt").mkdir(parents=True)
    (new / "b.txt").write_text("Kept.", encoding="utf-8")
    settings = Settings(store_dir=tmp_path / "store")
    source = describe(manifest, settings, shared=False, where=str(tmp_path / "store"))
    with pytest.raises(DocumentsError, match=r"would remove 1 of them \(a\.txt\)"):
        sync_folder(new, settings, source, manifest, replace=False)
