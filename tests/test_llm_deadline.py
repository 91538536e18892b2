"""Bounded model calls (issue 20 item 4, probes L4 and L6), against a real HTTP server on
127.0.0.1 that misbehaves: it trickles its reply one byte every 0.2 s, or sends what is not an
OpenAI chat completion. Every call ends at its deadline with an ``LLMError`` that names the
server (and, for a malformed reply, what it sent)."""

from __future__ import annotations

import functools
import gzip
import json
import resource
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import rag
from rag.config import Settings
from rag.errors import LLMError

QUESTION = "Who is the president of Serbia?"
COMPLETION = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Vučić [1]."}}],
}


# Replies of a server that ignores the token cap: 3,000 cited claims; a marker of 5,000 digits.
CONTENT = {
    "flood": " ".join(
        f"Aleksandar Vučić is the president of Serbia, says note {i} [1]." for i in range(3000)
    ),
    "huge-marker": "Aleksandar Vučić is the president of Serbia [" + "1" * 5000 + "] [1].",
}


@functools.cache
def packed(mode: str, streamed: bool) -> bytes:
    """The gzip body of a "gzip" or "gzip-bomb" reply (made once: the bomb takes a second)."""
    content = "Aleksandar Vučić is the president of Serbia [1]."
    if mode == "gzip-bomb":
        content = "a" * (200 * 2**20)
    if streamed:
        event = {"choices": [{"index": 0, "delta": {"content": content}}]}
        raw = f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode()
    else:
        reply = {**COMPLETION, "choices": [{"index": 0, "message": {
            "role": "assistant", "content": content}}]}  # fmt: skip
        raw = json.dumps(reply).encode()
    return gzip.compress(raw, 6)


class Misbehaving:
    """Serves one behaviour (``mode``) on every request until closed."""

    def __init__(self) -> None:
        self.mode = "trickle"
        self.stop = threading.Event()
        self.arrived: list[float] = []  # when each request arrived (time.monotonic)
        self.sent = 0  # bytes of the last "endless" reply the client took
        self.accept_encoding: str | None = None  # what the last gzip request accepted
        self.redirect_to = ""  # "redirect" mode: where each request is sent on
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.serve(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def serve(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        self.arrived.append(time.monotonic())
        streamed = bool(body.get("stream"))
        if self.mode == "endless":
            self.endless(handler, streamed)
            return
        if self.mode == "headers":
            self.trickled_headers(handler)
            return
        if self.mode == "redirect":
            handler.send_response(307)
            handler.send_header("location", self.redirect_to)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        if self.mode.startswith("gzip"):
            self.gzipped(handler, streamed)
            return
        if self.mode == "trickle":
            data = (
                b'data: {"choices": [{"index": 0, "delta": {"content": "Vu"}}]}\n\n' * 200
                if streamed
                else json.dumps(COMPLETION).encode() + b" " * 2000
            )
            kind = "text/event-stream" if streamed else "application/json"
        elif self.mode in CONTENT:  # a completion, all at once (one event when streamed)
            content = CONTENT[self.mode]
            if streamed:
                delta = {"choices": [{"index": 0, "delta": {"content": content}}]}
                data = f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n".encode()
                kind = "text/event-stream"
            else:
                reply = {**COMPLETION, "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": content}}]}  # fmt: skip
                data, kind = json.dumps(reply).encode(), "application/json"
        elif self.mode == "not-json":
            data, kind = b"<html>502 Bad Gateway from the proxy</html>", "application/json"
        else:  # "no-choices": JSON, but no completion
            data, kind = json.dumps({"object": "error", "detail": "oops"}).encode(), "text/json"
        handler.send_response(200)
        handler.send_header("content-type", kind)
        if not streamed or self.mode not in ("trickle", *CONTENT):
            handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        try:
            if self.mode != "trickle":
                handler.wfile.write(data)
                return
            for i in range(len(data)):
                if self.stop.wait(0.2):
                    return
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
        except OSError:
            return  # the client hung up at its deadline

    def endless(self, handler: BaseHTTPRequestHandler, streamed: bool) -> None:
        """A reply that ignores the token cap: 1 MB pieces, up to 400 MB, as fast as taken."""
        piece = "ab " * 350_000
        handler.send_response(200)
        if streamed:
            handler.send_header("content-type", "text/event-stream")
            event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            first, part = b"", f"data: {json.dumps(event)}\n\n".encode()
        else:
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(400 * 2**20))
            first = b'{"id": "x", "object": "chat.completion", "created": 0, "model": "m", '
            first += b'"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
            part = piece.encode()
        handler.end_headers()
        self.sent = 0
        try:
            handler.wfile.write(first)
            while self.sent < 400 * 2**20 and not self.stop.is_set():
                handler.wfile.write(part)
                self.sent += len(part)
        except OSError:
            return  # the client hung up

    def gzipped(self, handler: BaseHTTPRequestHandler, streamed: bool) -> None:
        """A gzip reply: a cited answer ("gzip"), or 200 MB packed into 200 KB ("gzip-bomb")."""
        data = packed(self.mode, streamed)
        self.accept_encoding = handler.headers.get("accept-encoding")
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream" if streamed else "application/json")
        handler.send_header("content-encoding", "gzip")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except OSError:
            return  # the client hung up at the cap

    def trickled_headers(self, handler: BaseHTTPRequestHandler) -> None:
        """The status line, then one byte of a header every 0.2 s: the headers never end."""
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nx-pad: ")
            handler.wfile.flush()
            while not self.stop.wait(0.2):
                handler.wfile.write(b"a")
                handler.wfile.flush()
        except OSError:
            return  # the client hung up at its deadline

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def bad_server() -> Iterator[Misbehaving]:
    server = Misbehaving()
    yield server
    server.close()


@pytest.fixture
def llm(seeded: Settings, bad_server: Misbehaving) -> Settings:
    return seeded.with_(llm="openai", openai_base_url=bad_server.url, model="m", llm_timeout=2.0)


@pytest.mark.parametrize("call", ["answer", "stream", "follow-up"])
def test_a_trickled_reply_ends_at_the_deadline(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """L4: one byte every 0.2 s kept `rag ask` running past 120 s (the timeout was per read)."""
    from rag.generation import chat_model

    rag.answer(QUESTION, settings=llm.with_(llm="extractive"))  # models loaded: time the call
    chat_model(llm)  # the client imported and built
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        if call == "answer":
            rag.answer(QUESTION, settings=llm)
        elif call == "stream":
            list(rag.stream_answer(QUESTION, settings=llm))
        else:  # the follow-up rewrite is a model call of its own
            history = [(QUESTION, "Aleksandar Vučić [1]")]
            rag.answer("Who will he speak with?", history=history, settings=llm)
    ended = time.monotonic()
    assert len(bad_server.arrived) == 1  # one call, not retried
    took = ended - bad_server.arrived[0]  # the model call alone (the machine may be busy)
    assert f"The LLM server at {llm.openai_base_url} did not finish its reply within 2 s" in str(
        caught.value
    )
    assert took < 2.0 + 0.5, took
    print(f"{call}: ended {took:.2f} s after the request, {ended - started:.2f} s in all")


@pytest.mark.parametrize("call", ["answer", "stream"])
def test_headers_trickled_one_byte_at_a_time_end_at_the_deadline(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """A server that sends its status line, then one header byte every 0.2 s: httpx reads the
    headers with its per-read timeout (the body alone had the deadline), so the call ran on
    for hours (h11 waits for up to 64 KiB of headers); now it ends at RAG_LLM_TIMEOUT."""
    bad_server.mode = "headers"
    rag.answer(QUESTION, settings=llm.with_(llm="extractive"))  # models loaded: time the call
    outcome: list[BaseException | object] = []

    def call_model() -> None:
        try:
            if call == "answer":
                outcome.append(rag.answer(QUESTION, settings=llm))
            else:
                outcome.append(list(rag.stream_answer(QUESTION, settings=llm)))
        except BaseException as exc:  # the test looks at it
            outcome.append(exc)

    caller = threading.Thread(target=call_model, daemon=True)  # the old code never returns
    caller.start()
    caller.join(timeout=15)
    assert not caller.is_alive(), "the call was still waiting for the headers after 15 s"
    took = time.monotonic() - bad_server.arrived[0]
    [error] = outcome
    assert isinstance(error, LLMError)
    assert f"at {llm.openai_base_url} did not finish its reply within 2 s" in str(error)
    assert len(bad_server.arrived) == 1  # not retried
    assert took < 2.0 + 0.5, took


@pytest.mark.parametrize("call", ["answer", "stream"])
def test_a_redirect_is_not_followed_and_names_where_it_pointed(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """Review: a 307 from the configured server to another address made the client send the
    question and every passage there. Now nothing goes on, and the error says where it
    pointed."""
    elsewhere = Misbehaving()
    elsewhere.mode = "flood"  # would answer, were it asked
    try:
        bad_server.mode = "redirect"
        bad_server.redirect_to = f"{elsewhere.url}/chat/completions"
        with pytest.raises(LLMError) as caught:
            if call == "answer":
                rag.answer(QUESTION, settings=llm)
            else:
                list(rag.stream_answer(QUESTION, settings=llm))
    finally:
        elsewhere.close()
    assert elsewhere.arrived == []  # nothing was sent on
    assert len(bad_server.arrived) == 1  # and a redirect is not retried
    assert str(caught.value) == (
        f"The LLM server at {llm.openai_base_url} redirected the request (307) to "
        f"'{elsewhere.url}/chat/completions', which is not followed (the question and "
        f"passages would go to another address): set OPENAI_BASE_URL={elsewhere.url} if you "
        "trust it."
    )


@pytest.mark.parametrize(
    ("location", "base"),
    [
        ("https://llm.example.test/v1/chat/completions", "https://llm.example.test/v1"),
        ("/v2/chat/completions", "http://llm.example.test/v2"),
        ("https://llm.example.test/other", ""),
    ],
)
def test_a_redirect_says_which_base_url_it_amounts_to(location: str, base: str) -> None:
    """Review: the redirect error said to set OPENAI_BASE_URL to the address the redirect
    names, which is the endpoint (.../v1/chat/completions: the client then asked for
    .../chat/completions/chat/completions) or only a path ('/v2/chat/completions': not a
    URL, refused). Now it names the base URL that address amounts to."""
    import httpx
    import openai

    from rag.generation import _error_message

    settings = Settings(llm="openai", model="m", openai_base_url="http://llm.example.test/v1")
    request = httpx.Request("POST", "http://llm.example.test/v1/chat/completions")
    response = httpx.Response(308, headers={"location": location}, request=request)
    message = _error_message(openai.APIStatusError("moved", response=response, body=None), settings)
    assert f"redirected the request (308) to {location!r}" in message
    if base:
        assert message.endswith(f"set OPENAI_BASE_URL={base} if you trust it.")
    else:
        assert message.endswith("set OPENAI_BASE_URL to the server it names (ending in /v1) if "
                                "you trust it.")  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "sent"),
    [
        ("not-json", "<html>502 Bad Gateway from the proxy</html>"),
        ("no-choices", '{"object": "error", "detail": "oops"}'),
    ],
)
def test_a_malformed_reply_names_the_server_and_what_it_sent(
    llm: Settings, bad_server: Misbehaving, mode: str, sent: str
) -> None:
    """L6: "unexpected JSONDecodeError" / "No generation chunks were returned" named nothing."""
    bad_server.mode = mode
    with pytest.raises(LLMError) as caught:
        rag.answer(QUESTION, settings=llm)
    message = str(caught.value)
    assert message.startswith(f"The LLM server at {bad_server.url} sent a reply that is not an ")
    assert repr(sent) in message
    assert "OPENAI_BASE_URL" in message


@pytest.mark.parametrize("call", ["answer", "stream"])
def test_a_flood_of_cited_claims_is_checked_within_bounds(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """A server that ignores the token cap sends 3,000 cited claims at once: the old checker ran
    the reader for each marker after the reply had arrived (about 10 ms each: 30 s, past any
    deadline). Only the first MAX_CHECKED_MARKERS are checked; the claims after them count as
    unsupported and are left out of the answer."""
    from rag.citations import MAX_CHECKED_MARKERS

    bad_server.mode = "flood"
    rag.answer(QUESTION, settings=llm.with_(llm="extractive"))  # models loaded: time the call
    roomy = llm.with_(llm_timeout=30.0)  # the checks, not the deadline, must end it
    if call == "answer":
        answer = rag.answer(QUESTION, settings=roomy)
    else:
        answer = list(rag.stream_answer(QUESTION, settings=roomy))[-1]
        assert isinstance(answer, rag.Answer)
    took = time.monotonic() - bad_server.arrived[0]
    assert not answer.refused and answer.citations[0].verified
    assert answer.text.count("says note") == MAX_CHECKED_MARKERS
    assert "says note 99 [1]." in answer.text and "says note 100 " not in answer.text
    assert len(answer.unsupported) == 3000 - MAX_CHECKED_MARKERS
    assert took < 15, took  # the old checker: about 30 s here (1.5-1.7 s now)
    print(f"{call}: {took:.2f} s after the request")


def test_a_marker_of_thousands_of_digits_is_dropped(llm: Settings, bad_server: Misbehaving) -> None:
    """Python's int() refuses over 4,300 digits: the old checker's ValueError came out as "not
    an OpenAI chat completion"."""
    bad_server.mode = "huge-marker"
    answer = rag.answer(QUESTION, settings=llm)
    assert answer.text == "Aleksandar Vučić is the president of Serbia [1]."
    assert answer.citations[0].verified


@pytest.mark.parametrize("call", ["answer", "stream"])
def test_a_reply_past_any_honest_size_is_cut_at_once(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """A server that ignores the token cap and sends 400 MB as fast as it is taken: the old
    client read it all (the answer) or kept reading to the deadline (the stream), holding it in
    memory. Now it is cut past 2 KiB a token asked (864 KiB for 400 tokens), not retried."""
    bad_server.mode = "endless"
    slow = llm.with_(llm_timeout=20.0)
    rag.answer(QUESTION, settings=llm.with_(llm="extractive"))  # models loaded
    with pytest.raises(LLMError) as caught:
        if call == "answer":
            rag.answer(QUESTION, settings=slow)
        else:
            list(rag.stream_answer(QUESTION, settings=slow))
    took = time.monotonic() - bad_server.arrived[0]
    assert str(caught.value) == (
        f"The LLM server at {bad_server.url} sent more than 884,736 bytes for a reply of at most "
        "400 tokens, so it was cut (not retried): the server ignores the token cap "
        "(RAG_LLM_MAX_TOKENS); check the server at OPENAI_BASE_URL."
    )
    assert len(bad_server.arrived) == 1  # not retried
    time.sleep(0.5)  # the server's last write fails once the client has hung up
    assert bad_server.sent < 64 * 2**20, bad_server.sent  # socket buffers: a few MB at most
    assert took < 10, took
    print(f"{call}: cut {took:.2f} s after the request; the server wrote {bad_server.sent:,} B")


@pytest.mark.parametrize("call", ["answer", "stream"])
def test_a_gzip_reply_is_capped_at_what_it_unpacks_to(
    llm: Settings, bad_server: Misbehaving, call: str
) -> None:
    """The cap counted the bytes on the wire: a gzip reply of 200 KB, a quarter of the cap,
    unpacked to 200 MB, and the answer took 1.4 GB of memory and 40 s. Now the unpacked bytes
    count (and none is asked for); an honest gzip reply still answers."""
    rag.answer(QUESTION, settings=llm.with_(llm="extractive"))  # models loaded

    def ask() -> rag.Answer:
        if call == "answer":
            return rag.answer(QUESTION, settings=llm.with_(llm_timeout=30.0))
        *_, answer = rag.stream_answer(QUESTION, settings=llm.with_(llm_timeout=30.0))
        assert isinstance(answer, rag.Answer)
        return answer

    bad_server.mode = "gzip"
    honest = ask()
    assert honest.text == "Aleksandar Vučić is the president of Serbia [1]."

    bad_server.mode = "gzip-bomb"
    packed("gzip-bomb", call == "stream")  # the server's own memory, before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(LLMError) as caught:
        ask()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert str(caught.value).startswith(
        f"The LLM server at {bad_server.url} sent more than 884,736 bytes for a reply of at most "
        "400 tokens, so it was cut (not retried)"
    )
    assert len(bad_server.arrived) == 2  # the bomb was not retried
    assert grown < 100 * 1024, f"{grown} KiB"  # the old client: over 1 GB
    assert bad_server.accept_encoding == "identity"
