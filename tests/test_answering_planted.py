"""rag/answering.py at its edges: a heading cuts the reader's context, and a sentence that
introduces a list is counted once with its list when its paragraph is measured.

Tests written for deliberate bugs a review planted in rag/answering.py that the suite let
through:

- ``candidate_sentences`` without ``before = ""`` at a heading: the sentence under a heading
  was read with the last sentence of the section before it as its context;
- ``short_paragraph`` without ``last = first`` for a sentence cited through the unit it
  introduces: the list was counted as a fifth sentence, and a paragraph of four sentences
  ending in "...the following:" was cited as its last sentence alone.
"""

from __future__ import annotations

from rag.answering import PARAGRAPH_SENTENCES, candidate_sentences, short_paragraph, spans
from tests.test_structured_answers import structured


def test_a_heading_cuts_the_context_the_reader_sees() -> None:
    _, doc = structured(
        [
            ("text", "The ferry leaves at noon."),
            ("heading", "Tickets"),
            ("text", "Tickets are sold on board."),
        ],
        "Harbour guide",
    )
    assert [u.kind for u in spans(doc)] == ["text", "heading", "text"]
    read = {c.text: c.before for c in candidate_sentences([doc])}
    assert read == {"The ferry leaves at noon.": "", "Tickets are sold on board.": ""}


def test_a_paragraph_counts_an_introduced_list_with_its_sentence() -> None:
    assert PARAGRAPH_SENTENCES == 4
    text, doc = structured(
        [
            (
                "text",
                "The ferry crosses the bay. It carries cars and their drivers. It runs in all "
                "weather. Tickets cost the following:",
            ),
            ("list", "- five euros a car\n- one euro a walker"),
        ],
        "Harbour guide",
    )
    units = spans(doc)
    assert [u.kind for u in units] == ["text", "text", "text", "text", "list"]
    # Four sentences, the last cited through its list: the whole paragraph, list included.
    assert short_paragraph(doc, units[3].start, units[4].end) == (0, len(text))
