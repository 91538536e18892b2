"""Sentence spans of passages as exact citations, and the scores that choose them."""

from __future__ import annotations

from collections.abc import Callable

from rag.models import Citation, Passage
from rag.text import terms

Weight = Callable[[str], float]


def coverage(question_terms: set[str], text: str, weight: Weight) -> float:
    """IDF-weighted share of the question's terms that ``text`` contains (0..1)."""
    if not question_terms:
        return 0.0
    found = question_terms & set(terms(text))
    total = sum(weight(t) for t in question_terms)
    return sum(weight(t) for t in found) / total if total else 0.0


def sentence_spans(passage: Passage) -> list[tuple[int, int]]:
    """Document offsets of the passage's sentences (the whole chunk if none were stored)."""
    chunk = passage.chunk
    if not chunk.sentences:
        return [(chunk.start, chunk.end)]
    return [(chunk.start + s, chunk.start + e) for s, e in chunk.sentences]


def span_text(passage: Passage, start: int, end: int) -> str:
    chunk = passage.chunk
    return chunk.text[start - chunk.start : end - chunk.start]


def best_sentence(claim: str, passage: Passage, weight: Weight) -> tuple[int, int, float]:
    """The sentence of ``passage`` that shares the most (weighted) terms with ``claim``."""
    claim_terms = set(terms(claim))
    scored = [
        (coverage(claim_terms, span_text(passage, s, e), weight), -s, s, e)
        for s, e in sentence_spans(passage)
    ]
    score, _, start, end = max(scored)
    return start, end, score


def make_citation(
    index: int, passage: Passage, start: int, end: int, score: float, verified: bool = True
) -> Citation:
    return Citation(
        index=index,
        source=passage.chunk.source,
        text=span_text(passage, start, end),
        start=start,
        end=end,
        score=round(score, 4),
        page=passage.chunk.page,
        verified=verified,
    )
