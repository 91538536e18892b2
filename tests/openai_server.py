"""A real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions wire format.

Replies are scripted (``server.script(Reply(...), ...)``) and every request is recorded, so a
test can assert what a client sent and how it handled what came back: JSON or SSE streaming,
slow replies and HTTP errors.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Body = dict[str, Any]
_PASSAGE = re.compile(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """One scripted reply: assistant text (or a function of the request body), or an error."""

    content: str | Callable[[Body], str] = ""
    status: int = 200
    delay: float = 0.0  # seconds before the first byte
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""  # the error message of a non-200 reply
    # Streamed: the connection drops after this many pieces of text (a server that crashed
    # mid-reply: its chunked body never ends; the client sees a connection error).
    cut_after: int | None = None
    # With cut_after: the server goes silent after those pieces instead (stalls), for this long.
    stall: float = 0.0

    def text(self, body: Body) -> str:
        return self.content(body) if callable(self.content) else self.content


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: Body

    @property
    def system(self) -> str:
        return str(self.body["messages"][0]["content"])

    @property
    def user(self) -> str:
        return str(self.body["messages"][-1]["content"])


def passages(body: Body) -> dict[int, str]:
    """The passages of an answer request, by id."""
    user = str(body["messages"][-1]["content"])
    return {int(n): text for n, text in _PASSAGE.findall(user)}


def passage_with(body: Body, words: str) -> int:
    """The id of the passage that contains ``words`` (so a scripted reply cites it right)."""
    for number, text in passages(body).items():
        if words in text:
            return number
    raise AssertionError(f"no passage contains {words!r}")


class OpenAIServer:
    """``with OpenAIServer() as server:`` serves ``server.url`` until the block ends."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies; the last one repeats."""
        with self._lock:
            self._script = list(replies)

    def next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if not self._script:
                return Reply(status=500, error="no reply scripted")
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops."""
        self._stopping.wait(seconds)

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is part of the script


def _handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.next_reply(Request(self.path, headers, body))
            server.wait(reply.delay)
            if self.path != "/v1/chat/completions":
                self._json(404, _error(404, f"Unknown path {self.path}"), reply.headers)
            elif reply.status != 200:
                self._json(reply.status, _error(reply.status, reply.error), reply.headers)
            elif body.get("stream") and reply.cut_after is not None:
                self._cut_stream(body, reply.text(body), reply.cut_after, reply.stall)
            elif body.get("stream"):
                self._stream(body, reply.text(body))
            else:
                self._json(200, _completion(body, reply.text(body)), reply.headers)

        def _json(self, status: int, payload: Body, headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: Body, text: str) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
            deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
            for delta in deltas:
                self._event(_chunk(body, delta, None))
            self._event(_chunk(body, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _cut_stream(self, body: Body, text: str, pieces: int, stall: float = 0.0) -> None:
            """HTTP/1.1 chunked, ``pieces`` pieces of seven characters, then (after ``stall``
            seconds of silence) the socket closed before the body's last chunk."""
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for i in range(pieces):
                delta = {"content": text[i * 7 : (i + 1) * 7]}
                event = f"data: {json.dumps(_chunk(body, delta, None))}\n\n".encode()
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()
            server.wait(stall)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _event(self, payload: Body) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

    return Handler


def _error(status: int, message: str) -> Body:
    kind = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


def _completion(body: Body, text: str) -> Body:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _chunk(body: Body, delta: Body, finish: str | None) -> Body:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
