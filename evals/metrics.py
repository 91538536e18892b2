"""Pure evaluation metrics: no model, no store, no LLM judge."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from rag.chunking import inside_word
from rag.text import words

Span = tuple[int, int]


def normalise(text: str) -> str:
    """Folded words joined by single spaces: case, accents and punctuation do not count."""
    return " ".join(words(text))


def contains_fact(answer: str, fact: str) -> bool:
    """Whether the normalised ``fact`` appears in the normalised ``answer`` as whole words."""
    needle = normalise(fact)
    return bool(needle) and f" {needle} " in f" {normalise(answer)} "


def key_fact_hit(answer: str, references: Sequence[str]) -> bool:
    """Any reference answer contained in the answer text."""
    return any(contains_fact(answer, ref) for ref in references)


def key_fact_recall(answer: str, references: Sequence[str]) -> float:
    """Share of the reference answers contained in the answer text (1.0 without references)."""
    if not references:
        return 1.0
    return sum(contains_fact(answer, ref) for ref in references) / len(references)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style bag-of-words F1 over folded word tokens."""
    pred, ref = words(prediction), words(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_token_f1(prediction: str, references: Sequence[str]) -> float:
    return max((token_f1(prediction, ref) for ref in references), default=0.0)


def shares_ngram(answer: str, evidence: str, n: int = 5) -> bool:
    """Whether ``answer`` holds ``n`` consecutive evidence words (all of them if fewer)."""
    ev, ans = words(evidence), words(answer)
    if not ev:
        return False
    size = min(n, len(ev))
    grams = {tuple(ans[i : i + size]) for i in range(len(ans) - size + 1)}
    return any(tuple(ev[i : i + size]) in grams for i in range(len(ev) - size + 1))


def evidence_overlap(answer: str, evidence: Sequence[str], n: int = 5) -> bool:
    """The answer text overlaps at least one evidence sentence (a shared run of ``n`` words)."""
    return any(shares_ngram(answer, sentence, n) for sentence in evidence)


def find_spans(text: str, needle: str) -> list[Span]:
    """Every exact occurrence of ``needle`` in ``text`` as a character span."""
    spans: list[Span] = []
    if not needle:
        return spans
    start = text.find(needle)
    while start >= 0:
        spans.append((start, start + len(needle)))
        start = text.find(needle, start + 1)
    return spans


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def overlaps_any(span: Span, spans: Iterable[Span]) -> bool:
    return any(overlaps(span, other) for other in spans)


def cuts_a_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` starts or ends inside a word: a citation or closest passage
    must never do that."""
    return inside_word(text, start) or inside_word(text, end)


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((rank for rank, hit in enumerate(relevant, start=1) if hit), None)


def hit_at(relevant: Sequence[bool], k: int) -> float:
    return float(any(relevant[:k]))


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    rank = first_relevant_rank(relevant)
    return 1.0 / rank if rank else 0.0


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return None
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def balanced_accuracy(refusal_rate: float | None, false_refusal_rate: float | None) -> float | None:
    """Mean of the refusal rate on unanswerable and the answer rate on answerable questions."""
    if refusal_rate is None or false_refusal_rate is None:
        return None
    return (refusal_rate + (1.0 - false_refusal_rate)) / 2.0
