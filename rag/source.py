"""Which documents folder an index belongs to, and when a sync may replace it.

An index mirrors one folder, recorded by its syncs (``Manifest.root``, and in team mode the
host that wrote it). A sync without a folder uses that one; another folder replaces the index
only when asked to (``replace=True``, ``rag ingest PATH --replace``). A replica (team mode, on a
machine without the team's folder) never writes the team's index.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from rag.config import DEFAULT_DOCS_DIR, Settings
from rag.errors import DocumentsError
from rag.loaders import is_supported
from rag.manifest import Manifest
from rag.walk import list_files

log = logging.getLogger(__name__)
_LISTED = 5


def holds_documents(folder: Path) -> bool:
    """Whether ``folder`` is a folder with at least one file a sync would index."""
    if not folder.is_dir():
        return False
    try:
        return any(is_supported(path) for path in list_files(folder).files)
    except OSError:
        return False  # the folder itself cannot be listed


def this_host() -> str:
    """The name recorded as the writer of a shared index."""
    return socket.gethostname()


@dataclass(frozen=True)
class IndexSource:
    """What feeds an index, as seen from this process."""

    # The documents folder the index mirrors, on this machine (None: not here, or no index yet
    # and no folder chosen).
    folder: Path | None
    # The folder the index records ("" for an empty index) and, in team mode, its writer's host.
    recorded: str
    writer: str
    files: int
    # Team mode: the index lives on a Chroma server that other machines read (and one writes).
    shared: bool
    # This process may sync the index, upload to and delete from it: the folder is here.
    writable: bool
    # Where the index lives: the store folder or the server's URL.
    where: str
    # Why the index could not be opened ("" when it was): then nothing above is known but
    # the settings. A team page offers no change to it (whose index it is is not known); a
    # local one does, and its actions say what is wrong.
    problem: str = ""


def explicit_folder(settings: Settings) -> Path | None:
    """The folder the settings name on purpose (``RAG_DOCS_DIR``), None for the default."""
    return None if settings.docs_dir == DEFAULT_DOCS_DIR else settings.docs_dir


def describe(manifest: Manifest, settings: Settings, shared: bool, where: str) -> IndexSource:
    """The index's source as seen from here."""
    recorded = manifest.root if manifest.files else ""
    if not recorded:
        folder = settings.docs_dir
        return IndexSource(folder, "", "", 0, shared, True, where)
    here = Path(recorded)
    elsewhere = bool(manifest.host) and manifest.host != this_host()
    present = here.is_dir() and not (shared and elsewhere)
    return IndexSource(
        folder=here if present else None,
        recorded=recorded,
        writer=manifest.host,
        files=len(manifest.files),
        shared=shared,
        writable=present,
        where=where,
    )


def sync_folder(
    path: Path | None, settings: Settings, source: IndexSource, manifest: Manifest, replace: bool
) -> Path | None:
    """The folder a sync must read, or None when this process must not write (a replica).

    Raises ``DocumentsError`` when ``path`` (or ``RAG_DOCS_DIR``) names another folder than the
    index's and ``replace`` is not set; with ``replace`` it logs what will go.
    """
    requested = path if path is not None else explicit_folder(settings)
    replica = source.shared and source.recorded and requested is not None
    if replica and requested is not None and not holds_documents(requested):
        # An answer-only replica: an empty or missing folder must not empty the team's index.
        log.info("%s holds no documents: serving the index on %s.", requested, source.where)
        return None
    if requested is None:
        if not source.recorded:
            return settings.docs_dir
        if source.folder is not None:
            return source.folder
        if source.shared:
            log.info(
                "This machine is a replica: the index on %s is fed from %s%s; nothing to sync "
                "here (rag ingest runs on the writer).",
                source.where,
                source.recorded,
                f" on {source.writer}" if source.writer else "",
            )
            return None
        raise DocumentsError(
            f"The index was built from {source.recorded}, which no longer exists: restore that "
            "folder, or replace the index with another one (rag ingest PATH --replace)."
        )
    if not source.recorded or _same_folder(requested, source.recorded):
        return requested
    going = _going(requested, manifest)
    if not replace:
        listed = ", ".join(going[:_LISTED]) + (", ..." if len(going) > _LISTED else "")
        raise DocumentsError(
            f"The index on {source.where} holds {source.files} files from {source.recorded}; "
            f"{requested} is another folder, and syncing it would remove "
            f"{len(going)} of them{f' ({listed})' if going else ''}. Pass --replace to replace "
            f"the index (rag ingest {requested} --replace, or rag ui {requested} --replace), or "
            "set RAG_COLLECTION to a new name to keep both."
        )
    log.warning(
        "Replacing the index of %s (%d files) with %s: %d files go%s.",
        source.recorded,
        source.files,
        requested,
        len(going),
        f" ({', '.join(going[:_LISTED])}{', ...' if len(going) > _LISTED else ''})"
        if going
        else "",
    )
    return requested


def _same_folder(path: Path, recorded: str) -> bool:
    try:
        return str(path.resolve()) == recorded
    except OSError:
        return False


def _going(folder: Path, manifest: Manifest) -> list[str]:
    """The indexed documents a sync of ``folder`` would remove (their names are not there)."""
    return sorted(name for name in manifest.files if not (folder / name).is_file())
