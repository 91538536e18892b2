"""Bounded calls to the chat model: a token cap, stop sequences, one deadline for the whole reply
(retries included), and retries only while nothing has been generated.

A request that timed out is never retried: the server may still be generating, and a second try
would multiply the wait (and, on a paid API, the bill). Connection errors, 429 and 5xx are
retried with back-off, and only before the reply's first text, so nothing shown is repeated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.errors import LLMError
from rag.llm_http import too_large

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

# Back-off between retries (doubling from the first), and the longest a server may ask us to wait.
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 8.0

# Builds the message of the LLMError for a failure: (exception, retries taken) -> message.
Describe = Callable[[Exception, int], str]


class ReplyTimeout(TimeoutError):
    """The whole reply did not arrive before the deadline (raised as an ``LLMError``)."""


class ReplyCut(ConnectionError):
    """The server failed after part of its reply was out (raised as an ``LLMError``, never
    retried: a retry would show that part again); its cause is the client's error."""


@dataclass(frozen=True)
class Bounds:
    """The limits of one call: tokens, stop sequences, seconds for the reply, retries."""

    max_tokens: int
    stop: tuple[str, ...]
    seconds: float
    retries: int
    # api.openai.com reads only ``max_completion_tokens`` (what ChatOpenAI sends); llama.cpp's
    # server reads only ``max_tokens`` and would generate until its context is full without it.
    send_max_tokens: bool = True

    def options(self, attempt: int, seconds_left: float) -> dict[str, Any]:
        """Keyword arguments for ``ChatOpenAI.invoke`` / ``.stream`` for one attempt."""
        options: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "timeout": max(seconds_left, 0.001),
            # The openai client's own header, kept honest now that we retry ourselves.
            "extra_headers": {"x-stainless-retry-count": str(attempt)},
        }
        if self.stop:
            options["stop"] = list(self.stop)
        if self.send_max_tokens:
            options["extra_body"] = {"max_tokens": self.max_tokens}
        return options


def invoke(
    model: ChatOpenAI, messages: Sequence[BaseMessage], bounds: Bounds, describe: Describe
) -> str:
    """The model's whole reply, within ``bounds.seconds``, or ``LLMError``."""
    import openai

    deadline = time.monotonic() + bounds.seconds
    attempt = 0
    while True:
        try:
            reply = model.invoke(list(messages), **bounds.options(attempt, _left(deadline)))
            return str(reply.text)
        except openai.OpenAIError as exc:
            attempt = _retry_or_raise(exc, attempt, deadline, bounds, describe)


def stream(
    model: ChatOpenAI, messages: Sequence[BaseMessage], bounds: Bounds, describe: Describe
) -> Iterator[str]:
    """The reply's text as it arrives, within ``bounds.seconds``, or ``LLMError``.

    Retried only before its first text. The deadline is checked as each piece arrives; a server
    that stalls mid-reply is cut by the read timeout (what was left of the deadline when the
    request started).
    """
    import openai

    deadline = time.monotonic() + bounds.seconds
    attempt = 0
    while True:
        started = False
        pieces = model.stream(list(messages), **bounds.options(attempt, _left(deadline)))
        try:
            for chunk in pieces:
                text = str(chunk.text)
                if text:
                    started = True
                    yield text
                if time.monotonic() > deadline:
                    overtime = ReplyTimeout(f"no complete reply within {bounds.seconds:g} s")
                    raise LLMError(describe(overtime, attempt)) from overtime
            return
        except openai.OpenAIError as exc:
            if started and isinstance(exc, openai.APITimeoutError):  # stalled: said as such
                raise LLMError(describe(exc, attempt)) from exc
            if started:  # part of the reply is out: a retry would repeat it
                cut = ReplyCut(str(exc))
                cut.__cause__ = exc
                raise LLMError(describe(cut, attempt)) from exc
            attempt = _retry_or_raise(exc, attempt, deadline, bounds, describe)
        finally:
            pieces.close()  # type: ignore[attr-defined]


def retry_pause(exc: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying after ``exc``, or None if it must not be retried."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return None  # the server may still be generating: never send the request twice
    if too_large(exc) is not None:
        return None  # it would send as much again
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code != 429 and exc.status_code < 500:
            return None
        asked = _retry_after(exc.response.headers)
        if asked is not None:
            return min(asked, LONGEST_PAUSE)
    elif not isinstance(exc, openai.APIConnectionError):
        return None
    return min(FIRST_PAUSE * 2.0**attempt, LONGEST_PAUSE)


def _retry_or_raise(
    exc: Exception, attempt: int, deadline: float, bounds: Bounds, describe: Describe
) -> int:
    """Sleep and return the next attempt's number, or raise ``LLMError`` for ``exc``."""
    pause = retry_pause(exc, attempt)
    if pause is None or attempt >= bounds.retries or time.monotonic() + pause >= deadline:
        raise LLMError(describe(exc, attempt)) from exc
    log.info(
        "The LLM request failed (%s); retry %d in %.2f s.", type(exc).__name__, attempt + 1, pause
    )
    time.sleep(pause)
    return attempt + 1


def _retry_after(headers: Any) -> float | None:
    """The server's ``retry-after-ms`` or ``retry-after`` (seconds), if it sent one."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, ""))
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value * scale
    return None


def _left(deadline: float) -> float:
    return deadline - time.monotonic()
