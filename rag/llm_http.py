"""The HTTP client of the model server: one deadline for each whole reply, and what it sent.

httpx's timeouts are per read: a server that trickles a reply (one byte every 0.2 s) never
trips them. This transport gives each request a deadline (its own timeout, which rag.bounds
sets to what is left of the call's deadline) and ends the reply there, however it trickles,
with ``httpx.ReadTimeout`` (the openai client's timeout error). It also keeps the first bytes
of each reply, so that an error about a malformed reply can say what the server sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

KEPT_BYTES = 200


class ReplyRecord(threading.local):
    """The first bytes of the last reply this thread received (per thread: calls run in many)."""

    body: bytes = b""


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, deadline: float, record: ReplyRecord) -> None:
        self.inner = inner
        self.deadline = deadline
        self.record = record

    def __iter__(self) -> Iterator[bytes]:
        self.record.body = b""
        for part in self.inner:
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout("the reply did not end before its deadline")
            if len(self.record.body) < KEPT_BYTES:
                self.record.body += part[: KEPT_BYTES - len(self.record.body)]
            yield part

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.HTTPTransport):
    """An ``httpx`` transport that ends each reply at its request's deadline."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record = ReplyRecord()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout") or {}
        seconds = timeout.get("read")
        started = time.monotonic()
        self.record.body = b""
        response = super().handle_request(request)
        if seconds is None:
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DeadlineStream(response.stream, started + float(seconds), self.record),
            extensions=response.extensions,
            request=request,
        )

    def last_reply(self) -> str:
        """The first bytes of this thread's last reply, as text on one line."""
        text = self.record.body.decode("utf-8", "replace")
        return " ".join(text.split())


def http_client(timeout: float) -> tuple[httpx.Client, DeadlineTransport]:
    transport = DeadlineTransport()
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=True), transport
