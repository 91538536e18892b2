"""Offline extractive answers: the reader picks the passage sentences that answer the question.

Every sentence of the retrieved passages is scored by the reader (rag/reader.py, our own small
cross-encoder), seen with its document's title and the words before it, as in training. The best
sentence's calibrated probability is ``Answer.confidence``; below the refusal threshold (chosen on
the reader's validation split) the answer is a refusal that still shows the closest sentences,
marked as not an answer. A heading line is context, never an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.citations import make_citation, sentence_spans, span_text
from rag.models import Answer, Citation, Passage
from rag.reader import Reader
from rag.reader_input import reader_pair

REFUSAL_TEXT = "The documents do not contain an answer to this question."
# One reader call scores at most this many sentences, those of the best-ranked passages first.
MAX_READ = 16
# A further sentence joins the answer when the reader judges it an answer as well: its own
# probability clears the refusal threshold and this share of the best sentence's probability.
FURTHER_SENTENCE_SHARE = 0.9
# How many closest sentences (one per passage) a refusal shows as "not an answer".
CLOSEST = 3
# A line of at most this many words with no closing punctuation is a heading, not a sentence.
HEADING_WORDS = 12
_CLOSING = tuple(".!?…:;\"'”’")


@dataclass(frozen=True)
class Judged:
    """One sentence of a passage with the reader's verdict."""

    passage: Passage
    start: int
    end: int
    text: str
    logit: float
    probability: float


def is_heading(text: str, title: str = "") -> bool:
    """A title or section line: short, no closing punctuation (or the document's title)."""
    stripped = text.strip()
    if title and stripped == title:
        return True
    return len(stripped.split()) <= HEADING_WORDS and not stripped.endswith(_CLOSING)


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    start: int
    end: int
    text: str
    before: str


def candidate_sentences(passages: list[Passage]) -> list[_Sentence]:
    """The passages' sentences, best passage first, each once, headings left out.

    ``before`` is the previous sentence of the same passage (not a heading): the reader's context.
    """
    seen: set[tuple[str, int, int]] = set()
    out: list[_Sentence] = []
    for passage in passages:
        before = ""
        for start, end in sentence_spans(passage):
            text = span_text(passage, start, end)
            if is_heading(text, passage.chunk.title):
                before = ""
                continue
            key = (passage.chunk.source, start, end)
            if key not in seen:
                seen.add(key)
                out.append(_Sentence(passage, start, end, text, before))
            before = text
    return out[:MAX_READ]


def judge(
    question: str, passages: list[Passage], reader: Reader, dense_baseline: float | None = None
) -> list[Judged]:
    """Every candidate sentence with the reader's logit and probability, best first.

    ``dense_baseline`` is the corpus's (rag/calibration.py); None: the reader card's default."""
    sentences = candidate_sentences(passages)
    pairs = [
        reader_pair(question, s.text, title=s.passage.chunk.title, before=s.before)
        for s in sentences
    ]
    logits = reader.logits(pairs)
    dense = top_dense(passages)
    judged = [
        Judged(
            s.passage,
            s.start,
            s.end,
            s.text,
            float(x),
            reader.probability(float(x), dense, dense_baseline),
        )
        for s, x in zip(sentences, logits, strict=True)
    ]
    # Ties keep retrieval order (the sort is stable).
    judged.sort(key=lambda j: -j.logit)
    return judged


def top_dense(passages: list[Passage]) -> float:
    """The question's cosine similarity with its closest retrieved passage (a retrieval signal)."""
    return max((p.dense_score or 0.0 for p in passages), default=0.0)


def rerank(passages: list[Passage], judged: list[Judged]) -> list[Passage]:
    """The passages ordered by their best sentence's reader score (unjudged ones last)."""
    best: dict[str, float] = {}
    for j in judged:
        best.setdefault(j.passage.chunk.id, j.logit)
    return sorted(passages, key=lambda p: -best.get(p.chunk.id, float("-inf")))


def closest(judged: list[Judged], limit: int = CLOSEST) -> list[Citation]:
    """The best sentence of each of the best passages: shown with a refusal, as not an answer."""
    out: list[Citation] = []
    passages: set[str] = set()
    for j in judged:
        if j.passage.chunk.id in passages:
            continue
        passages.add(j.passage.chunk.id)
        out.append(make_citation(len(out) + 1, j.passage, j.start, j.end, j.probability, False))
        if len(out) == limit:
            break
    return out


def refusal(
    question: str, confidence: float = 0.0, nearest: list[Citation] | None = None
) -> Answer:
    """The answer given when the passages do not hold one: no citations, the closest passages."""
    return Answer(
        question=question,
        text=REFUSAL_TEXT,
        refused=True,
        confidence=round(confidence, 4),
        closest=list(nearest or []),
    )


def choose(judged: list[Judged], threshold: float, max_sentences: int) -> list[Judged]:
    """The best sentence, and others the reader also judges answers (up to ``max_sentences``)."""
    best = judged[0]
    floor = max(threshold, FURTHER_SENTENCE_SHARE * best.probability)
    further = [j for j in judged[1:] if j.probability >= floor]
    return [best, *further[: max_sentences - 1]]


def answer_extractive(
    question: str,
    passages: list[Passage],
    reader: Reader,
    *,
    refusal_threshold: float,
    max_sentences: int = 2,
    dense_baseline: float | None = None,
) -> Answer:
    """Compose an answer from whole sentences, each followed by its ``[n]`` marker, or refuse."""
    judged = judge(question, passages, reader, dense_baseline)
    if not judged:
        return refusal(question)
    score = judged[0].probability
    if score < refusal_threshold:
        return refusal(question, score, closest(judged))
    chosen = choose(judged, refusal_threshold, max_sentences)
    # Sentences of one document keep their order, for a readable answer.
    lead = chosen[0].passage.chunk.source
    chosen.sort(key=lambda j: (j.passage.chunk.source != lead, j.passage.chunk.source, j.start))
    citations = [
        make_citation(i, j.passage, j.start, j.end, j.probability)
        for i, j in enumerate(chosen, start=1)
    ]
    text = " ".join(f"{citation.text} [{citation.index}]" for citation in citations)
    return Answer(question=question, text=text, citations=citations, confidence=round(score, 4))
