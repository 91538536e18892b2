"""The files of a documents folder, listed without recursion and without giving up on one bad
entry: hidden names are left out, links to folders are not followed, and what cannot be listed
or named is reported with the reason instead of being passed over in silence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FolderListing:
    """The plain files under a folder, and the entries that could not be taken."""

    files: list[Path] = field(default_factory=list)
    # Sub-folders that could not be listed (relative POSIX path, reason): what they held
    # before is unknown now, not gone.
    unlisted: list[tuple[str, str]] = field(default_factory=list)
    # Entries passed over (relative path as shown, reason): a name that is not valid UTF-8, a
    # named pipe, socket or device, a link to nothing.
    passed_over: list[tuple[str, str]] = field(default_factory=list)


def shown_name(relative: str) -> str:
    """A relative path that may hold undecodable bytes (``\\udcXX``), printable."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def list_files(root: Path) -> FolderListing:
    """Every plain file under ``root`` (sorted), hidden files and folders excluded.

    A sub-folder that cannot be listed (permission denied, an I/O error, a path too long) is
    recorded in ``unlisted``; a file whose name is not UTF-8 (a name Chroma and JSON cannot
    hold), a pipe, socket or device, or a link to nothing, in ``passed_over``. Iterative: a
    folder thousands of levels deep is no ``RecursionError``.
    """
    listing = FolderListing()
    pending = [root]
    while pending:
        folder = pending.pop()
        relative = folder.relative_to(root).as_posix()
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except OSError as exc:
            if folder == root:
                raise
            listing.unlisted.append((relative, exc.strerror or str(exc)))
            continue
        copies = _sphinx_copies(found)
        for entry in found:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            if entry.name == copies:
                listing.passed_over.append((shown_name(path.relative_to(root).as_posix()), _COPIES))
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
                is_file = not is_folder and entry.is_file()  # a link to a file counts
            except OSError as exc:
                if _is_link(entry):  # a loop of links (a.md -> b.md -> a.md), say: said, not read
                    listing.passed_over.append(
                        (
                            shown_name(path.relative_to(root).as_posix()),
                            f"a link that cannot be followed ({exc.strerror or exc})",
                        )
                    )
                continue  # else gone meanwhile
            if is_folder:
                pending.append(path)
            elif not is_file:
                listing.passed_over.append(
                    (shown_name(path.relative_to(root).as_posix()), _why(entry))
                )
            else:
                name = path.relative_to(root).as_posix()
                try:
                    name.encode("utf-8")
                except UnicodeEncodeError:
                    listing.passed_over.append(
                        (
                            shown_name(name),
                            "its name is not valid UTF-8: rename it (for example with "
                            "convmv) and run rag ingest again",
                        )
                    )
                    continue
                listing.files.append(path)
    listing.files.sort()
    listing.unlisted.sort()
    listing.passed_over.sort()
    return listing


# A Sphinx HTML build keeps a copy of every page's source beside the pages: read both, and
# every answer could cite the copy instead of the page, and half the passages read are repeats.
_COPIES = (
    "Sphinx's copies of the pages' sources (this folder is a Sphinx HTML build, whose pages "
    "are read)"
)


def _sphinx_copies(entries: list[os.DirEntry[str]]) -> str | None:
    """``_sources`` when these entries are a Sphinx HTML build's (it writes searchindex.js
    beside its pages), else None."""
    names = {entry.name for entry in entries}
    return "_sources" if {"_sources", "searchindex.js"} <= names else None


def _why(entry: os.DirEntry[str]) -> str:
    """Why an entry that is neither a folder nor a file is not read."""
    try:
        entry.stat()
    except OSError:
        return "a link to nothing (its target is gone or cannot be reached)"
    if _is_link(entry):  # and its target is no file: a folder
        return (
            "a link to a folder: links to folders are not followed (they can loop or lead out "
            "of the documents folder); move or copy the folder in instead"
        )
    return "not a regular file (a named pipe, socket or device): only files are read"


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False
