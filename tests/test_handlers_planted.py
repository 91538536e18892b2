"""The page's actions over a real folder and index: k kept within its bounds, a document chosen
twice deleted once, a re-sync that skipped a file said as a warning, an upload the sync then
skipped said as an error, and a team page whose server cannot be reached offering no changes.

Tests written for deliberate bugs a review planted in ui/handlers.py that the suite let
through."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import rag
from rag import IngestReport, Settings
from ui import app as page
from ui import render
from ui.handlers import Handlers, read_only_reason
from ui.indexing import IndexTracker

HERONS = "# Herons\n\nHerons wade in shallow water and eat fish.\n"


def folder_settings(tmp_path: Path, **files: str) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    return Settings(docs_dir=docs, store_dir=tmp_path / "store")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_k_is_held_between_1_and_the_maximum(tmp_path: Path) -> None:
    """A JSON client can send any number: 0 or a negative k is one passage, not an error."""
    handlers = Handlers(folder_settings(tmp_path))
    assert [handlers.session_settings(k, None, None).k for k in (0, -3, 2.9, 50)] == [1, 1, 2, 20]


def test_a_team_page_whose_server_cannot_be_reached_offers_no_changes(tmp_path: Path) -> None:
    """The page still serves when the Chroma server is down (ui.app.index_source gives the
    settings' folder); it must not offer uploads, deletes or re-syncs to an index it cannot
    see, which may be another machine's."""
    settings = folder_settings(tmp_path, **{"heron.md": HERONS}).with_(
        chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    source = page.index_source(settings)
    assert source.shared and not source.writable and source.folder == settings.docs_dir
    reason = read_only_reason(source)
    # It says what is wrong, not that the page is a replica of an index "fed from ," (a
    # folder it could not read: the review's finding).
    assert reason.startswith(f"The index on {settings.chroma_url} cannot be opened now")
    assert "is not reachable" in reason and "replica" not in reason and "from ," not in reason


@pytest.mark.slow  # rag.ingest embeds with the real model
def test_a_document_chosen_twice_is_confirmed_and_deleted_once(tmp_path: Path) -> None:
    settings = folder_settings(tmp_path, **{"heron.md": HERONS})
    rag.ingest(settings=settings)
    handlers = Handlers(settings)
    assert handlers.confirm_text(["heron.md", " heron.md "]) == (
        "Delete heron.md from the index and the documents folder? This cannot be undone."
    )
    assert handlers.delete(["heron.md", "heron.md"]) == render.notice(
        "Deleted heron.md (1 chunk).", "success"
    )
    assert rag.documents(settings).documents == []


@pytest.mark.slow
def test_a_resync_that_skipped_a_file_is_a_warning(tmp_path: Path) -> None:
    settings = folder_settings(tmp_path, **{"heron.md": HERONS, "empty.txt": ""})
    notice = Handlers(settings).resync()
    assert notice == render.notice(
        "Synced: 1 added, 0 updated, 0 removed, 0 unchanged; 1 chunks in 1 files. "
        "Skipped empty.txt: empty file.",
        "warning",
    )


class EmptyingTracker(IndexTracker):
    """Another program empties a file between its upload and the sync (the upload's checks
    passed)."""

    def __init__(self, settings: Settings, name: str) -> None:
        super().__init__(settings)
        self.name = name

    def sync(self) -> IngestReport:
        (self.settings.docs_dir / self.name).write_bytes(b"")
        return super().sync()


@pytest.mark.slow
def test_an_upload_the_sync_then_skipped_is_an_error_and_is_not_kept(tmp_path: Path) -> None:
    settings = folder_settings(tmp_path, **{"heron.md": HERONS})
    upload = tmp_path / "cache" / "otters.md"
    upload.parent.mkdir()
    upload.write_text("# Otters\n\nOtters hold hands while they sleep.\n", "utf-8")
    handlers = Handlers(settings, EmptyingTracker(settings, "otters.md"))
    assert handlers.upload([str(upload)]) == render.notice(
        "Nothing was added. otters.md: empty file; it was not added. 1 files, 1 chunks indexed.",
        "error",
    )
    assert not (settings.docs_dir / "otters.md").exists()
    assert [d.source for d in rag.documents(settings).documents] == ["heron.md"]
