"""The index tracker the page polls: a failure with no message of its own still ends the sync
with one, a callback that fails after a sync does not lose the sync's report or the callbacks
after it, and the banner never counts more files done than there are.

Tests written for deliberate bugs a review planted in ui/indexing.py that the suite let
through."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import rag
from rag import Settings
from ui.indexing import READING, STORING, IndexProgress, IndexTracker


def folder_settings(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "heron.md").write_text("# Herons\n\nHerons wade in shallow water.\n", "utf-8")
    return Settings(docs_dir=docs, store_dir=tmp_path / "store")


def test_the_banner_never_counts_more_files_done_than_there_are() -> None:
    """The count comes from the sync's messages while the total was counted at the start: a
    file added meanwhile must not make the page say "read 5 of 4"."""
    reading = IndexProgress(running=True, files_done=5, files_total=4, phase=READING)
    assert reading.banner_text == "Indexing: read 4 of 4 files - answers may be incomplete"
    storing = IndexProgress(running=True, files_done=5, files_total=4, phase=STORING)
    assert storing.banner_text == "Indexing 4 of 4 files - answers may be incomplete"


@pytest.mark.slow  # a real sync: the embedding model
def test_a_failing_callback_after_a_sync_keeps_its_report_and_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = IndexTracker(folder_settings(tmp_path))
    called: list[str] = []

    def broken() -> None:
        called.append("broken")
        raise RuntimeError("a list that cannot be refreshed")

    tracker.on_done += [broken, lambda: called.append("warm")]
    with caplog.at_level(logging.ERROR, logger="ui"):
        report = tracker.sync()
    assert (report.total_files, called) == (1, ["broken", "warm"])
    assert "after indexing" in caplog.text
    assert tracker.progress.running is False and tracker.progress.error == ""


def test_an_unexpected_failure_ends_the_sync_with_a_message_for_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a RagError (a bug, a library's own exception): the page's progress line must say
    the sync failed, not go blank as if it had ended well."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(rag, "ingest", broken)
    tracker = IndexTracker(folder_settings(tmp_path))
    version = tracker.progress.version
    with pytest.raises(RuntimeError):
        tracker.sync()
    progress = tracker.progress
    assert progress.running is False and progress.version == version + 1
    assert progress.error == "Indexing failed: the details are in the server log."
    assert progress.detail == progress.error
