"""The public results (rag/models.py) as the pipeline makes them: a sync that only renamed a
file changed the index, and a generated answer's citations are of kind "text" (the kind a
caller reads in ``Answer.to_dict()`` and ``rag ask --json``).

Tests written for deliberate bugs a review planted in rag/models.py that the suite let
through:

- ``IngestReport.changed`` without ``renamed_files`` (a rename-only sync said "no change");
- ``Citation.kind`` defaulting to "" (the generative path builds its citations with the
  default);
- ``SkippedFile`` no longer frozen (a report's skipped files could be changed by its reader).
"""

from __future__ import annotations

import dataclasses

import pytest

import rag
from rag.config import Settings
from tests.openai_server import OpenAIServer, Reply
from tests.test_generation import QUESTION, cited, on_server


def test_a_sync_that_only_renamed_a_file_changed_the_index(settings: Settings) -> None:
    (settings.docs_dir / "old-name.md").write_text("# Herons\n\nHerons wade.\n", encoding="utf-8")
    first = rag.ingest(settings=settings)
    assert first.changed and first.added_files == 2
    assert not rag.ingest(settings=settings).changed
    (settings.docs_dir / "old-name.md").rename(settings.docs_dir / "new-name.md")
    report = rag.ingest(settings=settings)
    assert (report.renamed_files, report.added_files, report.removed_files) == (1, 0, 0)
    assert report.changed


def test_a_generated_answers_citations_are_of_kind_text(
    seeded: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(cited))
    result = rag.answer(QUESTION, settings=on_server(seeded, server))
    [citation] = result.citations
    assert (citation.kind, citation.verified) == ("text", True)
    assert result.to_dict()["citations"][0]["kind"] == "text"


def test_a_reports_skipped_files_cannot_be_changed(settings: Settings) -> None:
    (settings.docs_dir / "bad.txt").write_bytes(b"\x00\x01binary")
    report = rag.ingest(settings=settings)
    [skipped] = report.skipped
    assert (skipped.path, skipped.reason) == ("bad.txt", "binary file (not text)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        skipped.reason = "fine"  # type: ignore[misc]
    assert {skipped} == {rag.SkippedFile("bad.txt", "binary file (not text)")}
