"""The sync manifest (rag/manifest.py) on its own: what it keeps, what it refuses, and the
parsed copy it keeps per file version (read before every answer)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.errors import StoreDamagedError, StoreError
from rag.manifest import VERSION, FileEntry, Manifest


def full() -> Manifest:
    return Manifest(
        root="/docs",
        chunking="structure-v7",
        embedding="minilm/onnx-int8",
        last_sync="2026-12-05T01:00:00+00:00",
        in_progress=True,
        generation=7,
        host="writer-1",
        files={
            "b.md": FileEntry("h-b", 20, 2.5, ["b:0", "b:1", "b:2"], "t2"),
            "a.txt": FileEntry("h-a", 10, 1.5, ["a:0"], "t1"),
        },
    )


def test_every_field_survives_a_save_and_a_load(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    full().save(path)
    loaded = Manifest.load(path)
    assert loaded == full()
    assert loaded.total_chunks == 4
    assert loaded.chunk_ids == {"a:0", "b:0", "b:1", "b:2"}
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == VERSION
    assert list(data["files"]) == ["a.txt", "b.md"]  # sorted: one sync, one byte sequence
    # A parse of the file (not the copy kept at save) gives the same.
    os.utime(path, ns=(1, 1))
    assert Manifest.load(path) == full()


def test_no_file_is_an_empty_manifest_and_a_folder_that_is_a_file_says_so(tmp_path: Path) -> None:
    assert Manifest.load(tmp_path / "manifest.json") == Manifest()
    assert Manifest().total_chunks == 0 and Manifest().chunk_ids == set()
    (tmp_path / "store").write_text("not a folder")
    with pytest.raises(StoreError) as raised:
        Manifest.load(tmp_path / "store" / "manifest.json")
    assert str(raised.value) == (
        f"The store folder {tmp_path / 'store'} is a file, not a folder: move it away, or set "
        "RAG_STORE_DIR to a folder the index can live in."
    )


def test_another_version_is_read_as_empty_so_the_next_sync_rebuilds(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    full().save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["version"] = VERSION + 1
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.load(path) == Manifest()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ('{"version": 1, "files": {"a.txt": {"hash": "h"', "JSONDecodeError"),
        ('{"version": 1}', "KeyError"),
        ('{"version": 1, "files": {"a.txt": {"hash": "h"}}}', "TypeError"),
        ('{"version": 1, "files": [], "generation": 1}', "AttributeError"),
        ('{"version": 1, "files": {}, "generation": "seven"}', "ValueError"),
        ("[1, 2]", "AttributeError"),
    ],
)
def test_a_damaged_manifest_names_its_file_and_the_way_out(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreDamagedError) as raised:
        Manifest.load(path)
    assert str(raised.value) == (
        f"The index manifest {path} is unreadable ({reason}): run rag ingest to rebuild it "
        "from the index, or delete it and run rag ingest."
    )


def test_defaults_of_an_older_file_without_the_newer_fields(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    entry = {"hash": "h", "size": 1, "mtime": 1.0, "chunks": ["c"], "synced_at": "t"}
    path.write_text(json.dumps({"version": VERSION, "files": {"a.txt": entry}}), encoding="utf-8")
    loaded = Manifest.load(path)
    assert loaded == Manifest(files={"a.txt": FileEntry(**entry)})  # type: ignore[arg-type]
    assert (loaded.generation, loaded.in_progress, loaded.host, loaded.last_sync) == (
        0,
        False,
        "",
        None,
    )


def test_the_parsed_copy_follows_the_file_not_the_objects_handed_out(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    saved = full()
    saved.save(path)
    saved.files.clear()  # the caller's object changes after its save ...
    saved.generation = 99
    first = Manifest.load(path)
    assert first == full()  # ... the kept copy does not
    first.files.pop("a.txt")  # nor does a loaded copy's change reach the next load
    first.host = "someone"
    assert Manifest.load(path) == full()
    # Another writer (another process: no save here) replaces the file, same size and all.
    other = full()
    other.host = "writer-2"
    path.write_text(path.read_text(encoding="utf-8").replace("writer-1", "writer-2"))
    assert Manifest.load(path) == other
    replaced = tmp_path / "new.json"  # and a rename over it (a new inode, any time stamps)
    other.generation = 8
    other.save(replaced)
    stamp = path.stat()
    os.utime(replaced, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    os.replace(replaced, path)
    assert Manifest.load(path).generation == 8


def test_a_copy_shares_no_mutable_state(tmp_path: Path) -> None:
    original = full()
    copy = original.copy()
    assert copy == original and copy is not original and copy.files is not original.files
    copy.files["c.txt"] = FileEntry("h", 1, 1.0, [], "t")
    assert "c.txt" not in original.files


def test_a_file_version_is_parsed_once_and_a_save_needs_no_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is read before every answer: parsed again only when the file changed."""
    parsed: list[Path] = []
    parse = Manifest._parse.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Manifest], path: Path) -> Manifest:
        parsed.append(path)
        return parse(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(Manifest, "_parse", classmethod(counted))
    path, other = tmp_path / "manifest.json", tmp_path / "other.json"
    full().save(path)
    Manifest(generation=3).save(other)
    for _ in range(3):
        assert Manifest.load(path) == full()
        assert Manifest.load(other).generation == 3
    assert parsed == []  # each save left its parsed copy
    path.write_text(path.read_text(encoding="utf-8").replace('"generation": 7', '"generation": 5'))
    for _ in range(3):
        assert Manifest.load(path).generation == 5
    assert parsed == [path]
