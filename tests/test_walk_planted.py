"""The listing of a documents folder (rag/walk.py on real folders): a link to a folder is not
followed but passed over (a link to the folder itself would list its files again and again),
and a documents folder that cannot be listed is an error, not an empty folder.

Tests written for deliberate bugs a review planted in rag/walk.py that the suite let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.walk import list_files


def test_links_to_folders_are_not_followed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "guides" / "pump.md").write_text("# Pump\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("Not a document of this folder.", encoding="utf-8")
    (docs / "loop").symlink_to(docs, target_is_directory=True)
    (docs / "other").symlink_to(outside, target_is_directory=True)
    (docs / "pump-link.md").symlink_to(docs / "guides" / "pump.md")  # a link to a file counts
    listing = list_files(docs)
    assert listing.files == [docs / "guides" / "pump.md", docs / "pump-link.md"]
    assert [name for name, _ in listing.passed_over] == ["loop", "other"]
    assert listing.unlisted == []


def test_a_documents_folder_that_cannot_be_listed_is_an_error(tmp_path: Path) -> None:
    """Its callers tell "cannot be listed" (OSError) from "holds nothing": an empty listing
    would read as a folder whose documents were all deleted."""
    with pytest.raises(FileNotFoundError):
        list_files(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("A file, not a folder.", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        list_files(tmp_path / "a.txt")
