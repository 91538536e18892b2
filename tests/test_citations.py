"""rag/citations.py on its own (fast: no model, no server): the sentence a claim is matched to,
the citation made of it, and the check of a reply's [n] markers as the reply streams in."""

from __future__ import annotations

import pytest

from rag.citations import (
    CitationChecker,
    _prefix_at_end,
    best_sentence,
    coverage,
    make_citation,
    sentence_spans,
    span_text,
)
from rag.models import Chunk, Citation, Passage
from rag.text import terms

BRIDGE = "The bridge opened in 1931. It is made of zorbulax stone."
MARKETS = "Markets open on Tuesdays in Hennick."
SENTINEL = "NOT_IN_DOCUMENTS"


def one(term: str) -> float:
    return 1.0


def passages() -> list[Passage]:
    bridge = Chunk(
        id="a1",
        source="a.txt",
        start=10,
        end=10 + len(BRIDGE),
        text=BRIDGE,
        sentences=((0, 26), (27, len(BRIDGE))),
    )
    markets = Chunk(id="b1", source="b.txt", start=0, end=len(MARKETS), text=MARKETS, page=3)
    return [Passage(bridge, 0.9), Passage(markets, 0.5)]


def checked(reply: str, pieces: int = 1, **options: object) -> tuple[str, CitationChecker]:
    """The text ``feed`` and ``finish`` returned for ``reply`` fed in ``pieces``-character
    deltas, and the checker."""
    checker = CitationChecker("When did the bridge open?", passages(), one, **options)  # type: ignore[arg-type]
    shown = [checker.feed(reply[i : i + pieces]) for i in range(0, len(reply), pieces)]
    shown.append(checker.finish())
    return "".join(shown), checker


def test_coverage_is_the_weighted_share_of_the_terms_found() -> None:
    question = set(terms("When did the bridge open in 1931?"))  # bridg, open, 1931
    weight = {"bridg": 2.0, "open": 1.0, "1931": 1.0}.__getitem__
    assert coverage(question, "The bridge is long.", weight) == 0.5
    assert coverage(question, "It opened in 1931.", weight) == 0.5
    assert coverage(question, "The bridges opened.", weight) == 0.75
    assert coverage(question, "Nothing here.", weight) == 0.0
    assert coverage(set(), "The bridge.", weight) == 0.0
    assert coverage(question, "The bridge.", lambda term: 0.0) == 0.0


def test_sentence_spans_are_document_offsets() -> None:
    bridge, markets = passages()
    assert sentence_spans(bridge) == [(10, 36), (37, 66)]
    assert sentence_spans(markets) == [(0, 36)]  # no sentences stored: the whole chunk
    assert span_text(bridge, 37, 66) == "It is made of zorbulax stone."
    assert span_text(bridge, 14, 20) == "bridge"


def test_the_best_sentence_shares_most_terms_and_the_first_wins_a_tie() -> None:
    bridge, _ = passages()
    assert best_sentence("made of zorbulax", bridge, one) == (37, 66, 1.0)
    assert best_sentence("the bridge of zorbulax", bridge, one) == (10, 36, 0.5)
    assert best_sentence("nothing alike", bridge, one) == (10, 36, 0.0)


def test_a_citation_is_the_exact_span_with_its_place_and_rounded_score() -> None:
    bridge, markets = passages()
    assert make_citation(2, bridge, 37, 66, 0.123456) == Citation(
        2, "a.txt", "It is made of zorbulax stone.", 37, 66, 0.1235
    )
    assert make_citation(1, markets, 0, 7, 0.5, verified=False) == Citation(
        1, "b.txt", "Markets", 0, 7, 0.5, page=3, verified=False
    )


REPLY = (
    "The bridge opened in 1931 [1]. Markets open on Tuesdays [2][2]. It is blue [7]. "
    "Zorbulax stone [1, 2]. Done."
)
SHOWN = (
    "The bridge opened in 1931 [1]. Markets open on Tuesdays [2]. It is blue. "
    "Zorbulax stone [3][4]. Done."
)


@pytest.mark.parametrize("pieces", [1, 2, 7, len(REPLY)])
def test_a_reply_is_renumbered_checked_and_streamed_as_it_ends(pieces: int) -> None:
    shown, checker = checked(REPLY, pieces)
    assert shown == checker.text == SHOWN
    answer = checker.answer(0.8)
    bridge, markets = passages()
    assert answer.citations == [
        make_citation(1, bridge, 10, 36, 1.0),
        make_citation(2, markets, 0, 36, 1.0),
        make_citation(3, bridge, 37, 66, 1.0),
        make_citation(4, markets, 0, 36, 0.0, verified=False),  # same span, unverified: its own
    ]
    # Five claims, three supported: "It is blue" (its marker dropped) and "Done." are not.
    assert answer.unsupported == ["It is blue", "Done."]
    assert answer.confidence == 0.48
    assert (answer.question, answer.text, answer.refused) == (
        "When did the bridge open?",
        SHOWN,
        False,
    )


def test_the_confidence_is_rounded_to_four_places() -> None:
    _, checker = checked("The bridge opened in 1931 [1]. Markets open [2]. It is blue.")
    assert checker.answer(1.0).confidence == 0.6667


def test_markers_are_held_back_until_they_are_complete() -> None:
    checker = CitationChecker("Q?", passages(), one)
    assert checker.feed("The bridge opened in 1931 [") == "The bridge opened in 1931"
    assert checker.feed("1") == ""
    assert checker.feed("]") == " [1]"
    assert checker.feed(" and [ 2 , 1 ] ok") == " and [2] ok"  # [1] again after [2]: one run
    assert checker.feed(" [x] [") == " [x]"
    assert checker.feed("12345678901234567890123456789012") == " [12345678901234567890123456789012"
    assert checker.finish() == ""


def test_an_unfinished_marker_at_the_end_is_text() -> None:
    shown, checker = checked("The bridge opened [1")
    assert shown == "The bridge opened [1"
    assert checker.citations == []


def test_a_reply_that_opens_with_a_marker_is_matched_against_the_question() -> None:
    shown, checker = checked("[1] opened.", pieces=3)
    assert shown == "[1] opened."
    assert checker.citations == [make_citation(1, passages()[0], 10, 36, 1.0)]
    # The empty claim before the marker is supported; "opened." is its own uncited claim.
    assert checker.answer(1.0).unsupported == ["opened."]
    assert checker.answer(1.0).confidence == 0.5
    # Only markers that point to no passage: no claim, no citation, no leading space.
    shown, checker = checked("[0][3] The bridge opened in 1931.")
    assert shown == "The bridge opened in 1931."
    assert checker.citations == [] and checker.answer(1.0).confidence == 0.0


def test_consecutive_markers_share_the_claim_before_them() -> None:
    shown, checker = checked("Zorbulax stone [2] [1]. Markets open [2]")
    assert shown == "Zorbulax stone [1] [2]. Markets open [3]"
    answer = checker.answer(1.0)
    assert [c.verified for c in answer.citations] == [False, True, True]
    assert answer.unsupported == [] and answer.confidence == 1.0


def test_a_marker_to_no_passage_does_not_drop_the_next_number() -> None:
    shown, checker = checked("Markets open [3, 2].")
    assert shown == "Markets open [1]." and checker.citations[0].source == "b.txt"


def test_an_empty_reply() -> None:
    shown, checker = checked("")
    assert shown == "" and checker.answer(0.9).confidence == 0.0
    assert checker.answer(0.9).unsupported == []


@pytest.mark.parametrize("pieces", [1, 3, 100])
def test_the_sentinel_is_left_out_and_recorded(pieces: int) -> None:
    shown, checker = checked(f" {SENTINEL}.\n", pieces, sentinel=SENTINEL)
    assert shown == checker.text == "" and checker.sentinel_seen  # nothing streams: a refusal
    shown, checker = checked(
        f"The bridge opened in 1931 [1]. {SENTINEL}", pieces, sentinel=SENTINEL
    )
    assert shown == "The bridge opened in 1931 [1]." and checker.sentinel_seen
    shown, checker = checked(f"NOT_IN is not {SENTINEL[:6]}", pieces, sentinel=SENTINEL)
    assert shown == "NOT_IN is not NOT_IN" and checker.sentinel_seen is False


def test_without_a_sentinel_nothing_is_held_back() -> None:
    checker = CitationChecker("Q?", passages(), one)
    assert checker.feed("Markets NOT_IN") == "Markets NOT_IN"
    assert CitationChecker("Q?", passages(), one).feed("Sax XX") == "Sax XX"
    # The text after a sentinel streams at once, not at the end.
    checker = CitationChecker("Q?", passages(), one, sentinel=SENTINEL)
    assert checker.feed(f"Markets open. {SENTINEL} Done.") == "Markets open.  Done."
    checker = CitationChecker("Q?", passages(), one, sentinel=SENTINEL)
    assert checker.feed("Markets NOT_IN") == "Markets"
    assert checker.feed("_X") == " NOT_IN_X"


def test_a_custom_support_decides_the_span_and_the_verdict() -> None:
    calls: list[tuple[str, str]] = []

    def support(claim: str, passage: Passage) -> tuple[int, int, float, bool]:
        calls.append((claim, passage.chunk.source))
        return 0, 7, 0.25, True

    shown, checker = checked("[2] Markets [2]. [2]", support=support)
    assert shown == "[1] Markets [1]."  # the same span again after no words: not repeated
    assert calls == [
        ("When did the bridge open?", "b.txt"),
        ("Markets", "b.txt"),
        ("Markets", "b.txt"),
    ]
    assert checker.citations == [make_citation(1, passages()[1], 0, 7, 0.25)]


def test_prefix_at_end() -> None:
    assert _prefix_at_end("the answer is NOT_IN", SENTINEL) == 6
    assert _prefix_at_end("N", SENTINEL) == 1
    assert _prefix_at_end("NOT_IN_DOCUMENTS", SENTINEL) == 0  # a whole word is no prefix
    assert _prefix_at_end("NOT_IN_DOCUMENT", SENTINEL) == 15
    assert _prefix_at_end("xNOT_IN_DOCUMENT", SENTINEL) == 15
    assert _prefix_at_end("the answer", SENTINEL) == 0
    assert _prefix_at_end("the answer", "") == 0
