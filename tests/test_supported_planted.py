"""Only supported claims stay in a generated answer (rag/supported.py): a claim whose markers
follow its full stop keeps its verified one, a kept claim gets back the full stop its dropped
neighbour took, the markers left are renumbered from 1, and markers without words are no answer.

Tests written for deliberate bugs a review planted in rag/supported.py that the suite let
through."""

from __future__ import annotations

from rag.models import Citation
from rag.supported import keep_supported


def cite(index: int, verified: bool) -> Citation:
    return Citation(index, "pump.md", f"passage {index}", 0, 9, 0.5, verified=verified)


def test_markers_after_the_full_stop_keep_the_claim_when_one_is_verified() -> None:
    citations = [cite(1, True), cite(2, False)]
    kept = keep_supported("The valve opens at 4 bar [1]. [2]", citations)
    assert kept == ("The valve opens at 4 bar [1]. [2]", citations)


def test_a_kept_claim_ends_with_the_full_stop_of_the_sentence_it_was_cut_from() -> None:
    kept = keep_supported(
        "The valve opens at 4 bar [1] and closes at 2 bar [2].", [cite(1, True), cite(2, False)]
    )
    assert kept == ("The valve opens at 4 bar [1].", [cite(1, True)])


def test_the_markers_left_are_renumbered_from_one_with_their_citations() -> None:
    kept = keep_supported(
        "The valve closes at 2 bar [1]. The valve opens at 4 bar [2]. It is tested yearly [3].",
        [cite(1, False), cite(2, True), cite(3, True)],
    )
    assert kept is not None
    text, citations = kept
    assert text == "The valve opens at 4 bar [1]. It is tested yearly [2]."
    assert [(c.index, c.text) for c in citations] == [(1, "passage 2"), (2, "passage 3")]


def test_a_verified_marker_without_words_is_no_answer() -> None:
    citations = [cite(1, True), cite(2, False)]
    assert keep_supported("[1] The valve opens at 4 bar [2].", citations) is None
