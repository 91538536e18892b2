"""train/ranking.py: the retrieval prior is chosen on validation rows, by the mean over corpora."""

from __future__ import annotations

from typing import Any

import pytest

from train.ranking import GRID, best_is_right, choose, share_right


def row(corpus: str, candidates: list[list[Any]], kind: str = "answerable") -> dict[str, Any]:
    return {"corpus": corpus, "kind": kind, "candidates": candidates}


# [logit, passage rank, right, text, title]: the right sentence in the first passage, 1.0 behind.
BEHIND = [[-1.0, 0, 1, "right", ""], [0.0, 1, 0, "wrong", ""]]
# The right sentence in the second passage, ahead by 3.0: any prior under 6.0 keeps it first.
AHEAD = [[-3.0, 0, 0, "wrong", ""], [0.0, 1, 1, "right", ""]]


def test_a_prior_lifts_the_first_passages_sentence_only_past_a_smaller_lead() -> None:
    assert not best_is_right(BEHIND, 0.0)
    assert not best_is_right(BEHIND, 1.75)
    assert best_is_right(BEHIND, 2.0)  # -1.0 + 2.0 == 0.0 + 2.0 / 2: a tie keeps retrieval order
    assert not best_is_right(list(reversed(BEHIND)), 2.0)
    assert best_is_right(AHEAD, 4.0)


def test_unanswerable_rows_and_rows_without_candidates_are_not_counted() -> None:
    rows = [row("a", BEHIND), row("a", AHEAD, kind="unanswerable"), row("a", [])]
    assert share_right(rows, 0.0) == 0.0
    assert share_right(rows, 4.0) == 1.0


def test_the_chosen_prior_is_the_best_mean_over_corpora_and_the_smallest_of_a_tie() -> None:
    # Corpus a needs a prior of 2.0; corpus b loses its question from 6.0 up (not on the grid).
    by_corpus = {"a": [row("a", BEHIND)], "b": [row("b", AHEAD)]}
    assert choose(by_corpus) == 2.0
    # Without corpus a, nothing gains: the smallest value, no prior.
    assert choose({"b": by_corpus["b"]}) == GRID[0] == 0.0


# train/ranking_features.py: a learned ranker over lexical features, judged left out per corpus.


def test_features_of_a_candidate_are_its_shares_of_the_question() -> None:
    from train.ranking_features import features

    got = features(
        "How do I pause the worker?",
        [[1.5, 0, 0, "Workers pause on demand.", "Pause"], [-2.0, 0, 1, "Run it.", "Other"]],
    )
    # terms: how, pause, worker ("do", "I", "the" are stop words): 2 of 3 in the first sentence.
    assert got[0].tolist() == [1.5, 1.0, 2 / 3, 1 / 3, 1.0, pytest.approx(1.609, abs=1e-3)]
    assert got[1, :5].tolist() == [-2.0, 1.0, 0.0, 0.0, 0.0]  # same passage: not its first


def test_a_learned_ranker_finds_the_feature_that_separates_and_is_judged_left_out() -> None:
    from train.ranking_features import fit, questions, report, share_right, share_shipped

    def asked(corpus: str, n: int) -> list[dict[str, Any]]:
        # The right sentence holds the question's term and the reader scores it lower.
        cands = [[0.0, 0, 0, "nothing shared", "t"], [-0.5, 0, 1, f"alpha{n} here", "t"]]
        return [dict(corpus=corpus, kind="answerable", question=f"alpha{n}?", candidates=cands)]

    rows = [r for c in ("a", "b", "c") for n in range(4) for r in asked(c, n)]
    data = questions(
        [*rows, {"corpus": "a", "kind": "unanswerable", "candidates": [[0, 0, 0, "x", ""]]}]
    )
    assert len(data) == 12
    assert share_shipped(data) == 0.0
    weights = fit(data, (0, 2))
    assert weights[1] > 0 and share_right(data, (0, 2), weights) == 1.0
    table = report(rows)
    assert "| a | 4 | 0.000 | 1.000 |" in table and "| mean (held out) | 12 | 0.000 |" in table


@pytest.mark.slow
def test_the_cosine_features_are_the_embedders_question_against_each_sentence() -> None:
    from train.ranking_features import questions, with_cosines

    rows = [
        dict(
            corpus="a",
            kind="answerable",
            question="How do I set the port?",
            candidates=[
                [0.0, 0, 0, "How do I set the port?", ""],
                [0.0, 0, 1, "Bananas are yellow.", "Fruit"],
            ],
        )
    ]
    (got,) = with_cosines(questions(rows), rows)
    assert got.features.shape == (2, 8)
    assert got.features[0, 6] == pytest.approx(1.0, abs=1e-5)  # the question itself
    assert got.features[0, 7] == pytest.approx(1.0, abs=1e-5)  # no section path: the same text
    assert got.features[1, 6] < 0.3 and got.features[1, 7] != got.features[1, 6]
