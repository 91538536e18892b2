"""The listing of a documents folder (rag/walk.py on real folders): a link to a folder is not
followed but passed over (a link to the folder itself would list its files again and again),
and a documents folder that cannot be listed is an error, not an empty folder; hidden folders
are left out like hidden files, and a sub-folder that cannot be listed is named by its path.

Tests written for deliberate bugs a review planted in rag/walk.py that the suite let through;
the second probe's (2026-12-05):

- hidden folders listed (only hidden files left out: a ``.git`` or ``.obsidian`` folder's files
  were indexed);
- an unlisted sub-folder named by its last component instead of its path from the documents
  folder (the report said "skipped b/" for "a/b/")."""

from __future__ import annotations

import errno
import os
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


def test_hidden_folders_are_left_out_with_all_they_hold(tmp_path: Path) -> None:
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "description.txt").write_text("Unnamed repository.", encoding="utf-8")
    (tmp_path / ".git" / "objects" / "notes.md").write_text("# Notes\n", encoding="utf-8")
    (tmp_path / "guide" / ".drafts").mkdir(parents=True)
    (tmp_path / "guide" / ".drafts" / "draft.md").write_text("# Draft\n", encoding="utf-8")
    (tmp_path / "guide" / "pump.md").write_text("# Pump\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden.", encoding="utf-8")
    listing = list_files(tmp_path)
    assert listing.files == [tmp_path / "guide" / "pump.md"]
    assert (listing.unlisted, listing.passed_over) == ([], [])


def test_a_sub_folder_that_cannot_be_listed_is_named_by_its_whole_path(tmp_path: Path) -> None:
    """Root reads any folder, so the one that cannot be listed here is one whose path is longer
    than the system allows (PATH_MAX 4096): 17 folders of 250 letters under ``deep``."""
    (tmp_path / "a.txt").write_text("A file.", encoding="utf-8")
    names = [c * 250 for c in "bcdefghijklmnopqr"]
    (tmp_path / "deep").mkdir()
    fd = os.open(tmp_path / "deep", os.O_RDONLY)
    for name in names:
        os.mkdir(name, dir_fd=fd)
        fd, old = os.open(name, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(fd)
    listing = list_files(tmp_path)
    assert listing.files == [tmp_path / "a.txt"]
    [(relative, reason)] = listing.unlisted
    assert reason == os.strerror(errno.ENAMETOOLONG)
    parts = relative.split("/")
    assert parts[0] == "deep" and parts[1:] == names[: len(parts) - 1]
    assert len(str(tmp_path / relative)) >= 4096 - 250  # the first one too long to open
