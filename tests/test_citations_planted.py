"""rag/citations.py at its edges: the hundredth marker is the last one checked, a line break
ends a claim as a full stop does, a marker is read by its number whatever zeros lead it, and a
passage stored without sentences is cited at its own place in the document.

Tests written for deliberate bugs a review planted in rag/citations.py that the suite let
through:

- ``self._checked > MAX_CHECKED_MARKERS`` for ``>=``: 101 markers checked (the flood test of
  tests/test_llm_deadline.py passes with it: its count of claims kept does not move);
- ``_SENTENCE_BREAK`` without ``\\n+``: a line without a full stop joined the cited claim after
  it, which then no longer matched its sentence;
- markers of up to 3 digits read instead of 6 (``[0001]`` dropped);
- ``sentence_spans`` of a chunk without sentences at offset 0 instead of the chunk's start
  (every test chunk without sentences started at 0).
"""

from __future__ import annotations

from rag.citations import MAX_CHECKED_MARKERS, CitationChecker, sentence_spans
from rag.models import Chunk, Passage

BRIDGE = "The bridge opened in 1931."
MARKETS = "Markets open on Tuesdays in Hennick."


def one(term: str) -> float:
    return 1.0


def bridge() -> Passage:
    return Passage(Chunk(id="a1", source="a.txt", start=0, end=len(BRIDGE), text=BRIDGE), 0.9)


def checker_of(reply: str) -> CitationChecker:
    checker = CitationChecker("When did the bridge open?", [bridge()], one)
    checker.feed(reply)
    checker.finish()
    return checker


def test_the_hundredth_marker_is_the_last_checked() -> None:
    claims = [f"The bridge opened in 1931, note {i} [1]." for i in range(MAX_CHECKED_MARKERS + 1)]
    checker = checker_of(" ".join(claims))
    assert checker.text.count("[1]") == MAX_CHECKED_MARKERS == 100
    assert checker.text.endswith(
        f"note {MAX_CHECKED_MARKERS - 1} [1]. The bridge opened in 1931, note 100."
    )
    assert checker.answer(1.0).unsupported == ["The bridge opened in 1931, note 100"]


def test_a_line_break_ends_a_claim() -> None:
    checker = checker_of(f"{MARKETS[:-1]}\nThe bridge opened in 1931 [1].")
    answer = checker.answer(1.0)
    assert answer.unsupported == [MARKETS[:-1]]  # its own claim, cited by nothing
    assert [c.verified for c in answer.citations] == [True]
    assert answer.confidence == 0.5


def test_a_marker_is_read_by_its_number_whatever_zeros_lead_it() -> None:
    checker = checker_of("The bridge opened in 1931 [0001]. It opened [0000001].")
    assert checker.text == "The bridge opened in 1931 [1]. It opened."
    assert [c.verified for c in checker.citations] == [True]


def test_a_passage_without_sentences_is_cited_at_its_place_in_the_document() -> None:
    later = Chunk(id="b2", source="b.txt", start=40, end=40 + len(MARKETS), text=MARKETS)
    assert sentence_spans(Passage(later, 0.5)) == [(40, 40 + len(MARKETS))]
    checker = CitationChecker("When do markets open?", [Passage(later, 0.5)], one)
    checker.feed("Markets open on Tuesdays [1].")
    checker.finish()
    [citation] = checker.citations
    assert (citation.start, citation.end, citation.text) == (40, 76, MARKETS)
