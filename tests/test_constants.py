"""The answer path's hand-set constants are the ones measured on validation data (issue 19):
rag/reader_model/CARD.md's tables (written by ``python -m train constants``) name the values the
code ships, and the script's scoring and choice rule do what the card says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import answering, followup
from rag.reader import MODEL_DIR
from train import constants
from train.loco import Question

CARD = (MODEL_DIR / "CARD.md").read_text(encoding="utf-8")


def test_card_chose_the_shipped_further_sentence_share() -> None:
    section = CARD.split(constants.CARD_HEADING)[1]
    chosen = re.findall(r"^\| ([\d.]+) \(chosen\) \|", section, re.M)
    assert chosen == [str(answering.FURTHER_SENTENCE_SHARE)], (
        "FURTHER_SENTENCE_SHARE differs from the value validation chose: run "
        "python -m train constants"
    )


def test_card_measured_the_shipped_ellipsis_words() -> None:
    section = CARD.split(constants.CARD_HEADING)[1]
    assert f"ELLIPSIS_WORDS = {followup.ELLIPSIS_WORDS} is a product choice" in section


@dataclass(frozen=True)
class Cited:
    source: str
    text: str


def test_citations_are_scored_against_the_gold_sentences() -> None:
    question = Question(
        "x", "answerable", "q", "a.txt", ["The port opens at six. It closes at nine. Boats dock."]
    )
    cited = [
        Cited("a.txt", "It closes at nine."),
        Cited("a.txt", "Fees are due."),
        Cited("b.txt", "The port opens at six."),  # right words, wrong document
    ]
    # Three gold sentences, at most MAX_SENTENCES (2) can be asked of an answer.
    assert constants.score_citations(question, cited) == {
        "cited": 3,
        "right": 1,
        "covered": 1,
        "gold": 2,
    }


def _rows(f1_by_share: dict[float, float]) -> list[dict[str, object]]:
    """One corpus, one answerable question per share whose F1 is the given value (P = R)."""
    rows = []
    for _ in range(100):
        rows.append({"corpus": "clapnq", "kind": "answerable", "shares": {}})
    for share in constants.SHARES:
        right = round(f1_by_share.get(share, 0.5) * 100)
        for i, row in enumerate(rows):
            ok = int(i < right)
            row["shares"][str(share)] = {  # type: ignore[index]
                "refused": False,
                "cited": 1,
                "right": ok,
                "covered": ok,
                "gold": 1,
            }
    return rows


def test_a_tie_keeps_the_code_value_and_a_gain_moves_it() -> None:
    shipped = answering.FURTHER_SENTENCE_SHARE
    other = next(s for s in constants.SHARES if s != shipped)
    _, chosen = constants.share_table(_rows({shipped: 0.60, other: 0.60}))
    assert chosen == shipped
    _, chosen = constants.share_table(_rows({shipped: 0.60, other: 0.62}))
    assert chosen == other
