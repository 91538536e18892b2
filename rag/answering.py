"""Offline extractive answers: the passage sentences that best answer the question, cited.

Whether to answer at all is decided by a small fixed logistic model over cheap features of the
retrieved passages (``refusal_features``); its output is ``Answer.confidence``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from rag.citations import Weight, make_citation, sentence_spans, span_text
from rag.models import Answer, Passage
from rag.text import matched_terms, terms, words

REFUSAL_TEXT = "The documents do not contain an answer to this question."

# The refusal model: confidence = sigmoid(intercept + sum(coefficient * feature)).
# Fitted offline by L2-regularised logistic regression on ClapNQ and the seed set together
# (hybrid retrieval, default settings); 10-fold cross-validated AUROC 0.80 on ClapNQ and 0.87 on
# the seeds (fitted on ClapNQ alone it scores 0.87 on the unseen seeds). The default
# refusal_threshold (rag/config.py) was then chosen on both sets. Refit after changing a feature,
# the chunking or the retrieval with
#   .venv/bin/python -m evals.fit_refusal
# which prints the constants to paste here (see evals/README.md).
REFUSAL_COEFFICIENTS = {"dense": 3.48, "coverage": 1.28, "missing": -1.01, "type_missing": -0.79}
REFUSAL_INTERCEPT = -1.83
# Sentence choice: a sentence joins the answer when its score is at least this share of the best.
SECOND_SENTENCE_RATIO = 0.75
# Sentence score = question-term coverage + PASSAGE_PRIOR * the passage's dense similarity.
PASSAGE_PRIOR = 0.3

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# What the answer sentence must hold when the question asks for a year, a date or a quantity.
_YEAR = re.compile(r"\b\d{4}s?\b|\bcentury\b", re.IGNORECASE)
_DATE = re.compile(rf"\b\d{{4}}\b|\b({_MONTHS})\b|\b\d{{1,2}}/\d{{1,2}}", re.IGNORECASE)
_NUMBER = re.compile(
    rf"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    rf"fifty|hundred|thousand|million|billion|dozen|century|decade|{_MONTHS})\b",
    re.IGNORECASE,
)
_ASKS = (
    ("year", re.compile(r"\b(what|which|in what) year\b")),
    ("date", re.compile(r"\b(what|which) (date|day|month)\b|\bexact date\b")),
    ("number", re.compile(r"\bhow (many|much|long|old|far|big|tall|often)\b|\bwhen\b")),
    ("name", re.compile(r"\b(who|whom|whose)\b")),
)
_MONTH_NAMES = frozenset(_MONTHS.split("|"))
_TYPE_PATTERNS = {"year": _YEAR, "date": _DATE, "number": _NUMBER}
# Words that frame a question rather than name its content ("according to the article, what
# kind of ..."): the refusal features and sentence scores ignore them.
QUESTION_FRAME = frozenset(
    terms(
        "according article text document passage mention mentioned say says said kind sort type "
        "tell explain describe name give list"
    )
)
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)


@dataclass(frozen=True)
class _Candidate:
    score: float
    passage: Passage
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class RefusalFeatures:
    """What the refusal model looks at, each cheap to compute from the retrieved passages."""

    # Cosine similarity of the question and its best passage (MiniLM embeddings).
    dense: float
    # IDF-weighted share of the question's terms found in the best of the top 3 passages.
    coverage: float
    # IDF (scaled to 0..1) of the rarest question term that no retrieved passage contains.
    missing: float
    # 1 when the question asks for a year, a date, a number (when, how many) or a name (who) and
    # the answer sentences hold none; else 0.
    type_missing: float

    def logit(self) -> float:
        """The model's log-odds that the passages answer the question."""
        total = REFUSAL_INTERCEPT
        for f in fields(self):
            total += REFUSAL_COEFFICIENTS[f.name] * float(getattr(self, f.name))
        return total


def expected_answer_type(question: str) -> str | None:
    """'year', 'date', 'number' (when, how many) or 'name' (who) when the question asks one."""
    text = " ".join(words(question))
    return next((kind for kind, pattern in _ASKS if pattern.search(text)), None)


def has_answer_type(kind: str | None, question: str, text: str) -> bool:
    """Whether ``text`` holds what the question asks for: a year, date, number, or a new name."""
    if kind in _TYPE_PATTERNS:
        return bool(_TYPE_PATTERNS[kind].search(text))
    if kind == "name":
        asked = set(words(question))
        return any(
            m.group(0)[0].isupper()
            and not _starts_sentence(text, m.start())
            and not set(words(m.group(0))) <= asked | _MONTH_NAMES
            for m in _CAPITALISED.finditer(text)
        )
    return True


@lru_cache(maxsize=8192)
def _term_set(text: str) -> frozenset[str]:
    """The terms of a passage or sentence; hot passages come back query after query."""
    return frozenset(terms(text))


def content_terms(question: str) -> set[str]:
    """The question's stemmed terms without stop words and question-framing words."""
    return set(terms(question)) - QUESTION_FRAME


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\n\"'“‘(")
    return not before or before[-1] in ".!?:;"


def _coverage(question_terms: set[str], text_terms: set[str], weight: Weight) -> float:
    """IDF-weighted share of the question's terms in the text, one typo allowed per term."""
    return _weighted_share(question_terms, matched_terms(question_terms, text_terms), weight)


def _weighted_share(question_terms: set[str], found: set[str], weight: Weight) -> float:
    total = sum(weight(t) for t in question_terms)
    return sum(weight(t) for t in found) / total if total else 0.0


def rank_sentences(question: str, passages: list[Passage], weight: Weight) -> list[_Candidate]:
    """Every sentence of the passages, best first: term coverage plus a passage prior.

    A question term weighs its corpus IDF times its IDF among these sentences, so that a term
    every candidate sentence shares (the document's topic) does not pick the sentence.
    """
    question_terms = content_terms(question)
    rows = []
    for rank, passage in enumerate(passages):
        passage_bonus = PASSAGE_PRIOR * (passage.dense_score or 0.0) - 0.02 * rank
        for start, end in sentence_spans(passage):
            text = span_text(passage, start, end)
            found = frozenset(matched_terms(question_terms, set(_term_set(text))))
            rows.append((passage_bonus, passage, start, end, text, found))
    unique = {(p.chunk.source, start): found for _, p, start, _, _, found in rows}
    n = len(unique)
    spread = {t: sum(t in found for found in unique.values()) for t in question_terms}

    def local_weight(term: str) -> float:
        return weight(term) * math.log(1.0 + (n - spread[term] + 0.5) / (spread[term] + 0.5))

    candidates = [
        _Candidate(
            _weighted_share(question_terms, set(found), local_weight) + bonus,
            passage,
            start,
            end,
            text,
        )
        for bonus, passage, start, end, text, found in rows
    ]
    candidates.sort(key=lambda c: (-c.score, c.passage.chunk.source, c.start))
    return candidates


def choose_sentences(ranked: list[_Candidate], max_sentences: int) -> list[_Candidate]:
    """The best sentence, and the next ones while they score close to it (no duplicates)."""
    chosen: list[_Candidate] = []
    seen: set[tuple[str, int, int]] = set()
    for candidate in ranked:
        key = (candidate.passage.chunk.source, candidate.start, candidate.end)
        if key in seen:  # overlapping chunks hold the same sentence twice
            continue
        if chosen and candidate.score < SECOND_SENTENCE_RATIO * chosen[0].score:
            break
        seen.add(key)
        chosen.append(candidate)
        if len(chosen) == max_sentences:
            break
    return chosen


def refusal_features(
    question: str, passages: list[Passage], weight: Weight, answer_text: str | None = None
) -> RefusalFeatures:
    """The refusal model's inputs; ``answer_text`` defaults to the two best sentences."""
    question_terms = content_terms(question)
    passage_terms = [set(_term_set(p.chunk.text)) for p in passages]
    unseen = weight("") or 1.0  # the weight of a term no document contains: the largest
    found_anywhere = matched_terms(question_terms, set().union(*passage_terms))
    missing = max((weight(t) / unseen for t in question_terms - found_anywhere), default=0.0)
    if answer_text is None:
        chosen = choose_sentences(rank_sentences(question, passages, weight), 2)
        answer_text = " ".join(c.text for c in chosen)
    kind = expected_answer_type(question)
    return RefusalFeatures(
        dense=max((p.dense_score or 0.0) for p in passages),
        coverage=max(_coverage(question_terms, t, weight) for t in passage_terms[:3]),
        missing=min(missing, 1.0),
        type_missing=float(not has_answer_type(kind, question, answer_text)),
    )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def confidence(question: str, passages: list[Passage], weight: Weight) -> float:
    """How likely the passages hold the answer (0..1), from the fixed refusal model."""
    if not passages:
        return 0.0
    return round(_sigmoid(refusal_features(question, passages, weight).logit()), 4)


def answer_extractive(
    question: str,
    passages: list[Passage],
    weight: Weight,
    *,
    refusal_threshold: float,
    max_sentences: int = 2,
) -> Answer:
    """Compose an answer from whole sentences, each followed by its ``[n]`` marker."""
    if not passages:
        return Answer(question=question, text=REFUSAL_TEXT, refused=True, confidence=0.0)
    chosen = choose_sentences(rank_sentences(question, passages, weight), max_sentences)
    answer_text = " ".join(c.text for c in chosen)
    features = refusal_features(question, passages, weight, answer_text)
    score = round(_sigmoid(features.logit()), 4)
    if score < refusal_threshold or not chosen:
        return Answer(question=question, text=REFUSAL_TEXT, refused=True, confidence=score)
    # Keep document order when sentences come from the same source, for a readable answer.
    lead = chosen[0].passage.chunk.source
    chosen.sort(key=lambda c: (c.passage.chunk.source != lead, c.passage.chunk.source, c.start))
    citations = [
        make_citation(i, c.passage, c.start, c.end, c.score) for i, c in enumerate(chosen, start=1)
    ]
    text = " ".join(f"{citation.text} [{citation.index}]" for citation in citations)
    return Answer(question=question, text=text, citations=citations, confidence=score)
