"""Generative answers through OpenAI or any OpenAI-compatible server, with verified citations.

The model answers from numbered passages and cites them as ``[n]``. Its reply is then checked:
markers that point to no passage are dropped, the rest are renumbered and mapped to the exact
sentence of their passage that best supports the claim before them, and claims that no cited
sentence supports are listed in ``Answer.unsupported``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rag.answering import REFUSAL_TEXT, confidence
from rag.citations import Weight, best_sentence, make_citation
from rag.config import Settings
from rag.errors import LLMError
from rag.models import Answer, Citation, Passage
from rag.prompts import (
    ANSWER_SYSTEM,
    CONDENSE_SYSTEM,
    REFUSAL_SENTINEL,
    answer_prompt,
    condense_prompt,
)
from rag.text import terms

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
# Sent to servers that need no key (Ollama, llama.cpp, vLLM): the client insists on one.
PLACEHOLDER_KEY = "no-key-needed"
# Share of a claim's (IDF-weighted) terms its cited sentence must contain to support it.
SUPPORT_THRESHOLD = 0.5
HISTORY_TURNS = 6

_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_OPEN_MARKER = re.compile(r"\[[\d\s,]{0,30}\Z")  # a marker that may still be arriving
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_CONDENSED_PREFIX = re.compile(r"^\s*(standalone question:)?\s*", re.IGNORECASE)


# ---------------------------------------------------------------- public entry points


def generate_answer(question: str, passages: list[Passage], settings: Settings) -> Answer:
    """Ask the model, then verify its citations against the passages."""
    if not passages:
        return _refusal(question)
    checker = CitationChecker(question, passages, _weight(settings))
    with llm_errors(settings):
        reply = chat_model(settings).invoke(_answer_messages(question, passages))
    checker.feed(str(reply.text))
    checker.finish()
    return checker.answer(confidence(question, passages, checker.weight))


def stream_generated_answer(
    question: str, passages: list[Passage], settings: Settings
) -> Iterator[str | Answer]:
    """Yield the answer text as it arrives (markers already renumbered), then the ``Answer``."""
    if not passages:
        yield REFUSAL_TEXT
        yield _refusal(question)
        return
    checker = CitationChecker(question, passages, _weight(settings))
    with llm_errors(settings):
        for chunk in chat_model(settings).stream(_answer_messages(question, passages)):
            piece = checker.feed(str(chunk.text))
            if piece:
                yield piece
    tail = checker.finish()
    if tail:
        yield tail
    result = checker.answer(confidence(question, passages, checker.weight))
    if result.refused and not checker.text:
        yield result.text
    yield result


def condense_question(question: str, history: Sequence[Any], settings: Settings) -> str:
    """Rewrite a follow-up ("and when was that?") into a standalone question with the model."""
    turns = conversation_turns(history)[-HISTORY_TURNS:]
    if not turns:
        return question
    messages = _messages(CONDENSE_SYSTEM, condense_prompt(turns, question))
    with llm_errors(settings):
        reply = chat_model(settings).invoke(messages)
    lines = _CONDENSED_PREFIX.sub("", str(reply.text)).strip().splitlines()
    rewritten = lines[0].strip().strip("\"'") if lines else ""
    log.debug("Follow-up %r rewritten as %r", question, rewritten)
    return rewritten[: settings.max_question_chars] or question


def conversation_turns(history: Sequence[Any]) -> list[tuple[str, str]]:
    """``(role, text)`` turns from ``[(user, bot), ...]`` or ``[{"role", "content"}]``."""
    turns: list[tuple[str, str]] = []
    for turn in history or ():
        if isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if role in ("user", "assistant") and isinstance(content, str) and content:
                turns.append((role, content))
        elif isinstance(turn, (list, tuple)):
            for role, content in zip(("user", "assistant"), turn, strict=False):
                if isinstance(content, str) and content:
                    turns.append((role, content))
    return turns


# ---------------------------------------------------------------- the model and its failures


def chat_model(settings: Settings) -> ChatOpenAI:
    """A ``ChatOpenAI`` for these settings (cached: it holds a connection pool)."""
    return _chat_model(
        settings.model,
        settings.openai_base_url or OPENAI_URL,
        api_key(settings),
        settings.llm_timeout,
        settings.llm_max_retries,
    )


@lru_cache(maxsize=8)
def _chat_model(model: str, base_url: str, key: str, timeout: float, retries: int) -> ChatOpenAI:
    from langchain_openai import ChatOpenAI

    # The openai client retries 429, 5xx, timeouts and dropped connections with back-off.
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=timeout,
        max_retries=retries,
        temperature=0,
        use_responses_api=False,
    )


def api_key(settings: Settings) -> str:
    """The key to send: the configured one, or a placeholder for servers that need none."""
    if settings.openai_api_key:
        return settings.openai_api_key
    if settings.openai_base_url and urlsplit(settings.openai_base_url).hostname != "api.openai.com":
        return PLACEHOLDER_KEY
    raise LLMError(
        "RAG_LLM=openai needs an API key: set OPENAI_API_KEY, or set OPENAI_BASE_URL to a local "
        "OpenAI-compatible server (Ollama, llama.cpp, vLLM), or use RAG_LLM=extractive to "
        "answer offline."
    )


@contextmanager
def llm_errors(settings: Settings) -> Iterator[None]:
    """Turn the openai client's exceptions into one ``LLMError`` that says what to fix."""
    import openai

    try:
        yield
    except openai.OpenAIError as exc:
        raise LLMError(_error_message(exc, settings)) from exc


def _error_message(exc: Exception, settings: Settings) -> str:
    import openai

    where = _display_url(settings.openai_base_url or OPENAI_URL)
    retries = (
        f"{settings.llm_max_retries} {'retry' if settings.llm_max_retries == 1 else 'retries'}"
    )
    status = getattr(exc, "status_code", None)
    detail = " ".join(str(getattr(exc, "message", exc)).split())[:200]
    if isinstance(exc, openai.APITimeoutError):
        message = (
            f"The LLM server at {where} did not answer within {settings.llm_timeout:g} s "
            f"(after {retries}): raise RAG_LLM_TIMEOUT, or check the server at OPENAI_BASE_URL."
        )
    elif isinstance(exc, openai.APIConnectionError):
        message = (
            f"Cannot connect to the LLM server at {where} (after {retries}): check "
            "OPENAI_BASE_URL (is the server running? the URL usually ends in /v1)."
        )
    elif isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        message = (
            f"The LLM server at {where} rejected the API key ({status}): check OPENAI_API_KEY."
        )
    elif isinstance(exc, openai.NotFoundError):
        message = (
            f"The LLM server at {where} has no model {settings.model!r} or no such URL (404): "
            "check RAG_MODEL and OPENAI_BASE_URL."
        )
    elif isinstance(exc, openai.RateLimitError):
        message = (
            f"The LLM server at {where} is rate limiting requests (429, still after {retries}): "
            "wait and try again, or check the quota of the account behind OPENAI_API_KEY."
        )
    elif isinstance(exc, openai.InternalServerError):
        message = (
            f"The LLM server at {where} failed ({status}, still after {retries}): try again "
            "later, or point OPENAI_BASE_URL at a working server."
        )
    else:
        message = (
            f"The LLM request to {where} failed ({detail}): check RAG_MODEL ({settings.model!r}) "
            "and OPENAI_BASE_URL."
        )
    return _redact(message, settings)


def _display_url(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return parts._replace(netloc=parts.hostname or "").geturl()
    return url


def _redact(text: str, settings: Settings) -> str:
    key = settings.openai_api_key
    return text.replace(key, "***") if key else text


# ---------------------------------------------------------------- citation checking


@dataclass
class _Claim:
    text: str
    supported: bool = False


class CitationChecker:
    """Turns the model's reply, delta by delta, into answer text with verified citations.

    ``feed`` returns the text that is final so far, so a stream shows the same text, with the
    same renumbered markers, as the final ``Answer``.
    """

    def __init__(self, question: str, passages: Sequence[Passage], weight: Weight) -> None:
        self.question = question
        self.passages = passages
        self.weight = weight
        self.citations: list[Citation] = []
        self.refusal_seen = False
        self._numbers: dict[tuple[str, int, int, bool], int] = {}
        self._claims: list[_Claim] = []  # cited claims and uncited sentences, in order
        self._claim: _Claim | None = None  # the claim of the last marker ([1][2] share one)
        self._run: list[int] = []  # numbers printed since the last words
        self._out: list[str] = []
        self._pending = ""  # reply text not processed yet
        self._space = ""  # whitespace held back: it goes if the marker after it is dropped
        self._since = ""  # answer text since the last marker

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
        if not self.citations and (self.refusal_seen or not self.text):
            return _refusal(self.question)
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
            if REFUSAL_SENTINEL in self._pending:
                self._pending = self._pending.replace(REFUSAL_SENTINEL, "")
                self.refusal_seen = True
                continue
            at = self._pending.find("[")
            if at < 0:
                keep = 0 if final else _sentinel_prefix(self._pending)
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
        for n in (int(n) for n in re.findall(r"\d+", numbers)):
            if not 1 <= n <= len(self.passages):
                log.debug("Dropped citation [%d]: there are %d passages.", n, len(self.passages))
                continue
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

    def _cite(self, claim: _Claim, passage: Passage) -> int:
        basis = claim.text if terms(claim.text) else self.question
        start, end, score = best_sentence(basis, passage, self.weight)
        verified = score >= SUPPORT_THRESHOLD
        claim.supported = claim.supported or verified
        key = (passage.chunk.source, start, end, verified)
        if key not in self._numbers:
            number = len(self.citations) + 1
            self._numbers[key] = number
            self.citations.append(make_citation(number, passage, start, end, score, verified))
        return self._numbers[key]


def _sentinel_prefix(text: str) -> int:
    """Length of the end of ``text`` that could be the start of the refusal sentinel."""
    for size in range(min(len(text), len(REFUSAL_SENTINEL) - 1), 0, -1):
        if REFUSAL_SENTINEL.startswith(text[-size:]):
            return size
    return 0


# ---------------------------------------------------------------- helpers


def _refusal(question: str) -> Answer:
    return Answer(question=question, text=REFUSAL_TEXT, refused=True, confidence=0.0)


def _answer_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    return _messages(ANSWER_SYSTEM, answer_prompt(question, passages))


def _messages(system: str, user: str) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=system), HumanMessage(content=user)]


def _weight(settings: Settings) -> Callable[[str], float]:
    """IDF weights of the index, so rare words count more when matching claims to sentences."""
    from rag.api import engine

    return engine(settings).lexical.idf
