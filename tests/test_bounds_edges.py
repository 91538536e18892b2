"""rag/bounds.py on its own: when a failed call is retried and after how long, and what a streamed
reply that fails, stalls or overruns its deadline raises. Real openai errors, and a real
OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py) with no index, so they run for
every mutant of the module (tests/README.md, mutation testing)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx2
import openai
import pytest
from langchain_core.messages import HumanMessage

from rag.bounds import (
    FIRST_PAUSE,
    LONGEST_PAUSE,
    Bounds,
    Describe,
    ReplyCut,
    ReplyTimeout,
    invoke,
    retry_pause,
    stream,
)
from rag.config import Settings
from rag.errors import LLMError
from rag.generation import chat_model
from rag.llm_http import ReplyTooLarge
from tests.openai_server import OpenAIServer, Reply
from tests.test_generation import on_server

REQUEST = httpx2.Request("POST", "http://127.0.0.1:8000/v1/chat/completions")
ASK = [HumanMessage("When did the bridge open?")]
REPLY = "The bridge opened in 1932."


def status_error(status: int, **headers: str) -> openai.APIStatusError:
    response = httpx2.Response(status, headers=headers, request=REQUEST)
    return openai.APIStatusError(f"Error code: {status}", response=response, body=None)


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250", "retry-after": "2"}, 0.25),  # the finer one first
        ({"retry-after": "0"}, 0.0),  # now
        ({"retry-after": "60"}, LONGEST_PAUSE),
        ({"retry-after-ms": "-5", "retry-after": "3"}, 3.0),
    ],
)
def test_a_server_that_says_when_to_retry_is_waited_for_up_to_a_bound(
    headers: dict[str, str], pause: float
) -> None:
    for status in (429, 500, 503):
        assert retry_pause(status_error(status, **headers), 2) == pause


@pytest.mark.parametrize(
    "headers",
    [{}, {"retry-after": "-1"}, {"retry-after": "soon"}, {"retry-after": "Wed, 21 Oct 2015"}],
)
def test_otherwise_the_pause_doubles_from_the_first_up_to_the_longest(
    headers: dict[str, str],
) -> None:
    pauses = [retry_pause(status_error(503, **headers), attempt) for attempt in range(6)]
    assert pauses == [FIRST_PAUSE, 1.0, 2.0, 4.0, LONGEST_PAUSE, LONGEST_PAUSE]
    refused = openai.APIConnectionError(request=REQUEST)
    assert [retry_pause(refused, attempt) for attempt in range(6)] == pauses


def test_what_a_retry_cannot_mend_is_not_retried() -> None:
    assert retry_pause(openai.APITimeoutError(REQUEST), 0) is None  # it may still be generating
    for status in (400, 401, 404, 409, 422, 499):
        assert retry_pause(status_error(status, **{"retry-after": "1"}), 0) is None
    assert retry_pause(openai.OpenAIError("no reply"), 0) is None
    too_big = openai.APIConnectionError(request=REQUEST)  # how the client wraps the cut
    too_big.__cause__ = ReplyTooLarge(cap=70_000, tokens=64)
    assert retry_pause(too_big, 0) is None  # it would send as much again


def test_the_options_of_one_attempt() -> None:
    bounds = Bounds(max_tokens=64, stop=("\n\nQ:",), seconds=5.0, retries=2)
    assert bounds.options(1, 2.5) == {
        "max_tokens": 64,
        "timeout": 2.5,
        "extra_headers": {"x-stainless-retry-count": "1"},
        "stop": ["\n\nQ:"],
        "extra_body": {"max_tokens": 64},
    }
    plain = Bounds(max_tokens=64, stop=(), seconds=5.0, retries=2, send_max_tokens=False)
    assert plain.options(0, -1.0) == {  # past the deadline: the shortest wait, not none
        "max_tokens": 64,
        "timeout": 0.001,
        "extra_headers": {"x-stainless-retry-count": "0"},
    }


def said(seen: list[tuple[Exception, int]]) -> Describe:
    """A ``Describe`` that keeps what it was given."""

    def describe(exc: Exception, retries: int) -> str:
        seen.append((exc, retries))
        return f"{type(exc).__name__} after {retries} retries: {exc}"

    return describe


@pytest.fixture
def llm(tmp_path: Path, server: OpenAIServer) -> Settings:
    return on_server(Settings(docs_dir=tmp_path, store_dir=tmp_path / "store"), server)


BOUNDS = Bounds(max_tokens=64, stop=("\n\nQ:",), seconds=5.0, retries=2)


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_a_call_retried_before_its_reply_sends_its_bounds_each_time(
    llm: Settings, server: OpenAIServer, streamed: bool
) -> None:
    server.script(Reply(status=503, error="Loading", headers={"retry-after-ms": "1"}), Reply(REPLY))
    seen: list[tuple[Exception, int]] = []
    model = chat_model(llm)
    if streamed:
        assert "".join(stream(model, ASK, BOUNDS, said(seen))) == REPLY
    else:
        assert invoke(model, ASK, BOUNDS, said(seen)) == REPLY
    assert seen == []
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]
    for request in server.requests:
        assert (request.body["max_tokens"], request.body["stop"]) == (64, ["\n\nQ:"])


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_a_call_that_keeps_failing_says_its_last_error_and_the_retries_taken(
    llm: Settings, server: OpenAIServer, streamed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(status=500, error="Boom", headers={"retry-after-ms": "1"}))
    seen: list[tuple[Exception, int]] = []
    with pytest.raises(LLMError) as raised, caplog.at_level(logging.INFO, logger="rag.bounds"):
        if streamed:
            list(stream(chat_model(llm), ASK, BOUNDS, said(seen)))
        else:
            invoke(chat_model(llm), ASK, BOUNDS, said(seen))
    assert len(server.requests) == 3 and len(seen) == 1
    (error, retries), cause = seen[0], raised.value.__cause__
    assert isinstance(error, openai.InternalServerError) and error is cause and retries == 2
    assert str(raised.value) == f"{type(error).__name__} after 2 retries: {error}"
    assert [r.getMessage() for r in caplog.records if r.name == "rag.bounds"] == [
        f"The LLM request failed ({type(error).__name__}); retry {n} in 0.00 s." for n in (1, 2)
    ]


def test_a_stream_cut_after_its_first_text_is_not_retried(
    llm: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(REPLY, cut_after=2), Reply(REPLY))
    seen: list[tuple[Exception, int]] = []
    shown: list[str] = []
    with pytest.raises(LLMError) as raised:
        for piece in stream(chat_model(llm), ASK, BOUNDS, said(seen)):
            shown.append(piece)
    assert shown == [REPLY[:7], REPLY[7:14]] and len(server.requests) == 1
    [(cut, retries)] = seen
    failure = raised.value.__cause__
    assert isinstance(failure, openai.APIConnectionError) and retries == 0
    assert isinstance(cut, ReplyCut) and cut.__cause__ is failure and str(cut) == str(failure)
    assert str(raised.value) == f"ReplyCut after 0 retries: {cut}"


def test_a_stream_that_stalls_after_its_first_text_says_it_timed_out(
    llm: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(REPLY, cut_after=1, stall=10), Reply(REPLY))
    seen: list[tuple[Exception, int]] = []
    shown: list[str] = []
    with pytest.raises(LLMError) as raised:
        for piece in stream(chat_model(llm), ASK, Bounds(64, (), 0.5, 2), said(seen)):
            shown.append(piece)
    assert shown == [REPLY[:7]] and len(server.requests) == 1
    [(stalled, retries)] = seen
    assert isinstance(stalled, openai.APITimeoutError) and retries == 0
    assert raised.value.__cause__ is stalled
    assert str(raised.value) == f"{type(stalled).__name__} after 0 retries: {stalled}"


def test_a_stream_still_arriving_at_its_deadline_is_ended_there(
    llm: Settings, server: OpenAIServer
) -> None:
    """The deadline is checked as each piece arrives (here the reader is the slow one)."""
    server.script(Reply(REPLY))
    seen: list[tuple[Exception, int]] = []
    pieces = stream(chat_model(llm), ASK, Bounds(64, (), 0.5, 2), said(seen))
    assert next(pieces) == REPLY[:7]
    time.sleep(0.6)
    with pytest.raises(LLMError) as raised:
        next(pieces)
    [(overtime, retries)] = seen
    assert isinstance(overtime, ReplyTimeout) and retries == 0
    assert raised.value.__cause__ is overtime
    assert str(raised.value) == "ReplyTimeout after 0 retries: no complete reply within 0.5 s"
