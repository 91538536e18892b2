"""Offline extractive answers: the passage sentences that best answer the question, cited."""

from __future__ import annotations

from dataclasses import dataclass

from rag.citations import Weight, coverage, make_citation, sentence_spans, span_text
from rag.models import Answer, Passage
from rag.text import terms

REFUSAL_TEXT = "The documents do not contain an answer to this question."


@dataclass(frozen=True)
class _Candidate:
    score: float
    passage: Passage
    start: int
    end: int


def confidence(question: str, passages: list[Passage], weight: Weight) -> float:
    """How likely the passages hold the answer (0..1): dense similarity and term coverage."""
    if not passages:
        return 0.0
    question_terms = set(terms(question))
    best_dense = max((p.dense_score or 0.0) for p in passages)
    best_cover = max(coverage(question_terms, p.chunk.text, weight) for p in passages[:3])
    return round(max(0.0, min(1.0, 0.5 * best_dense + 0.5 * best_cover)), 4)


def rank_sentences(question: str, passages: list[Passage], weight: Weight) -> list[_Candidate]:
    question_terms = set(terms(question))
    candidates = []
    for rank, passage in enumerate(passages):
        passage_bonus = 0.3 * (passage.dense_score or 0.0) - 0.02 * rank
        for start, end in sentence_spans(passage):
            text = span_text(passage, start, end)
            score = coverage(question_terms, text, weight) + passage_bonus
            candidates.append(_Candidate(score, passage, start, end))
    candidates.sort(key=lambda c: (-c.score, c.passage.chunk.source, c.start))
    return candidates


def answer_extractive(
    question: str,
    passages: list[Passage],
    weight: Weight,
    *,
    refusal_threshold: float,
    max_sentences: int = 2,
) -> Answer:
    """Compose an answer from whole sentences, each followed by its ``[n]`` marker."""
    score = confidence(question, passages, weight)
    if score < refusal_threshold or not passages:
        return Answer(question=question, text=REFUSAL_TEXT, refused=True, confidence=score)
    ranked = rank_sentences(question, passages, weight)
    chosen: list[_Candidate] = []
    seen: set[tuple[str, int, int]] = set()
    for candidate in ranked:
        key = (candidate.passage.chunk.source, candidate.start, candidate.end)
        if key in seen:  # overlapping chunks hold the same sentence twice
            continue
        if chosen and candidate.score < 0.75 * chosen[0].score:
            break
        seen.add(key)
        chosen.append(candidate)
        if len(chosen) == max_sentences:
            break
    # Keep document order when sentences come from the same source, for a readable answer.
    lead = chosen[0].passage.chunk.source
    chosen.sort(key=lambda c: (c.passage.chunk.source != lead, c.passage.chunk.source, c.start))
    citations = [
        make_citation(i, c.passage, c.start, c.end, c.score) for i, c in enumerate(chosen, start=1)
    ]
    text = " ".join(f"{citation.text} [{citation.index}]" for citation in citations)
    return Answer(question=question, text=text, citations=citations, confidence=score)
