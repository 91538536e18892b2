"""ui/guard.py on its own: which Host and Origin values the page answers (fast, no server).

The browser tests drive the guard through a real server; these pin each rule so that mutation
testing (tests/README.md) can judge the module with fast tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ui.guard import (
    MAX_BODY_BYTES,
    NO_FRAMING,
    TOO_LARGE,
    HostGuard,
    allowed_hosts,
    guard_lifespan,
)


def call(hosts: frozenset[str], kind: str, headers: dict[str, str]) -> tuple[list[Any], bool]:
    """What the guard sends for one request, and whether the app behind it ran."""
    sent: list[Any] = []
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": kind,
        "path": "/",
        "method": "GET",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(HostGuard(app, hosts)(scope, receive, send))
    return sent, bool(reached)


def body(sent: list[Any]) -> str:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()


def test_allowed_hosts_are_loopback_names_the_host_and_extras_with_the_port() -> None:
    assert allowed_hosts("127.0.0.1", 7860) == frozenset(
        {"127.0.0.1:7860", "localhost:7860", "[::1]:7860"}
    )
    assert allowed_hosts("0.0.0.0", 8000, ["Chat.Example.ORG"]) == frozenset(
        {"127.0.0.1:8000", "localhost:8000", "[::1]:8000", "chat.example.org:8000"}
    )
    assert "[fe80::1]:7860" in allowed_hosts("fe80::1", 7860)  # an IPv6 address, bracketed
    assert "[fe80::1]:7860" in allowed_hosts("[fe80::1]", 7860)  # bracketed once only
    assert "10.0.0.5:7860" in allowed_hosts("10.0.0.5", 7860)
    assert allowed_hosts("::", 7860) == allowed_hosts("", 7860) == allowed_hosts("0.0.0.0", 7860)
    assert allowed_hosts("127.0.0.1", 80) == frozenset(
        {"127.0.0.1:80", "localhost:80", "[::1]:80", "127.0.0.1", "localhost", "[::1]"}
    )


def test_a_foreign_host_gets_403_with_the_reason() -> None:
    hosts = allowed_hosts("127.0.0.1", 7860)
    sent, reached = call(hosts, "http", {"Host": "evil.example:7860"})
    assert not reached and sent[0]["status"] == 403
    assert body(sent) == (
        "Host 'evil.example:7860' is not this server: open the page at its own address "
        "(see rag ui --host, RAG_ALLOWED_HOSTS)."
    )
    sent, reached = call(hosts, "http", {})  # no Host at all
    assert not reached and sent[0]["status"] == 403 and "Host '' is not" in body(sent)


def test_the_host_is_compared_without_case_or_spaces() -> None:
    hosts = allowed_hosts("127.0.0.1", 7860)
    sent, reached = call(hosts, "http", {"Host": " LocalHost:7860 "})
    assert reached and sent == []


def test_a_foreign_origin_is_refused_and_the_own_origin_passes() -> None:
    hosts = allowed_hosts("127.0.0.1", 7860)
    own = {"Host": "127.0.0.1:7860"}
    sent, reached = call(hosts, "http", {**own, "Origin": "http://evil.example"})
    assert not reached and sent[0]["status"] == 403
    assert (
        body(sent) == "Requests from 'http://evil.example' are not accepted: use the page itself."
    )
    for origin in ("http://127.0.0.1:7860", "https://LOCALHOST:7860/", " http://[::1]:7860 "):
        sent, reached = call(hosts, "http", {**own, "Origin": origin})
        assert reached and sent == [], origin
    sent, reached = call(hosts, "http", {**own, "Origin": "http://127.0.0.1:7861"})
    assert not reached
    sent, reached = call(hosts, "websocket", {**own, "Origin": "null"})
    assert sent == [{"type": "websocket.close", "code": 1008}] and not reached


def test_the_app_gets_the_request_as_it_came() -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        return {}

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"host", b"127.0.0.1:7860")]}
    asyncio.run(HostGuard(app, allowed_hosts("127.0.0.1", 7860))(scope, receive, send))
    # The scope as it came; the body read first (to check its size), then given as it came;
    # send wrapped only to add the no-framing headers.
    assert [s for s, _, _ in seen] == [scope]
    assert asyncio.run(seen[0][1]()) == {}
    body = {"type": "http.response.body", "body": b"x"}
    asyncio.run(seen[0][2](body))
    assert sent == [body]


def test_a_websocket_gets_the_request_as_it_came() -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "websocket", "headers": [(b"host", b"127.0.0.1:7860")]}
    asyncio.run(HostGuard(app, allowed_hosts("127.0.0.1", 7860))(scope, receive, send))
    assert seen == [(scope, receive, send)]


def test_other_scopes_pass_through() -> None:
    sent, reached = call(allowed_hosts("127.0.0.1", 7860), "lifespan", {"Host": "evil.example"})
    assert reached and sent == []


class _App:
    def __init__(self, stack: Any) -> None:
        self.middleware_stack = stack
        self.built = 0

    def build_middleware_stack(self) -> Any:
        self.built += 1
        return "built"


def test_the_lifespan_wraps_the_whole_stack_once() -> None:
    hosts = allowed_hosts("127.0.0.1", 7860)

    async def run(app: _App) -> None:
        async with guard_lifespan(hosts)(app):
            pass

    app = _App(None)
    asyncio.run(run(app))
    assert isinstance(app.middleware_stack, HostGuard) and app.built == 1
    assert app.middleware_stack.app == "built" and app.middleware_stack.hosts == hosts
    guard = app.middleware_stack
    asyncio.run(run(app))  # a second start does not wrap the guard again
    assert app.middleware_stack is guard and app.built == 1
    ready = _App("stack")
    asyncio.run(run(ready))
    assert ready.middleware_stack.app == "stack" and ready.built == 0


def test_every_http_response_forbids_framing() -> None:
    """The no-framing headers replace the app's own (any case) and are added where it set none,
    on its responses and on the guard's 403; the rest of the messages pass as they came."""
    hosts = allowed_hosts("127.0.0.1", 7860)
    replies = [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"X-Frame-Options", b"SAMEORIGIN"), (b"content-type", b"text/plain")],
        },
        {"type": "http.response.start", "status": 204},
        {"type": "http.response.body", "body": b"x"},
    ]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for reply in replies:
            await send(reply)

    async def receive() -> dict[str, Any]:
        return {}

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"host", b"127.0.0.1:7860")]}
    asyncio.run(HostGuard(app, hosts)(scope, receive, send))
    assert sent == [
        {**replies[0], "headers": [(b"content-type", b"text/plain"), *NO_FRAMING]},
        {**replies[1], "headers": list(NO_FRAMING)},
        replies[2],
    ]
    refused, _ = call(hosts, "http", {"Host": "evil.example"})
    assert refused[0]["status"] == 403
    assert [h for h in refused[0]["headers"] if h[0] in dict(NO_FRAMING)] == list(NO_FRAMING)


def test_a_body_over_the_cap_gets_413_and_never_reaches_the_app() -> None:
    """Declared (Content-Length) or counted as it arrives (chunked); Gradio's file upload is
    exempt (it streams to disk under its own cap); a body under the cap reaches the app whole."""
    hosts = allowed_hosts("127.0.0.1", 7860)

    def run(
        path: str, headers: list[tuple[bytes, bytes]], parts: list[bytes], messages: Any = None
    ) -> tuple[Any, Any]:
        reached: list[bytes] = []
        sent: list[Any] = []
        started: list[bool] = []
        pending = messages or [
            {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
            for i, p in enumerate(parts)
        ]
        pending = [*pending, {"type": "http.disconnect"}]  # what the client sends after

        async def app(scope: Any, receive: Any, send: Any) -> None:
            started.append(True)
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            # The body replayed, the app's next read reaches the client's own messages.
            assert (await receive())["type"] == "http.disconnect"
            reached.append(body)

        async def receive() -> dict[str, Any]:
            message = pending.pop(0)
            # The guard reads no further than the body: the client's next message (it may
            # come only when the client goes) is the app's to wait for.
            assert message["type"] != "http.disconnect" or started
            return message

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "path": path, "method": "POST",
                 "headers": [(b"host", b"127.0.0.1:7860"), *headers]}  # fmt: skip
        asyncio.run(HostGuard(app, hosts)(scope, receive, send))
        status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
        if status == 413:
            assert b"".join(m.get("body", b"") for m in sent) == TOO_LARGE.encode()
        return status, reached

    big = [(b"content-length", str(MAX_BODY_BYTES + 1).encode())]
    assert run("/gradio_api/queue/join", big, [b"x"]) == (413, [])
    assert run("/gradio_api/uploadX", big, [b"x"]) == (413, [])  # not the upload route
    part = b"x" * (MAX_BODY_BYTES // 4)
    assert run("/gradio_api/run/predict", [], [part] * 4 + [b"x"]) == (413, [])
    assert run("/gradio_api/run/predict", [], [part] * 4) == (None, [part * 4])
    assert run("/gradio_api/upload/", big, [part] * 5) == (None, [part * 5])
    assert run("/gradio_api/upload", big, [part] * 5) == (None, [part * 5])
    assert run("/gradio_api/queue/join/", big, [b"x"]) == (413, [])  # only the upload is exempt
    # At the cap exactly: passes, declared or counted.
    at_cap = [(b"content-length", str(MAX_BODY_BYTES).encode())]
    assert run("/gradio_api/queue/join", at_cap, [b"x"]) == (None, [b"x"])
    spaced = [(b"content-length", f" {MAX_BODY_BYTES + 1} ".encode())]
    assert run("/gradio_api/queue/join", spaced, [b"x"]) == (413, [])
    # A last message without "more_body", or without "body", ends or adds nothing.
    whole = [{"type": "http.request", "body": b"abc"}]
    assert run("/gradio_api/run/predict", [], [], whole) == (None, [b"abc"])
    full = b"x" * MAX_BODY_BYTES
    ended = [
        {"type": "http.request", "body": full, "more_body": True},
        {"type": "http.request", "more_body": False},
    ]
    assert run("/gradio_api/run/predict", [], [], ended) == (None, [full])


def test_a_request_answered_before_its_body_is_never_read() -> None:
    """The inner guard's ``before_body`` (ui/auth.py: nobody signed in) is asked, with the
    request's scope, after the Host check and before the body is read: when it answers, that
    answer gets the request (its framing headers added) and neither the body nor the app is
    touched; when it does not, the request goes on as it came. A websocket is never asked."""
    hosts = allowed_hosts("127.0.0.1", 7860)
    asked: list[Any] = []

    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        assert scope["path"] == "/gradio_api/reset" and callable(receive)
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})

    def before_body(scope: Any) -> Any:
        asked.append(scope)
        return refuse if scope["path"] == "/gradio_api/reset" else None

    def run(kind: str, path: str, host: str = "127.0.0.1:7860") -> tuple[list[Any], int, bool]:
        sent: list[Any] = []
        reads: list[bool] = []
        reached: list[bool] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            reached.append(True)

        async def receive() -> dict[str, Any]:
            reads.append(True)
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": kind, "path": path, "method": "POST",
                 "headers": [(b"host", host.encode())]}  # fmt: skip
        guard = HostGuard(app, hosts, before_body)
        assert guard.before_body is before_body
        before = len(asked)
        asyncio.run(guard(scope, receive, send))
        assert all(a is scope for a in asked[before:])  # asked with the request's own scope
        return sent, len(reads), bool(reached)

    sent, reads, reached = run("http", "/gradio_api/reset")
    assert [m.get("status") for m in sent] == [401, None] and sent[1]["body"] == b"no"
    assert list(NO_FRAMING) == [h for h in sent[0]["headers"] if h[0] in dict(NO_FRAMING)]
    assert (reads, reached, len(asked)) == (0, False, 1)
    assert run("http", "/gradio_api/queue/join")[1:] == (1, True)  # asked, not answered
    assert len(asked) == 2
    assert run("websocket", "/gradio_api/reset")[2] is True and len(asked) == 2
    refused, _, reached = run("http", "/gradio_api/reset", host="evil.example")
    assert refused[0]["status"] == 403 and not reached and len(asked) == 2  # Host first
