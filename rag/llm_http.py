"""The HTTP client of the model server: one deadline for each whole reply, and what it sent.

httpx's timeouts are per read: a server that trickles a reply (one byte every 0.2 s) never
trips them. This transport gives each request a deadline (its own timeout, which rag.bounds
sets to what is left of the call's deadline) and ends the reply there, however it trickles,
with ``httpx.ReadTimeout`` (the openai client's timeout error). It also keeps the first bytes
of each reply, so that an error about a malformed reply can say what the server sent.

The deadline also holds while the reply's status line and headers arrive: httpx reads them
with its per-read timeout too, so a server that trickled its headers one byte a second held the
call for hours (h11 takes up to 64 KiB of them). The connection's reads and writes wait at
most what is left of the deadline until the headers are in (``_HeaderDeadline``).

A reply is also cut at a size no honest reply to its request reaches (``reply_cap``: 2 KiB per
token asked, streamed events included, plus 64 KiB), with ``ReplyTooLarge``: a server that
ignores the token cap cannot fill the memory before the deadline (on 127.0.0.1 it sends a
gigabyte in a second or two).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx

from rag.errors import LLMError

KEPT_BYTES = 200
BYTES_PER_TOKEN = 2048
BASE_BYTES = 64 * 1024
DEFAULT_TOKENS = 4096  # a request that names no token cap


class ReplyTooLarge(httpx.ReadError):
    """The reply went past ``reply_cap`` of its request: the server ignores the token cap."""

    def __init__(self, cap: int, tokens: int) -> None:
        super().__init__(f"the reply went past {cap:,} bytes for at most {tokens:,} tokens")
        self.cap = cap
        self.tokens = tokens


def too_large(exc: BaseException) -> ReplyTooLarge | None:
    """The ``ReplyTooLarge`` behind ``exc`` (the openai and LangChain clients wrap it), if any."""
    link: BaseException | None = exc
    for _ in range(6):
        if link is None or isinstance(link, ReplyTooLarge):
            return link
        link = link.__cause__ or link.__context__
    return None


def asked_tokens(request: httpx.Request) -> int:
    """The token cap a chat request names (``max_tokens`` or ``max_completion_tokens``)."""
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, httpx.RequestNotRead):
        return DEFAULT_TOKENS
    values = [body.get(key) for key in ("max_tokens", "max_completion_tokens")]
    found = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return max(found) if found else DEFAULT_TOKENS


def reply_cap(tokens: int) -> int:
    return BASE_BYTES + BYTES_PER_TOKEN * tokens


class ReplyRecord(threading.local):
    """The first bytes of the last reply this thread received (per thread: calls run in many)."""

    body: bytes = b""


class _HeaderDeadline(threading.local):
    """The deadline of the request whose status line and headers this thread is reading (a
    connection is used by one request, in one thread, until its headers are in)."""

    at: float = float("inf")

    def left(self, timeout: float | None, late: type[Exception]) -> float | None:
        """``timeout``, shortened to what is left of the deadline; ``late`` once it passed."""
        if self.at == float("inf"):
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise late("the reply's headers did not arrive before its deadline")
        return left if timeout is None else min(timeout, left)


class _DeadlineNetworkStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _HeaderDeadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = self.deadline.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineNetworkStream(
            self.inner.start_tls(ssl_context, server_hostname, left), self.deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: _HeaderDeadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = self.deadline.left(timeout, httpcore.ConnectTimeout)
        stream = self.inner.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineNetworkStream(stream, self.deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        left = self.deadline.left(timeout, httpcore.ConnectTimeout)
        stream = self.inner.connect_unix_socket(path, left, socket_options)
        return _DeadlineNetworkStream(stream, self.deadline)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


# Compressed replies are unpacked here, so that the cap counts what they unpack to (a gzip
# reply of 200 KB, well under the cap, unpacked to 200 MB: 1.4 GB of memory for one answer).
# We ask for none (Accept-Encoding: identity); these are what a server may send anyway.
_ZLIB_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + 15}


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(
        self, inner: Any, deadline: float, record: ReplyRecord, tokens: int, encoding: str = ""
    ) -> None:
        self.inner = inner
        self.deadline = deadline
        self.record = record
        self.tokens = tokens
        self.encoding = encoding

    def __iter__(self) -> Iterator[bytes]:
        self.record.body = b""
        cap, size = reply_cap(self.tokens), 0
        unpack = zlib.decompressobj(_ZLIB_WBITS[self.encoding]) if self.encoding else None
        for part in self.inner:
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout("the reply did not end before its deadline")
            if unpack is not None:
                try:  # never more than the cap allows, however small the packed part
                    part = unpack.decompress(part, cap - size + 1)
                except zlib.error as exc:
                    raise httpx.DecodingError(f"a {self.encoding} reply that is not") from exc
            size += len(part)
            if size > cap:
                raise ReplyTooLarge(cap, self.tokens)
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
        self.headers_deadline = _HeaderDeadline()
        pool = self._pool  # httpcore's pool: its connections read through the backend
        backend = getattr(pool, "_network_backend", None) or httpcore.SyncBackend()
        pool._network_backend = _DeadlineBackend(backend, self.headers_deadline)  # type: ignore[union-attr]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout") or {}
        seconds = timeout.get("read")
        started = time.monotonic()
        self.record.body = b""
        deadline = started + (float(seconds) if seconds is not None else float("inf"))
        self.headers_deadline.at = deadline
        request.headers["accept-encoding"] = "identity"
        try:
            response = super().handle_request(request)
        finally:
            self.headers_deadline.at = float("inf")  # the body: _DeadlineStream's check
        headers = response.headers
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            encoding = ""
        elif encoding in _ZLIB_WBITS:  # unpacked by _DeadlineStream, within the cap
            headers = headers.copy()
            del headers["content-encoding"]
            headers.pop("content-length", None)
        else:  # br, zstd, or several: httpx would unpack them past any cap
            response.close()
            raise httpx.DecodingError(f"a reply in {encoding!r}, which was not asked for")
        tokens = asked_tokens(request)
        return httpx.Response(
            status_code=response.status_code,
            headers=headers,
            stream=_DeadlineStream(response.stream, deadline, self.record, tokens, encoding),
            extensions=response.extensions,
            request=request,
        )

    def last_reply(self) -> str:
        """The first bytes of this thread's last reply, as text on one line."""
        text = self.record.body.decode("utf-8", "replace")
        return " ".join(text.split())


def http_client(timeout: float, proxy: str | None = None) -> tuple[httpx.Client, DeadlineTransport]:
    """The model's HTTP client, through ``proxy`` if one is given (``environment_proxy``).
    Redirects are not followed: one to another address sent the question and every passage
    there (the key stays behind, the documents do not); a redirect is an error that names
    where it pointed (generation.py)."""
    transport = DeadlineTransport(proxy=proxy) if proxy else DeadlineTransport()
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False), transport


def environment_proxy(base_url: str) -> str | None:
    """The proxy HTTPS_PROXY, HTTP_PROXY or ALL_PROXY (any case) names for ``base_url``, unless
    NO_PROXY exempts its host, and never for a server on this machine: a local model server
    stays direct when the proxy settings of a network are in the environment. httpx reads
    these itself only without a transport of ours, so the client ignored them: behind a
    proxy, OpenAI could not be reached."""
    import ipaddress
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    local = host == "localhost" or host.endswith(".localhost")
    try:
        address = ipaddress.ip_address(host)
        mapped = getattr(address, "ipv4_mapped", None) or address
        local = local or mapped.is_loopback or mapped.is_unspecified  # 0.0.0.0: this machine
    except ValueError:
        pass  # a host name
    if not host or local:
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme.lower()) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):  # NO_PROXY
        return None
    if "://" not in proxy:  # "proxy.corp:3128", as curl, requests and httpx read it
        proxy = f"http://{proxy}"
    if urlsplit(proxy).scheme.lower() not in ("http", "https"):
        # socks and the like (httpx needs an extra package): going around the proxy the
        # environment names would send the documents by a way the network did not choose.
        raise LLMError(
            f"The proxy for {parts.scheme}:// requests is a {urlsplit(proxy).scheme}:// proxy, "
            "which the model's client cannot use: name an http:// proxy in HTTPS_PROXY or "
            f"HTTP_PROXY, or add {host} to NO_PROXY to reach it directly."
        )
    return proxy
