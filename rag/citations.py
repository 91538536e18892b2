"""Sentence spans of passages as exact citations, the scores that choose them, and the check of
a generated reply's ``[n]`` markers against the passages they cite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.models import Answer, Citation, Passage
from rag.text import terms

log = logging.getLogger(__name__)

Weight = Callable[[str], float]
# How a claim is matched to the sentence of a passage that supports it:
# (claim, passage) -> (start, end, score, supported).
Support = Callable[[str, Passage], tuple[int, int, float, bool]]
# Share of a claim's (IDF-weighted) terms its cited sentence must contain to support it.
SUPPORT_THRESHOLD = 0.5
# Markers of one reply that are checked; the rest are dropped, so their claims count as
# unsupported. Each check runs the reader over the cited passage (about 10 ms here), after the
# reply has arrived: a server that ignores the token cap sent 1,000 cited claims and the check
# took 10 s past RAG_LLM_TIMEOUT (100 s for 10,000). A reply within RAG_LLM_MAX_TOKENS (400 by
# default) holds a few dozen markers: 100 is a product choice, about 1 s of checks.
MAX_CHECKED_MARKERS = 100

_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_OPEN_MARKER = re.compile(r"\[[\d\s,]{0,30}\Z")  # a marker that may still be arriving
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


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


# ---------------------------------------------------------------- checking a generated reply


@dataclass
class _Claim:
    text: str
    supported: bool = False


class CitationChecker:
    """Turns a reply that cites passages as ``[n]``, delta by delta, into verified citations.

    Markers that point to no passage are dropped, the rest are renumbered and mapped to the exact
    sentence of their passage that best supports the claim before them; claims that no cited
    sentence supports go to ``Answer.unsupported``. ``feed`` returns the text that is final so
    far, so a stream shows the same text, with the same renumbered markers, as the final
    ``Answer``. A ``sentinel`` (a word the reply may hold instead of an answer) is left out of the
    text and recorded in ``sentinel_seen``.
    """

    def __init__(
        self,
        question: str,
        passages: Sequence[Passage],
        weight: Weight,
        sentinel: str = "",
        support: Support | None = None,
    ) -> None:
        self.question = question
        self.passages = passages
        self.weight = weight
        # Default: the sentence sharing most weighted terms, supported at SUPPORT_THRESHOLD.
        self.support: Support = support or self._word_support
        self.sentinel = sentinel
        self.citations: list[Citation] = []
        self.sentinel_seen = False
        self._numbers: dict[tuple[str, int, int, bool], int] = {}
        self._claims: list[_Claim] = []  # cited claims and uncited sentences, in order
        self._claim: _Claim | None = None  # the claim of the last marker ([1][2] share one)
        self._run: list[int] = []  # numbers printed since the last words
        self._out: list[str] = []
        self._pending = ""  # reply text not processed yet
        self._space = ""  # whitespace held back: it goes if the marker after it is dropped
        self._since = ""  # answer text since the last marker
        self._checked = 0  # markers checked against their passage (MAX_CHECKED_MARKERS)

    @property
    def text(self) -> str:
        return "".join(self._out)

    def feed(self, delta: str) -> str:
        """Add a piece of the reply; return the answer text that became final."""
        self._pending += delta
        return self._drain(final=False)

    def finish(self) -> str:
        """The end of the reply: return the last answer text."""
        tail = self._drain(final=True)
        self._split_claims(self._since, cited=False)
        return tail

    def answer(self, retrieval_confidence: float) -> Answer:
        """The checked answer; its confidence is scaled by the share of supported claims."""
        claims = [c for c in self._claims if c.text or c.supported]
        supported = sum(c.supported for c in claims)
        unsupported = list(dict.fromkeys(c.text for c in claims if not c.supported))
        share = supported / len(claims) if claims else 0.0
        return Answer(
            question=self.question,
            text=self.text,
            citations=list(self.citations),
            confidence=round(retrieval_confidence * share, 4),
            unsupported=unsupported,
        )

    def _drain(self, final: bool) -> str:
        pieces: list[str] = []
        while self._pending:
            if self.sentinel and self.sentinel in self._pending:
                self._pending = self._pending.replace(self.sentinel, "")
                self.sentinel_seen = True
                continue
            at = self._pending.find("[")
            if at < 0:
                keep = 0 if final else _prefix_at_end(self._pending, self.sentinel)
                pieces.append(self._emit_text(self._pending[: len(self._pending) - keep]))
                self._pending = self._pending[len(self._pending) - keep :]
                break
            if at > 0:
                pieces.append(self._emit_text(self._pending[:at]))
                self._pending = self._pending[at:]
            marker = _MARKER.match(self._pending)
            if marker:
                pieces.append(self._emit_marker(marker.group(1)))
                self._pending = self._pending[marker.end() :]
            elif not final and _OPEN_MARKER.match(self._pending):
                break
            else:
                pieces.append(self._emit_text("["))
                self._pending = self._pending[1:]
        return "".join(pieces)

    def _emit_text(self, text: str) -> str:
        text = self._space + text
        if not self._out:
            text = text.lstrip()
            if not terms(text):  # no leading punctuation left over from a removed sentinel
                self._space = text
                return ""
        body = text.rstrip()
        self._space = text[len(body) :]
        if body:
            self._out.append(body)
            self._since += body
            if terms(body):
                self._run = []
        return body

    def _emit_marker(self, numbers: str) -> str:
        claim = self._claim_before_marker()
        printed = []
        for digits in re.findall(r"\d+", numbers):
            n = int(digits) if len(digits) <= 6 else 0  # int() refuses over 4,300 digits
            if not 1 <= n <= len(self.passages):
                log.debug(
                    "Dropped citation [%s]: there are %d passages.", digits[:8], len(self.passages)
                )
                continue
            if self._checked >= MAX_CHECKED_MARKERS:
                log.debug("Dropped citation [%d]: %d were checked already.", n, self._checked)
                continue
            self._checked += 1
            number = self._cite(claim, self.passages[n - 1])
            if number not in self._run:
                self._run.append(number)
                printed.append(f"[{number}]")
        if not printed:
            self._space = ""
            return ""
        body = self._space + "".join(printed)
        self._space = ""
        self._out.append(body)
        return body

    def _claim_before_marker(self) -> _Claim:
        """The text since the previous marker, back to the last sentence end."""
        since, self._since = self._since, ""
        last = self._split_claims(since, cited=True)
        if last is not None:
            self._claim = last
        elif self._claim is None:  # the reply starts with a marker
            self._claim = _Claim("")
            self._claims.append(self._claim)
        return self._claim

    def _split_claims(self, text: str, cited: bool) -> _Claim | None:
        """Record the sentences of ``text``; the last one is the cited claim if ``cited``."""
        sentences = [s.strip() for s in _SENTENCE_BREAK.split(text) if terms(s)]
        claims = [_Claim(s) for s in sentences]
        self._claims.extend(claims)
        return claims[-1] if cited and claims else None

    def _word_support(self, claim: str, passage: Passage) -> tuple[int, int, float, bool]:
        start, end, score = best_sentence(claim, passage, self.weight)
        return start, end, score, score >= SUPPORT_THRESHOLD

    def _cite(self, claim: _Claim, passage: Passage) -> int:
        basis = claim.text if terms(claim.text) else self.question
        start, end, score, verified = self.support(basis, passage)
        claim.supported = claim.supported or verified
        key = (passage.chunk.source, start, end, verified)
        if key not in self._numbers:
            number = len(self.citations) + 1
            self._numbers[key] = number
            self.citations.append(make_citation(number, passage, start, end, score, verified))
        return self._numbers[key]


def _prefix_at_end(text: str, word: str) -> int:
    """Length of the end of ``text`` that could be the start of ``word`` (0 if ``word`` is "")."""
    for size in range(min(len(text), len(word) - 1), 0, -1):
        if word.startswith(text[-size:]):
            return size
    return 0
