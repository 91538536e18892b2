"""The Documents table and the example questions over a real index: the newest sync first, a
title read again when its document changed, a title of exactly the limit kept whole, headings
of extracted text, and examples taken from documents that have a title.

Tests written for deliberate bugs a review planted in ui/library.py that the suite let through."""

from __future__ import annotations

import time

import pytest

import rag
from rag import Settings
from rag.sync import now
from ui.library import MAX_TITLE_CHARS, Library, Outline, outline

pytestmark = pytest.mark.slow  # rag.ingest embeds with the real model

SEED = "000_f1c14fb623d5a113.txt"  # its first line is a paragraph: no title


def next_second() -> None:
    """Wait until the sync clock (whole seconds) moves on, so the next sync's time differs."""
    start = now()
    deadline = time.monotonic() + 5
    while now() == start and time.monotonic() < deadline:
        time.sleep(0.05)


def test_last_sync_newest_first_lists_the_latest_synced_document_first(
    settings: Settings,
) -> None:
    rag.ingest(settings=settings)
    next_second()
    (settings.docs_dir / "herons.md").write_text("# Herons\n\nHerons wade.\n", "utf-8")
    rag.ingest(settings=settings)
    library = Library(settings)
    newest = library.page(sort="Last sync (newest first)")
    assert [row.source for row in newest.rows] == ["herons.md", SEED]
    oldest_name_first = library.page(sort="File (A-Z)")
    assert [row.source for row in oldest_name_first.rows] == [SEED, "herons.md"]


def test_a_document_rewritten_at_the_same_size_shows_its_new_title(settings: Settings) -> None:
    """Outlines are read once per file version: a new sync of the file is a new version, even
    when the edit kept its size."""
    guide = settings.docs_dir / "guide.md"
    guide.write_text("# Otters\n\nThey hold hands.\n", "utf-8")
    rag.ingest(settings=settings)
    library = Library(settings)
    assert {r.source: r.title for r in library.rows()}["guide.md"] == "Otters"
    next_second()
    guide.write_text("# Herons\n\nThey hold hands.\n", "utf-8")  # as many bytes
    rag.ingest(settings=settings)
    assert {r.source: r.title for r in library.rows()}["guide.md"] == "Herons"


def test_examples_come_from_the_documents_with_a_title(settings: Settings) -> None:
    """The seed document has no title; a question naming its file is a poorer example than one
    from a document's own title and heading, which is offered alone."""
    (settings.docs_dir / "otters.md").write_text(
        "# Otters\n\n## Feeding\n\nOtters eat fish and crabs.\n", "utf-8"
    )
    rag.ingest(settings=settings)
    assert Library(settings).examples() == ["What does Otters say about Feeding?"]


def test_a_title_of_exactly_the_limit_is_kept_whole() -> None:
    title = "Harbour guide " * 5 + "for the winter month"
    assert len(title) == MAX_TITLE_CHARS
    assert outline(f"# {title}\n\nText.\n", "h.md") == Outline(title)
    longer = title + "x"
    cut = outline(f"# {longer}\n\nText.\n", "h.md").title
    assert cut.endswith("…") and len(cut) <= MAX_TITLE_CHARS


def test_a_short_line_ending_in_punctuation_is_no_heading_of_extracted_text() -> None:
    """A label ("Opening hours:"), a clause ("Call ahead;") or a parenthesis alone on its line
    introduces what follows: an example question about it would read "say about Note:?"."""
    text = (
        "Harbour guide\n\nOpening hours:\n\nFrom 6 to 9.\n\nFees\n\nTen euros a night.\n\n"
        "Call ahead;\n\nor write.\n\nMoorings (north)\n\nBy the crane.\n"
    )
    assert outline(text, "h.txt") == Outline("Harbour guide", ("Fees",))
