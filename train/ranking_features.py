"""Would lexical features beside the reader's logit pick the answer sentence more often?

On the manual validation sets most misses are the reader ranking another sentence of the right
section first. This fits a linear ranker over features of each candidate (the reader's logit,
the retrieval prior ``1 / (1 + rank)``, the share of the question's terms in the sentence and in
its section path, whether it is its passage's first candidate, its length) by pairwise logistic
regression (right against wrong candidates of one question, corpora weighted equally), on the
rows of a bench/reader_validation.py run (validation corpora only, never an eval set). Each
corpus is judged with the ranker fitted on the other four, against the shipped
``logit + RANK_PRIOR / (1 + rank)``. ``--dense`` adds the embedder's cosine between the question
and each sentence, alone and with its section path (a minute of embedding here). Measured, not
shipped: rag/reader_model/CARD.md.

    python -m train.ranking_features NAME [--dense]
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.answering import ranked_score
from rag.text import terms

FEATURES = (
    "logit",
    "prior",
    "sentence terms",
    "title terms",
    "first",
    "length",
    "sentence cosine",
    "titled cosine",
)
VARIANTS: dict[str, tuple[int, ...]] = {
    "all six": (0, 1, 2, 3, 4, 5),
    "no title, no first": (0, 1, 2, 5),
    "logit, prior, sentence terms": (0, 1, 2),
    "logit, prior (refitted)": (0, 1),
}
DENSE_VARIANTS: dict[str, tuple[int, ...]] = {
    "logit, prior, sentence cosine": (0, 1, 6),
    "logit, prior, titled cosine": (0, 1, 7),
    "prior, sentence cosine": (1, 6),
}


@dataclass(frozen=True)
class Question:
    corpus: str
    features: np.ndarray  # one row per candidate, FEATURES' columns
    right: np.ndarray  # 1 for an answer sentence
    ranks: tuple[int, ...]


def features(question: str, candidates: Sequence[Sequence[Any]]) -> np.ndarray:
    """FEATURES for each ``[logit, passage rank, right, text, title]`` candidate."""
    asked = set(terms(question))
    rows, ranks_seen = [], set()
    for logit, rank, _right, text, title in candidates:
        first = rank not in ranks_seen
        ranks_seen.add(rank)
        rows.append(
            [
                float(logit),
                1 / (1 + rank),
                len(asked & set(terms(text))) / max(len(asked), 1),
                len(asked & set(terms(title))) / max(len(asked), 1),
                float(first),
                math.log1p(len(text.split())),
            ]
        )
    return np.array(rows, dtype=float)


def questions(rows: Sequence[dict[str, Any]]) -> list[Question]:
    """Answerable rows with at least one candidate (as train/ranking.py counts them)."""
    out = []
    for row in rows:
        if row["kind"] != "answerable" or not row["candidates"]:
            continue
        candidates = row["candidates"]
        out.append(
            Question(
                row["corpus"],
                features(row["question"], candidates),
                np.array([int(c[2]) for c in candidates]),
                tuple(int(c[1]) for c in candidates),
            )
        )
    return out


def with_cosines(data: list[Question], rows: Sequence[dict[str, Any]]) -> list[Question]:
    """``data`` with the two cosine columns: the embedder's question vector against each
    sentence's, and against the sentence after its section path (as chunks are embedded)."""
    from dataclasses import replace

    from rag.embeddings import Embedder

    rows = [r for r in rows if r["kind"] == "answerable" and r["candidates"]]
    embedder = Embedder()
    asked = embedder.embed_documents([r["question"] for r in rows])
    out = []
    for q, row, vector in zip(data, rows, asked, strict=True):
        texts = [c[3] for c in row["candidates"]]
        titled = [f"{c[4]} > {c[3]}" if c[4] else c[3] for c in row["candidates"]]
        cosines = [embedder.embed_documents(t) @ vector for t in (texts, titled)]
        out.append(replace(q, features=np.hstack([q.features, np.stack(cosines, axis=1)])))
    return out


def fit(train: Sequence[Question], columns: tuple[int, ...]) -> np.ndarray:
    """Weights of a pairwise logistic ranker (no intercept: only differences count)."""
    from sklearn.linear_model import LogisticRegression

    per_corpus: dict[str, int] = {}
    for q in train:
        per_corpus[q.corpus] = per_corpus.get(q.corpus, 0) + 1
    diffs, labels, weights = [], [], []
    cols = list(columns)
    for q in train:
        right, wrong = np.flatnonzero(q.right == 1), np.flatnonzero(q.right == 0)
        for r in right:
            for w in wrong:
                d = q.features[r, cols] - q.features[w, cols]
                weight = 1 / (len(right) * len(wrong) * per_corpus[q.corpus])
                diffs += [d, -d]
                labels += [1, 0]
                weights += [weight, weight]
    if not diffs:
        raise ValueError("no question with both a right and a wrong candidate to fit on")
    model = LogisticRegression(fit_intercept=False, max_iter=1000)
    scale = np.array(weights) * len(weights)
    model.fit(np.array(diffs), np.array(labels), sample_weight=scale)
    return np.asarray(model.coef_[0], dtype=float)


def share_right(test: Sequence[Question], columns: tuple[int, ...], weights: np.ndarray) -> float:
    """Share of ``test`` whose best-scored candidate is right (ties: the earlier candidate)."""
    hits = [q.right[int(np.argmax(q.features[:, list(columns)] @ weights))] for q in test]
    return float(np.mean(hits)) if hits else 0.0


def share_shipped(test: Sequence[Question]) -> float:
    """The same share under rag/answering.py's ``ranked_score``."""
    hits = []
    for q in test:
        scores = [ranked_score(x, rank) for x, rank in zip(q.features[:, 0], q.ranks, strict=True)]
        hits.append(q.right[int(np.argmax(scores))])
    return float(np.mean(hits)) if hits else 0.0


def report(rows: Sequence[dict[str, Any]], dense: bool = False) -> str:
    data = questions(rows)
    variants = dict(VARIANTS)
    if dense:
        data = with_cosines(data, rows)
        variants.update(DENSE_VARIANTS)
    names = sorted({q.corpus for q in data})
    head = ["corpus", "questions", "shipped", *variants]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    means: dict[str, list[float]] = {name: [] for name in ("shipped", *variants)}
    for held in names:
        test = [q for q in data if q.corpus == held]
        train = [q for q in data if q.corpus != held]
        cells = [share_shipped(test)]
        for columns in variants.values():
            cells.append(share_right(test, columns, fit(train, columns)))
        for name, value in zip(means, cells, strict=True):
            means[name].append(value)
        lines.append(f"| {held} | {len(test)} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    mean_cells = " | ".join(f"{statistics.mean(v):.3f}" for v in means.values())
    lines.append(f"| mean (held out) | {len(data)} | {mean_cells} |")
    lines.append("\nweights fitted on all corpora:")
    for name, columns in variants.items():
        weights = fit(data, columns)
        shown = ", ".join(f"{FEATURES[c]} {w:.3f}" for c, w in zip(columns, weights, strict=True))
        lines.append(f"- {name}: {shown}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    from bench.reader_validation import load

    names = [a for a in argv if a != "--dense"]
    if len(names) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(report(load(names[0]), dense="--dense" in argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
