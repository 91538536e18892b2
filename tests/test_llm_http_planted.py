"""The model server's HTTP client (rag/llm_http.py) against a real HTTP server on 127.0.0.1:
the deadline counts from the request (a server slow to send its headers has less time for its
body), the size cap counts the whole reply however small its pieces, only the first bytes of a
reply are kept, either token-cap field sets the cap, and a cut reply is found behind an error
raised while handling it.

Tests written for deliberate bugs a review planted in rag/llm_http.py that the suite let
through."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from rag.llm_http import KEPT_BYTES, ReplyTooLarge, asked_tokens, http_client, reply_cap, too_large


class Server:
    """Serves the reply named by the request's path (``/late``, ``/pieces``, ``/text``)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    if self.path == "/late":  # headers after 0.8 s, the body over 0.5 s more
                        time.sleep(0.8)
                        self.pieces([b"x" * 10] * 10, 0.05)
                    elif self.path == "/pieces":  # 100 KiB in pieces of 1 KiB
                        self.pieces([b"y" * 1024] * 100, 0.0)
                    else:  # 1,500 bytes of text in ten pieces
                        self.pieces([bytes([48 + i]) * 150 for i in range(10)], 0.02)
                except OSError:
                    return  # the client hung up

            def pieces(self, parts: list[bytes], pause: float) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(sum(len(p) for p in parts)))
                self.end_headers()
                for part in parts:
                    time.sleep(pause)
                    self.wfile.write(part)
                    self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


def test_the_deadline_counts_from_the_request_not_the_headers(server: Server) -> None:
    """Headers at 0.8 s, the body until 1.3 s: past a 1.1 s deadline for the whole reply, though
    no single read waits that long."""
    client, _ = http_client(1.1)
    with client, pytest.raises(httpx.ReadTimeout, match="did not end before its deadline"):
        client.post(f"{server.url}/late", json={"max_tokens": 10})
    client, _ = http_client(5.0)
    with client:
        assert client.post(f"{server.url}/late", json={"max_tokens": 10}).content == b"x" * 100


def test_the_size_cap_counts_the_whole_reply_not_each_piece(server: Server) -> None:
    client, _ = http_client(10.0)
    with client:
        with pytest.raises(ReplyTooLarge) as caught:
            client.post(f"{server.url}/pieces", json={"max_tokens": 1})
        assert (caught.value.cap, caught.value.tokens) == (reply_cap(1), 1)
        assert len(client.post(f"{server.url}/pieces", json={"max_tokens": 100}).content) == 102400


def test_only_the_first_bytes_of_a_reply_are_kept(server: Server) -> None:
    client, transport = http_client(10.0)
    with client:
        reply = client.post(f"{server.url}/text", json={"max_tokens": 10}).content
    assert len(reply) == 1500
    assert transport.last_reply() == reply[:KEPT_BYTES].decode() == "0" * 150 + "1" * 50


def test_either_token_cap_field_sets_the_cap() -> None:
    def asked(body: dict[str, Any]) -> int:
        return asked_tokens(httpx.Request("POST", "http://127.0.0.1/v1", json=body))

    assert asked({"max_completion_tokens": 50}) == 50
    assert asked({"max_tokens": 30, "max_completion_tokens": 50}) == 50
    assert asked({"max_tokens": 80, "max_completion_tokens": 50}) == 80


def test_a_cut_reply_is_found_behind_an_error_raised_while_handling_it() -> None:
    """A client that raises its own error while handling the cut (no ``from``) chains it as
    the context, not the cause."""
    try:
        try:
            raise ReplyTooLarge(reply_cap(1), 1)
        except ReplyTooLarge:
            raise RuntimeError("the stream ended early")  # noqa: B904
    except RuntimeError as exc:
        wrapped = exc
    assert isinstance(too_large(wrapped), ReplyTooLarge)
