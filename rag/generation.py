"""Generative answers through OpenAI or any OpenAI-compatible server, with verified citations.

The model answers from numbered passages and cites them as ``[n]``, or replies with the refusal
sentinel. ``rag.citations.CitationChecker`` checks the reply's markers as it arrives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rag import bounds, citations
from rag.answering import (
    REFUSAL_TEXT,
    Judged,
    best_probability,
    closest,
    context_title,
    judge,
    reading_groups,
    refusal,
    rerank,
    top_dense,
)
from rag.citations import Weight
from rag.config import Settings
from rag.entities import MIN_DERIVED_STEM, mentions, name_terms
from rag.errors import LLMError
from rag.followup import conversation_turns
from rag.injection import addressed_to_model
from rag.llm_http import (
    DeadlineTransport,
    ReplyTooLarge,
    environment_proxy,
    http_client,
    too_large,
)
from rag.models import Answer, Chunk, Passage
from rag.prompts import (
    ANSWER_STOP,
    ANSWER_SYSTEM,
    CONDENSE_MAX_TOKENS,
    CONDENSE_STOP,
    CONDENSE_SYSTEM,
    REFUSAL_SENTINEL,
    answer_prompt,
    condense_prompt,
)
from rag.reader import Reader
from rag.reader_input import reader_pair
from rag.supported import keep_supported
from rag.text import terms, words

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
# Sent to servers that need no key (Ollama, llama.cpp, vLLM): the client insists on one.
PLACEHOLDER_KEY = "no-key-needed"
HISTORY_TURNS = 6

_CONDENSED_PREFIX = re.compile(r"^\s*(standalone question:)?\s*", re.IGNORECASE)


# ---------------------------------------------------------------- public entry points


@dataclass(frozen=True)
class Checks:
    """What judges a generated answer: the index's IDF weights and the reader with its threshold."""

    weight: Weight
    reader: Reader
    threshold: float


def generate_answer(
    question: str, passages: list[Passage], settings: Settings, checks: Checks
) -> Answer:
    """Ask the model about the reader's best passages, then verify its citations."""
    if not passages:
        return refusal(question)
    judged = judge(question, passages, checks.reader)
    passages = rerank(passages, judged)
    checker = CitationChecker(question, passages, checks, judged)
    messages = _answer_messages(question, passages)
    with model_reply(settings):
        reply = bounds.invoke(
            chat_model(settings), messages, answer_bounds(settings), _why(settings)
        )
    checker.feed(reply)
    checker.finish()
    return checker.answer(best_probability(judged))


def stream_generated_answer(
    question: str, passages: list[Passage], settings: Settings, checks: Checks
) -> Iterator[str | Answer]:
    """Yield the answer text as it arrives (markers already renumbered), then the ``Answer``."""
    if not passages:
        yield REFUSAL_TEXT
        yield refusal(question)
        return
    judged = judge(question, passages, checks.reader)
    passages = rerank(passages, judged)
    checker = CitationChecker(question, passages, checks, judged)
    messages = _answer_messages(question, passages)
    with model_reply(settings):
        for text in bounds.stream(
            chat_model(settings), messages, answer_bounds(settings), _why(settings)
        ):
            piece = checker.feed(text)
            if piece:
                yield piece
    tail = checker.finish()
    if tail:
        yield tail
    result = checker.answer(best_probability(judged))
    if result.refused and not checker.text:
        yield result.text
    yield result


def condense_question(question: str, history: Sequence[Any], settings: Settings) -> str:
    """Rewrite a follow-up ("and when was that?") into a standalone question with the model."""
    turns = conversation_turns(history)[-HISTORY_TURNS:]
    if not turns:
        return question
    messages = _messages(CONDENSE_SYSTEM, condense_prompt(turns, question))
    limits = answer_bounds(
        settings, min(CONDENSE_MAX_TOKENS, settings.llm_max_tokens), CONDENSE_STOP
    )
    with model_reply(settings):
        reply = bounds.invoke(chat_model(settings), messages, limits, _why(settings))
    lines = _CONDENSED_PREFIX.sub("", reply).strip().splitlines()
    rewritten = lines[0].strip().strip("\"'") if lines else ""
    log.debug("Follow-up %r rewritten as %r", question, rewritten)
    return rewritten[: settings.max_question_chars] or question


# ---------------------------------------------------------------- the model and its failures


def chat_model(settings: Settings) -> ChatOpenAI:
    """A ``ChatOpenAI`` for these settings (cached: it holds a connection pool)."""
    url = server_url(settings)
    return _chat_model(
        settings.model,
        url,
        api_key(settings),
        settings.llm_timeout,
        environment_proxy(url),
    )


def server_url(settings: Settings) -> str:
    """OPENAI_BASE_URL (or OpenAI's), refused at once unless it is an http(s) URL with a host:
    ``file:///...``, ``unix://...`` or ``127.0.0.1:8000/v1`` (no scheme) were retried as
    connection errors and said "is the server running?"."""
    url = settings.openai_base_url or OPENAI_URL
    try:
        parts = urlsplit(url)
        usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # "http://[::1" or "http://host:port"
        usable = False
    if not usable:
        raise LLMError(
            _redact(
                f"OPENAI_BASE_URL={_display_url(url)!r} is not an http:// or https:// URL of a "
                "server: set it to the address of an OpenAI-compatible server, such as "
                "http://127.0.0.1:11434/v1 (Ollama), or unset it for OpenAI.",
                settings,
            )
        )
    return url


@lru_cache(maxsize=8)
def _chat_model(
    model: str, base_url: str, key: str, timeout: float, proxy: str | None
) -> ChatOpenAI:
    from langchain_openai import ChatOpenAI

    # No retries in the client: it would retry a generation that timed out too. rag.bounds
    # retries what is safe to retry, and passes the limits of each call. The HTTP client
    # ends each reply at its deadline however slowly it arrives (rag/llm_http.py).
    client, transport = http_client(timeout, proxy)
    _transports[base_url] = transport
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=timeout,
        max_retries=0,
        temperature=0,
        use_responses_api=False,
        http_client=client,
    )


# The transport of each server's client: it knows the first bytes of the last reply.
_transports: dict[str, DeadlineTransport] = {}


@contextmanager
def model_reply(settings: Settings) -> Iterator[None]:
    """A model call: a reply cut at its deadline, or one that is not an OpenAI chat completion
    (not JSON, no choices), becomes an ``LLMError`` naming the server and what it sent."""
    import httpx

    try:
        yield
    except LLMError:
        raise
    except ReplyTooLarge as exc:  # a streamed reply cut at its size cap
        raise LLMError(_error_message(exc, settings)) from exc
    except httpx.TimeoutException as exc:  # a streamed reply cut at its deadline
        overtime = bounds.ReplyTimeout(f"no complete reply within {settings.llm_timeout:g} s")
        raise LLMError(_error_message(overtime, settings)) from exc
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        base_url = settings.openai_base_url or OPENAI_URL
        transport = _transports.get(base_url)
        sent = transport.last_reply() if transport is not None else ""
        shown = (sent[:160] + "…") if len(sent) > 160 else sent
        message = (
            f"The LLM server at {_display_url(base_url)} sent a reply that is not an OpenAI "
            f"chat completion ({type(exc).__name__}: {' '.join(str(exc).split())[:120]}; it "
            f"sent: {shown!r}): check that OPENAI_BASE_URL points at an OpenAI-compatible "
            "server (its URL usually ends in /v1)."
        )
        raise LLMError(_redact(message, settings)) from exc


def answer_bounds(
    settings: Settings, max_tokens: int | None = None, stop: tuple[str, ...] = ANSWER_STOP
) -> bounds.Bounds:
    """The limits of one call: ``RAG_LLM_MAX_TOKENS`` (or fewer), stop sequences, one deadline
    of ``RAG_LLM_TIMEOUT`` seconds for the whole reply, ``RAG_LLM_MAX_RETRIES`` safe retries."""
    host = urlsplit(settings.openai_base_url or OPENAI_URL).hostname
    return bounds.Bounds(
        max_tokens=max_tokens or settings.llm_max_tokens,
        stop=stop,
        seconds=settings.llm_timeout,
        retries=settings.llm_max_retries,
        send_max_tokens=host != "api.openai.com",
    )


def _why(settings: Settings) -> bounds.Describe:
    return lambda exc, retries: _error_message(exc, settings, retries)


def api_key(settings: Settings) -> str:
    """The key to send: the configured one, or a placeholder for servers that need none."""
    key = settings.openai_api_key
    if key:
        odd = next((i for i, ch in enumerate(key) if not " " < ch <= "~"), None)
        if odd is not None:  # httpx fails to encode it, said as "not an OpenAI chat completion"
            raise LLMError(
                f"OPENAI_API_KEY holds a character an HTTP header cannot carry (character "
                f"{odd + 1} of {len(key)}: a space, a line break or a non-ASCII character such "
                "as a typographic quote copied with it): set it to the key alone."
            )
        return key
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


def _error_message(exc: Exception, settings: Settings, retries_taken: int | None = None) -> str:
    import openai

    where = _display_url(settings.openai_base_url or OPENAI_URL)
    taken = settings.llm_max_retries if retries_taken is None else retries_taken
    retries = f"{taken} {'retry' if taken == 1 else 'retries'}"
    status = getattr(exc, "status_code", None)
    detail = " ".join(str(getattr(exc, "message", exc)).split())[:200]
    cut = too_large(exc)
    if cut is not None:
        message = (
            f"The LLM server at {where} sent more than {cut.cap:,} bytes for a reply of at "
            f"most {cut.tokens:,} tokens, so it was cut (not retried): the server ignores "
            "the token cap (RAG_LLM_MAX_TOKENS); check the server at OPENAI_BASE_URL."
        )
    elif isinstance(exc, (openai.APITimeoutError, bounds.ReplyTimeout)):
        message = (
            f"The LLM server at {where} did not finish its reply within {settings.llm_timeout:g} s "
            "(a reply that timed out is not retried): raise RAG_LLM_TIMEOUT or lower "
            "RAG_LLM_MAX_TOKENS, or check the server at OPENAI_BASE_URL."
        )
    elif isinstance(exc, bounds.ReplyCut):
        message = (
            f"The LLM server at {where} stopped in the middle of its reply ({detail}); it was "
            "not retried (a retry would show its first part again): ask again, or check the "
            "server at OPENAI_BASE_URL (its log says why it stopped)."
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
    elif isinstance(status, int) and 300 <= status < 400:
        response = getattr(exc, "response", None)
        target = response.headers.get("location", "") if response is not None else ""
        base = _redirected_base(response, target, settings.openai_base_url or OPENAI_URL)
        advice = (
            f"set OPENAI_BASE_URL={_display_url(base)} if you trust it"
            if base
            else "set OPENAI_BASE_URL to the server it names (ending in /v1) if you trust it"
        )
        message = (
            f"The LLM server at {where} redirected the request ({status}) to "
            f"{_display_url(target)!r}, which is not followed (the question and passages "
            f"would go to another address): {advice}."
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


def _redirected_base(response: Any, location: str, base_url: str) -> str:
    """The OPENAI_BASE_URL a redirect's ``location`` amounts to: it names the endpoint
    (".../v1/chat/completions"), often as a path only ("/v2/chat/completions"), and the client
    adds the endpoint to the base. "" when it cannot be told."""
    from urllib.parse import urljoin

    request = getattr(response, "request", None)
    if request is None or not location:
        return ""
    asked = str(request.url)
    try:
        target = urljoin(asked, location)
        base_path = urlsplit(base_url).path.rstrip("/")
        endpoint = urlsplit(asked).path[len(base_path) :]  # "/chat/completions"
        parts = urlsplit(target)
    except ValueError:
        return ""
    if not endpoint or not parts.path.endswith(endpoint) or not parts.hostname:
        return ""
    return parts._replace(path=parts.path[: -len(endpoint)], query="", fragment="").geturl()


# How documents and answers write the same number or acronym differently: "12,500" / "12500",
# "U.S." / "US". Both sides are read without these before names are compared.
_DIGIT_GROUP = re.compile(r"(?<=\d)[,\u00a0\u202f ](?=\d{3}(?!\d))")
_DOTTED_ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}")
# Endings that make a name's word from a name ("Serbia" -> "Serbian", "Japan" -> "Japanese"):
# only these, so that "Emma" does not name "Emmanuel", nor "India" "Indiana".
_DERIVED_ENDINGS = frozenset({"n", "an", "ian", "ns", "ans", "ians", "ese", "ish", "i", "is", "s"})


def _plain(text: str) -> str:
    text = _DIGIT_GROUP.sub("", text)
    return _DOTTED_ACRONYM.sub(lambda m: m.group().replace(".", ""), text)


def claim_names_missing(claim: str, context: str) -> list[str]:
    """The names and numbers of ``claim`` its passage (with title and file name) never writes,
    in any form: digit groups and dotted acronyms read alike, and a word derived from one of
    the passage's ("Serbian" from "Serbia") as well as the other way round."""
    plain = _plain(context)
    found = words(plain)
    missing = []
    for term in name_terms(_plain(claim)):
        derived = not term.is_code and any(
            len(word) >= MIN_DERIVED_STEM
            and term.folded.startswith(word)
            and term.folded[len(word) :] in _DERIVED_ENDINGS
            for word in found
        )
        if not (derived or mentions(plain, term)):
            missing.append(term.text)
    return missing


def _display_url(url: str) -> str:
    """The URL without user:password (its host and port kept), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rpartition("@")[2]
    if parts.username or parts.password:
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return url


# A key this short is masked only where it stands alone: "x" or "k", placeholder keys of local
# servers, were masked inside every word of the message ("chec*** OPENAI_BASE_URL").
WHOLE_KEY_CHARS = 8


def _redact(text: str, settings: Settings) -> str:
    key = settings.openai_api_key
    if not key:
        return text
    if len(key) >= WHOLE_KEY_CHARS:
        return text.replace(key, "***")
    return re.sub(rf"(?<![\w-]){re.escape(key)}(?![\w-])", "***", text)


# ---------------------------------------------------------------- the refusal sentinel


class CitationChecker(citations.CitationChecker):
    """``citations.CitationChecker`` for the model's replies: each cited claim is matched by the
    reader to the sentence of its passage that best supports it, and counts as supported when the
    reader's probability clears the refusal threshold. The refusal sentinel never reaches the
    text; a reply with no supported citation is a refusal that shows the closest passages.
    """

    def __init__(
        self,
        question: str,
        passages: Sequence[Passage],
        checks: Checks,
        judged: list[Judged] | None = None,
    ) -> None:
        super().__init__(
            question, passages, checks.weight, sentinel=REFUSAL_SENTINEL, support=self._support
        )
        self.checks = checks
        self.judged = judged or []
        self._planted: dict[str, str | None] = {}

    def _support(self, claim: str, passage: Passage) -> tuple[int, int, float, bool]:
        groups = reading_groups(passage)
        title = context_title(passage.chunk)
        pairs = [
            reader_pair(claim, span.text, title=title, before=before) for span, before in groups
        ]
        logits = self.checks.reader.logits(pairs)
        best = int(logits.argmax())
        dense = top_dense(list(self.passages))  # the question's retrieval signal, as for answers
        probability = self.checks.reader.probability(float(logits[best]), dense)
        span = groups[best][0]
        # The reader judges whether a sentence is about the claim, not whether it says it:
        # "Vučić is the president of France [1]" read as well as the sentence it cites. A name
        # or number the cited passage never mentions is not from it, and neither is a claim
        # that shares no word with it ("Use `arr[1]`", a marker inside code).
        context = _read_with(passage.chunk)
        foreign = claim_names_missing(claim, context)
        shared = bool(set(terms(claim)) & set(terms(context)))
        if foreign or not shared:
            log.debug("Claim %r is not from its passage (names: %s)", claim[:80], foreign)
        planted = self._addressed_to_model(passage)
        supported = probability >= self.checks.threshold and shared and not foreign and not planted
        return span.start, span.end, probability, supported

    def _addressed_to_model(self, passage: Passage) -> str | None:
        """Text of ``passage`` that addresses an AI model (rag/injection.py): a model that obeyed
        it would cite the passage that told it what to say, so no claim citing it is verified."""
        chunk = passage.chunk
        if chunk.id not in self._planted:
            planted = addressed_to_model(_read_with(chunk))
            self._planted[chunk.id] = planted
            if planted:
                log.warning(
                    "%s holds text addressed to an AI model (%r): claims citing it are not "
                    "verified.",
                    chunk.source,
                    planted[:80],
                )
        return self._planted[chunk.id]

    def answer(self, retrieval_confidence: float) -> Answer:
        """Only the supported claims, with their citations; the rest in ``unsupported``."""
        checked = super().answer(retrieval_confidence)
        kept = keep_supported(checked.text, checked.citations)
        if kept is None:
            return refusal(self.question, retrieval_confidence, closest(self.judged))
        text, kept_citations = kept
        return replace(checked, text=text, citations=kept_citations)


# ---------------------------------------------------------------- helpers


def _read_with(chunk: Chunk) -> str:
    """A passage as the model and the reader see it: its text, its section path (the reader's
    title) and its file name (the model's), the name's underscores as spaces, as a model reads
    them ("ignore_all_previous_instructions")."""
    return f"{chunk.text}\n{context_title(chunk)}\n{chunk.source.replace('_', ' ')}"


def _answer_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    return _messages(ANSWER_SYSTEM, answer_prompt(question, passages))


def _messages(system: str, user: str) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=system), HumanMessage(content=user)]
