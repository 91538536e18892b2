"""rag/chunking.py on structures the other chunking tests do not build: a heading at the foot
of a page, a sentence that points to a list "below", nested French quotes closing together.

Tests written for deliberate bugs a review planted in rag/chunking.py that the suite let
through:

- ``_groups`` letting a group of headings join the next group across a page break (the
  ``last[0].page == region.page`` check dropped): a PDF heading at the foot of page 1 and the
  text on page 2 made one chunk, cited as page 2;
- "below" dropped from the words that end an introducing sentence ("The options are listed
  below." no longer kept with its list);
- "»" dropped from the closing marks: nested guillemets closing together ("« non. »»") left
  one "»" opening the next sentence.
"""

from __future__ import annotations

from rag.chunking import Region, block_units, chunk_document, introduces, split_sentences
from rag.loaders.base import Block


def test_a_heading_at_the_foot_of_a_page_stays_on_its_page() -> None:
    page_one = "The pump is described in this manual.\nInstallation\n"
    text = page_one + "Bolt the pump to the floor before use."
    pages = ((0, len(page_one), 1), (len(page_one), len(text), 2))
    heading = text.index("Installation")
    blocks = [
        Block(0, heading - 1, "paragraph"),
        Block(heading, heading + len("Installation"), "heading", ("Installation",)),
        Block(len(page_one), len(text), "paragraph", ("Installation",)),
    ]
    chunks = chunk_document("manual.pdf", text, size=500, overlap=0, pages=pages, blocks=blocks)
    for chunk in chunks:
        [(start, end)] = [(s, e) for s, e, n in pages if n == chunk.page]
        assert start <= chunk.start and chunk.end <= end, (chunk.page, chunk.text)
    assert [(c.page, c.text) for c in chunks][-1] == (2, "Bolt the pump to the floor before use.")


def test_a_sentence_that_points_below_introduces_what_follows() -> None:
    assert introduces("The options are listed below.")
    text = "Pumps come in sizes. The options are listed below.\n- small\n- large\n"
    units = block_units(text, Region(0, text.index("\n"), "paragraph"), 100)
    assert [u.opens for u in units] == [False, True]


def test_nested_guillemets_close_the_sentence_they_end() -> None:
    text = "Il répond « elle a dit « non. »» Puis il part."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Il répond « elle a dit « non. »»",
        "Puis il part.",
    ]
