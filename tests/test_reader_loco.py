"""The leave-one-corpus-out arithmetic (train/loco_rules.py): thresholds, per-corpus figures, and a
rule that centres dense on each corpus's baseline carrying over where raw dense does not."""

from __future__ import annotations

import random

import numpy as np

from train.loco_rules import choose_threshold, judge, leave_one_out


def _row(corpus: str, kind: str, logit: float = 0.0, dense: float = 0.0) -> dict[str, object]:
    return {
        "corpus": corpus,
        "kind": kind,
        "logits": [logit, logit - 1],
        "other_passage_logit": logit - 2,
        "dense": dense,
        "coverage": 0.5,
    }


def test_each_corpus_keeps_its_false_refusals_under_the_bound() -> None:
    # Corpus a's answerable questions score 0.5-0.95, b's 0.2-0.65: b sets the threshold.
    rows = [_row("a", "answerable") for _ in range(10)] + [
        _row("b", "answerable") for _ in range(10)
    ]
    scores = np.array([0.5 + 0.05 * i for i in range(10)] + [0.2 + 0.05 * i for i in range(10)])
    # At most 15% of b's (one question, score 0.2) may be refused: the highest such threshold.
    assert choose_threshold(rows, scores, "each") == 0.25
    # Averaged at 10%: two of twenty may go, both b's.
    assert choose_threshold(rows, scores, "mean") == 0.3


def test_judge_splits_unanswerable_into_own_and_off_topic() -> None:
    rows = [_row("a", k) for k in ("answerable",) * 4 + ("unanswerable",) * 2 + ("off-topic",) * 2]
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.6, 0.1, 0.1])
    figures = judge(rows, scores, 0.5)
    assert figures == {
        "threshold": 0.5,
        "refused_unanswerable": 0.75,
        "refused_on_topic": 0.5,
        "refused_off_topic": 1.0,
        "false_refusals": 0.25,
        "balanced": 0.75,
        "auroc": 0.9375,
    }


def test_centring_dense_on_the_corpus_baseline_carries_over_where_raw_dense_does_not() -> None:
    """Three corpora whose dense similarities sit at different heights (as the bank shows): the
    same rule on raw dense refuses most answerable questions of the low corpus."""
    rng = random.Random(3)
    rows = []
    for corpus, shift in (("high", 0.1), ("mid", 0.0), ("low", -0.12)):
        for _ in range(60):
            rows.append(
                _row(corpus, "answerable", rng.gauss(0.5, 1), shift + rng.gauss(0.45, 0.04))
            )
            rows.append(_row(corpus, "off-topic", rng.gauss(-0.5, 1), shift + rng.gauss(0.3, 0.04)))
        for _ in range(48):
            rows.append(_row(corpus, "bank", rng.gauss(-0.5, 1), shift + rng.gauss(0.3, 0.04)))
    raw = leave_one_out(rows, ("logit", "dense"))["low"]
    centred = leave_one_out(rows, ("logit", "dense_n"))["low"]
    assert raw["false_refusals"] > 0.3
    assert centred["false_refusals"] < 0.2
    assert centred["balanced"] >= raw["balanced"]
