"""The page trusts only itself: requests must name this server as their Host, and a browser's
cross-origin request (an Origin that is not this page) is refused.

This stops DNS rebinding (a site whose name resolves to 127.0.0.1 cannot talk to the page, since
its requests carry its own name as Host) and cross-site requests (a form on another site cannot
post to the delete endpoint). Gradio's own CORS check trusts any Origin when the Host is not
localhost, so this guard runs outside it, before any of Gradio's middleware.

Every HTTP response also forbids framing (``X-Frame-Options: DENY`` and CSP
``frame-ancestors 'none'``): another site cannot show the page in an iframe and steer clicks.

A request body over ``MAX_BODY_BYTES`` gets 413 before anything reads it (Gradio and the role
check would read it whole into memory, signed in or not: 800 MB sent to ``queue/join`` by nobody
signed in grew the page by 2.4 GB). Gradio's file upload is exempt: it streams files to disk
and stops each at the upload cap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ANY_ADDRESS = ("0.0.0.0", "::", "")
NO_FRAMING = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
# The largest body the page reads: a question, or a conversation the browser kept (its storage
# holds 5-10 MB). Gradio's file upload streams to disk under its own cap (ui/app.py).
MAX_BODY_BYTES = 16 * 1024 * 1024
STREAMED_PATHS = ("/gradio_api/upload",)
TOO_LARGE = (
    f"The request is over {MAX_BODY_BYTES // (1024 * 1024)} MiB, more than any question or "
    "conversation: ask a shorter question, or clear the conversation; documents go through the "
    "Upload box."
)


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` header values this server answers: loopback names, ``host`` and ``extra``,
    each with ``port`` (and without it when the port is HTTP's default, 80)."""
    names = {*LOOPBACK_NAMES, *extra}
    if host not in ANY_ADDRESS:
        names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    values = {f"{name.lower()}:{port}" for name in names}
    if port == 80:
        values |= {name.lower() for name in names}
    return frozenset(values)


class HostGuard:
    """ASGI middleware: 403 for a foreign ``Host`` or a foreign ``Origin``, 413 for a body over
    ``MAX_BODY_BYTES``; every HTTP response gets the no-framing headers."""

    def __init__(
        self, app: ASGIApp, hosts: frozenset[str], before_body: BeforeBody | None = None
    ) -> None:
        self.app = app
        self.hosts = hosts
        # The inner guard's answer to a request that need not be read at all (ui/auth.py:
        # nobody signed in), asked before its body is.
        self.before_body = before_body
        self.origins = frozenset(f"{scheme}://{h}" for h in hosts for scheme in ("http", "https"))

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused, or None."""
        headers = Headers(scope=scope)
        host = headers.get("host", "").strip().lower()
        if host not in self.hosts:
            return (
                f"Host {host!r} is not this server: open the page at its own address "
                "(see rag ui --host, RAG_ALLOWED_HOSTS)."
            )
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower().rstrip("/") not in self.origins:
            return f"Requests from {origin!r} are not accepted: use the page itself."
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = no_framing(send)
        if scope["type"] in ("http", "websocket"):
            reason = self.refusal(scope)
            if reason is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await PlainTextResponse(reason, status_code=403)(scope, receive, send)
                return
        early = self.before_body(scope) if self.before_body and scope["type"] == "http" else None
        if early is not None:
            await early(scope, receive, send)
            return
        if scope["type"] == "http" and str(scope.get("path", "")).rstrip("/") not in STREAMED_PATHS:
            messages = await bounded_body(scope, receive)
            if messages is None:
                await PlainTextResponse(TOO_LARGE, status_code=413)(scope, receive, send)
                return
            receive = replay(messages, receive)
        await self.app(scope, receive, send)


async def bounded_body(scope: Scope, receive: Receive) -> list[Message] | None:
    """The messages of the request's body, read whole, or None when it is over
    ``MAX_BODY_BYTES`` (declared by its ``Content-Length``, or counted as it arrives: a chunked
    body declares nothing)."""
    declared = Headers(scope=scope).get("content-length", "").strip()
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            return None
        if message.get("type") != "http.request" or not message.get("more_body"):
            return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that gives ``messages`` (a body read ahead) first, then the client's own."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def no_framing(send: Send) -> Send:
    """``send`` that adds the no-framing headers to the response start (replacing any)."""
    names = {name for name, _ in NO_FRAMING}

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() not in names
            ]
            message = {**message, "headers": [*headers, *NO_FRAMING]}
        await send(message)

    return send_with_headers


Wrap = Callable[[ASGIApp, Any], ASGIApp]
BeforeBody = Callable[[Scope], ASGIApp | None]


def guard_lifespan(
    hosts: frozenset[str], inner: Wrap | None = None
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that wraps the app's whole middleware stack in ``HostGuard``.

    The lifespan runs when the server starts, before it accepts a connection, and after the app
    built its middleware (so Gradio's CORS middleware is inside the guard, not around it).
    ``inner(stack, app)``, if given, wraps the stack first (inside the Host check): the role
    check of a shared page (ui/auth.py), whose ``before_body(scope)``, if it has one, may answer
    a request before its body is read.
    """

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stack = app.middleware_stack
        if stack is None:
            stack = app.middleware_stack = app.build_middleware_stack()
        if not isinstance(stack, HostGuard):
            if inner is not None:
                stack = inner(stack, app)
            app.middleware_stack = HostGuard(stack, hosts, getattr(stack, "before_body", None))
        yield

    return lifespan
