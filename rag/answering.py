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
# (hybrid retrieval, default settings); 10-fold cross-validated AUROC 0.80 on ClapNQ and 0.89 on
# the seeds (fitted on ClapNQ alone it scores 0.91 on the unseen seeds). The intercept is then
# shifted so that the threshold with the best mean balanced accuracy on both sets (0.42 for the
# fitted intercept -2.51) falls on the default refusal_threshold 0.44 of rag/config.py. Refit
# after changing a feature, the chunking or the retrieval with
#   .venv/bin/python -m evals.fit_refusal
# which prints the constants to paste here (see evals/README.md).
REFUSAL_COEFFICIENTS = {"dense": 3.80, "coverage": 2.31, "missing": -0.65, "type_missing": -1.15}
REFUSAL_INTERCEPT = -2.43
# Sentence choice: a sentence joins the answer when its score is at least this share of the
# best; a sentence right before or after the best one at the lower ADJACENT_SENTENCE_RATIO.
SECOND_SENTENCE_RATIO = 0.9
ADJACENT_SENTENCE_RATIO = 0.6
# Sentence score = question-term coverage + PASSAGE_PRIOR * the passage's dense similarity
# + TYPE_BONUS when the sentence holds what the question asks for (a name, a number, a date).
PASSAGE_PRIOR = 0.3
TYPE_BONUS = 0.2
# A question term that the candidate sentences write capitalised (a name: "Vučić", "Kosovo") is
# usually the question's topic rather than its focus; it weighs this share in sentence scores.
NAME_WEIGHT = 0.7
# The same holds for the refusal model's coverage feature, where names weigh this share: the
# passages of "What did Putin and Vučić agree on?" name both leaders but say nothing of agreeing.
COVERAGE_NAME_WEIGHT = 0.2

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# What the answer sentence must hold when the question asks for a year, a date or a quantity.
_YEAR = re.compile(r"\b\d{4}s?\b|\bcentury\b", re.IGNORECASE)
_DATE = re.compile(
    rf"\b\d{{4}}\b|\b({_MONTHS.replace('may|', '')})\b|\b(?-i:May)\b|\b\d{{1,2}}/\d{{1,2}}",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    rf"fifty|hundred|thousand|million|billion|dozen|century|decade|{_MONTHS.replace('may|', '')})\b"
    r"|\b(?-i:May)\b",
    re.IGNORECASE,
)
_ASKS = (
    ("year", re.compile(r"\b(what|which|in what) year\b")),
    ("date", re.compile(r"\b(what|which) (date|day|month)\b|\bexact date\b")),
    ("number", re.compile(r"\bhow (many|much|long|old|far|big|tall|often)\b|\bwhen\b")),
    ("name", re.compile(r"\b(who|whom|whose|which|where)\b")),
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
    # The score on the question's words and the passage prior alone (no answer-type bonus).
    base: float
    passage: Passage
    start: int
    end: int
    text: str
    # The question terms the sentence holds, and whether it holds the expected answer type.
    found: frozenset[str] = frozenset()
    typed: bool = False


@dataclass(frozen=True)
class RefusalFeatures:
    """What the refusal model looks at, each cheap to compute from the retrieved passages."""

    # Cosine similarity of the question and its best passage (MiniLM embeddings).
    dense: float
    # IDF-weighted share of the question's terms found in the best of the top 3 passages; terms
    # that the passages write as names weigh COVERAGE_NAME_WEIGHT of their IDF.
    coverage: float
    # IDF (scaled to 0..1) of the rarest question term that no retrieved passage contains.
    missing: float
    # 1 when the question asks for a year, a date, a number (when, how many) or a name (who,
    # which, where) and the sentence that best matches its words (``focus_sentence``) holds none.
    type_missing: float

    def logit(self) -> float:
        """The model's log-odds that the passages answer the question."""
        total = REFUSAL_INTERCEPT
        for f in fields(self):
            total += REFUSAL_COEFFICIENTS[f.name] * float(getattr(self, f.name))
        return total


def expected_answer_type(question: str) -> str | None:
    """'year', 'date', 'number' (when, how many) or 'name' (who, which, where) when asked."""
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
    # Summed in sorted order, so that the result (and ties between sentences) does not depend on
    # the process's string hash seed.
    total = sum(weight(t) for t in sorted(question_terms))
    return sum(weight(t) for t in sorted(found)) / total if total else 0.0


def rank_sentences(question: str, passages: list[Passage], weight: Weight) -> list[_Candidate]:
    """Every sentence of the passages, best first: term coverage, answer type, passage prior.

    A question term weighs its corpus IDF times its IDF among these sentences, so that a term
    every candidate sentence shares (the document's topic) does not pick the sentence; terms the
    sentences write as names weigh NAME_WEIGHT of that. A sentence that holds the kind of answer
    the question asks for (who, which, where: a new name; when, how many: a number; what year,
    what date) gains TYPE_BONUS.
    """
    question_terms = content_terms(question)
    kind = expected_answer_type(question)
    rows = []
    for rank, passage in enumerate(passages):
        passage_bonus = PASSAGE_PRIOR * (passage.dense_score or 0.0) - 0.02 * rank
        for start, end in sentence_spans(passage):
            text = span_text(passage, start, end)
            found = frozenset(matched_terms(question_terms, set(_term_set(text))))
            typed = kind is not None and has_answer_type(kind, question, text)
            rows.append((passage_bonus, passage, start, end, text, found, typed))
    unique = {(row[1].chunk.source, row[2]): row[5] for row in rows}
    n = len(unique)
    spread = {t: sum(t in found for found in unique.values()) for t in question_terms}
    names = {t for row in rows if row[5] for t in row[5] & _name_terms(row[4])}

    def local_weight(term: str) -> float:
        w = weight(term) * math.log(1.0 + (n - spread[term] + 0.5) / (spread[term] + 0.5))
        return w * NAME_WEIGHT if term in names else w

    candidates = []
    for bonus, passage, start, end, text, found, typed in rows:
        base = _weighted_share(question_terms, set(found), local_weight) + bonus
        candidates.append(
            _Candidate(base + TYPE_BONUS * typed, base, passage, start, end, text, found, typed)
        )
    candidates.sort(key=lambda c: (-c.score, c.passage.chunk.source, c.start))
    return candidates


@lru_cache(maxsize=8192)
def _name_terms(text: str) -> frozenset[str]:
    """The terms of a sentence's capitalised words, except a sentence's first word."""
    names: set[str] = set()
    for m in _CAPITALISED.finditer(text):
        if m.group(0)[0].isupper() and not _starts_sentence(text, m.start()):
            names.update(terms(m.group(0)))
    return frozenset(names)


def focus_sentence(ranked: list[_Candidate]) -> _Candidate | None:
    """The best sentence on the question's words alone (answer-type bonus left out).

    Among sentences that tie on that score, one holding the answer type wins: the tie says the
    words cannot tell them apart, so the type is not missing.
    """
    return min(
        ranked,
        key=lambda c: (-c.base, not c.typed, c.passage.chunk.source, c.start),
        default=None,
    )


def choose_sentences(ranked: list[_Candidate], max_sentences: int) -> list[_Candidate]:
    """The best sentence, and the next ones while they score close to it (no duplicates).

    A sentence next to the best one (it usually continues it) joins at ADJACENT_SENTENCE_RATIO
    of the best score; any other only at SECOND_SENTENCE_RATIO, as a second guess that costs
    citation precision whenever the best sentence was right.
    """
    chosen: list[_Candidate] = []
    seen: set[tuple[str, int, int]] = set()
    lowest = min(SECOND_SENTENCE_RATIO, ADJACENT_SENTENCE_RATIO)
    for candidate in ranked:
        key = (candidate.passage.chunk.source, candidate.start, candidate.end)
        if key in seen:  # overlapping chunks hold the same sentence twice
            continue
        seen.add(key)
        if chosen:
            if candidate.score < lowest * chosen[0].score:
                break
            ratio = (
                ADJACENT_SENTENCE_RATIO
                if _adjacent(chosen[0], candidate)
                else SECOND_SENTENCE_RATIO
            )
            if candidate.score < ratio * chosen[0].score:
                continue
        chosen.append(candidate)
        if len(chosen) == max_sentences:
            break
    return chosen


def _adjacent(a: _Candidate, b: _Candidate) -> bool:
    """Whether two sentences of the same document follow each other (only spaces between)."""
    if a.passage.chunk.source != b.passage.chunk.source:
        return False
    return 0 <= b.start - a.end <= 3 or 0 <= a.start - b.end <= 3


def refusal_features(
    question: str,
    passages: list[Passage],
    weight: Weight,
    ranked: list[_Candidate] | None = None,
) -> RefusalFeatures:
    """The refusal model's inputs; ``ranked`` (from ``rank_sentences``) is computed if omitted."""
    question_terms = content_terms(question)
    passage_terms = [set(_term_set(p.chunk.text)) for p in passages]
    unseen = weight("") or 1.0  # the weight of a term no document contains: the largest
    found_anywhere = matched_terms(question_terms, set().union(*passage_terms))
    missing = max((weight(t) / unseen for t in question_terms - found_anywhere), default=0.0)
    if ranked is None:
        ranked = rank_sentences(question, passages, weight)
    focus = focus_sentence(ranked)
    kind = expected_answer_type(question)
    names = {t for c in ranked if c.found for t in c.found & _name_terms(c.text)}

    def topic_weight(term: str) -> float:
        return weight(term) * (COVERAGE_NAME_WEIGHT if term in names else 1.0)

    return RefusalFeatures(
        dense=max((p.dense_score or 0.0) for p in passages),
        coverage=max(_coverage(question_terms, t, topic_weight) for t in passage_terms[:3]),
        missing=min(missing, 1.0),
        type_missing=float(kind is not None and (focus is None or not focus.typed)),
    )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def confidence(question: str, passages: list[Passage], weight: Weight) -> float:
    """How likely the passages hold the answer (0..1), from the fixed refusal model."""
    if not passages:
        return 0.0
    return round(_sigmoid(refusal_features(question, passages, weight).logit()), 4)


def refusal(question: str, confidence: float = 0.0) -> Answer:
    """The answer given when the passages do not hold one: no citations."""
    return Answer(question=question, text=REFUSAL_TEXT, refused=True, confidence=confidence)


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
        return refusal(question)
    ranked = rank_sentences(question, passages, weight)
    chosen = choose_sentences(ranked, max_sentences)
    features = refusal_features(question, passages, weight, ranked)
    score = round(_sigmoid(features.logit()), 4)
    if score < refusal_threshold or not chosen:
        return refusal(question, score)
    # Keep document order when sentences come from the same source, for a readable answer.
    lead = chosen[0].passage.chunk.source
    chosen.sort(key=lambda c: (c.passage.chunk.source != lead, c.passage.chunk.source, c.start))
    citations = [
        make_citation(i, c.passage, c.start, c.end, c.score) for i, c in enumerate(chosen, start=1)
    ]
    text = " ".join(f"{citation.text} [{citation.index}]" for citation in citations)
    return Answer(question=question, text=text, citations=citations, confidence=score)
