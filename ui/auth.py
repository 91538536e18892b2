"""Who may use a shared page, and who may change its index.

Three ways to serve the page (``Access.mode``):

- ``open``: no sign-in, everyone may do everything. Only on a loopback address, as before.
- ``password``: Gradio's own login against the users file (``RAG_USERS_FILE``, written by
  ``rag users add``): salted bcrypt hashes, roles ``reader`` and ``editor``.
- ``proxy``: a reverse proxy that signed the user in names them in a header
  (``RAG_PROXY_USER_HEADER``), trusted only from ``RAG_TRUSTED_PROXIES``; the role comes from the
  users file, and a name it lacks is a reader (``RAG_PROXY_UNKNOWN_USERS=refuse``: refused).

Changes (upload, delete, re-sync) need the editor role. ``ChangeGuard`` refuses them at the HTTP
level, before Gradio (a reader calling the API directly gets 403; nobody signed in gets 401 for
any POST but the login form's, before its body is read); the page's handlers check again. Every
signed-in user's attempt goes to the audit log (rag/audit.py), refusals up to
``MAX_REFUSALS_LOGGED`` a minute; nobody's attempts, which name no one, do not.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import math
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from gradio.data_classes import PredictBody
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import audit
from rag.config import Settings
from rag.errors import ConfigError
from rag.users import Role, User, load_users, verify
from ui import fair_queue
from ui.guard import replay
from ui.throttle import MAX_FAILED, WINDOW, SignInThrottle

log = logging.getLogger("ui")

Mode = Literal["open", "password", "proxy"]
# The page's change endpoints (their api_name) and the action each is logged as.
CHANGES: dict[str, audit.Action] = {"upload": "upload", "delete": "delete", "resync": "resync"}
API = "/gradio_api"
FILE_TRANSFER = f"{API}/upload"  # Gradio's own file upload, the first step of an upload
QUEUE_JOIN = f"{API}/queue/join"
SIGN_IN = "/login"  # Gradio's login form posts here
NAMED_CALLS = (f"{API}/run/", f"{API}/api/", f"{API}/call/")
QUEUED_CALLS = f"{API}/call/"  # like queue/join, these put an event in Gradio's queue
# Gradio serves a session's heartbeat stream without its login check: anyone could hold streams
# open, and closing one runs the session's unload handlers. Signed-in users only.
HEARTBEAT = f"{API}/heartbeat/"
SIGN_IN_FIRST = "Sign in first."
# Gradio's login page says nothing when a sign-in is turned away (it reacts to 200 and 400
# only), so the page says up front what the throttle does.
SIGN_IN_MESSAGE = (
    f"Sign in to ask your documents. After {MAX_FAILED} failed attempts within {WINDOW:g} s, "
    f"sign-in from your address pauses for up to {WINDOW:g} s."
)
MAX_LOGGED_NAMES = 50
# Where a signing-in proxy's header is believed from when RAG_TRUSTED_PROXIES is unset.
HEADER_PROXIES = ("127.0.0.1", "::1")
# A signed-in user's refused changes written to the audit log in any minute (a product choice:
# far above what a person clicks; a script's loop of them would otherwise fill the disk).
MAX_REFUSALS_LOGGED = 30


def is_loopback(host: str) -> bool:
    """Whether ``host`` (the address the page listens on) is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@functools.cache
def untrusted_loopback_proxy() -> None:
    """Say once that a proxy on this machine forwards addresses nobody trusts (pages upgraded
    from a version that believed loopback's X-Forwarded-For by default)."""
    log.warning(
        "A request from this machine carries X-Forwarded-For, but no proxy is trusted: every "
        "client behind that proxy counts as one address (they share the sign-in limit, and the "
        "audit log records the proxy's address). If the page is behind a proxy on this "
        "machine, set RAG_TRUSTED_PROXIES=127.0.0.1,::1."
    )


def _networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip().strip("[]"), strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"RAG_TRUSTED_PROXIES: {value!r} is not an address or network (such as "
                "127.0.0.1 or 10.0.0.0/24): fix it."
            ) from exc
    return tuple(networks)


@dataclass(frozen=True)
class Access:
    """The page's sign-in and roles, from the settings."""

    settings: Settings
    mode: Mode

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        """Proxy when ``RAG_PROXY_USER_HEADER`` is set, password when the users file holds a
        user, else open. Raises ``ConfigError`` on a damaged users file."""
        _networks(settings.trusted_proxies)  # checked now, not at the first request
        if settings.proxy_user_header:
            return cls(settings, "proxy")
        if load_users(settings.users_path):
            return cls(settings, "password")
        return cls(settings, "open")

    @property
    def signs_in(self) -> bool:
        return self.mode != "open"

    def check_host(self, host: str) -> None:
        """Raise ``ConfigError`` when the page would be reachable from other machines with no
        sign-in; also check that the audit log can be written."""
        if not self.signs_in and not is_loopback(host):
            raise ConfigError(
                f"The page would serve {host or 'every address'} with no sign-in: add a user "
                "with rag users add NAME --role editor (users file: "
                f"{self.settings.users_path}, RAG_USERS_FILE), or set RAG_PROXY_USER_HEADER "
                "behind a signing-in proxy; or serve on 127.0.0.1."
            )
        audit.check_writable(self.settings.audit_path)

    # Who and which role -------------------------------------------------------------------

    def users(self) -> dict[str, User]:
        """The users file, read now (a user added or removed counts at once)."""
        try:
            return load_users(self.settings.users_path)
        except ConfigError as exc:
            log.error("%s", exc)
            return {}

    def role(self, user: str | None) -> Role | None:
        """The role of ``user`` on this page (None: no role, every change refused)."""
        if self.mode == "open":
            return "editor"
        if not user:
            return None
        found = self.users().get(user)
        if found is not None:
            return found.role
        if self.mode == "proxy" and self.settings.proxy_unknown_users == "reader":
            return "reader"
        return None

    def refusal(self, user: str | None) -> str | None:
        """Why ``user`` may not change the index (None: they may)."""
        role = self.role(user)
        if role == "editor":
            return None
        if not user:
            return "Sign in first: only editors may upload, delete or re-sync."
        if role is None:
            return f"{user} has no role on this page: ask an administrator to add them."
        return (
            f"{user} is a reader: only editors may upload, delete or re-sync documents "
            "(an administrator can change the role with rag users add)."
        )

    # Gradio's sign-in -----------------------------------------------------------------------

    def launch_options(self) -> dict[str, Any]:
        """``Blocks.launch`` arguments: Gradio's login, the proxy's header, or nothing."""
        if self.mode == "password":
            return {"auth": self.sign_in, "auth_message": SIGN_IN_MESSAGE}
        if self.mode == "proxy":
            return {"auth_dependency": self.proxy_user}
        return {}

    async def sign_in(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable: bcrypt runs in a thread, not on the event loop."""
        users = self.users()
        user = await anyio.to_thread.run_sync(verify, users, username, password)
        if user is None:
            log.warning("failed sign-in as %r", username[:64])
        return user is not None

    def proxy_user(self, request: Request) -> str | None:
        """The user a trusted proxy names (Gradio's ``auth_dependency``); None: 401."""
        header = self.settings.proxy_user_header
        client = request.client.host if request.client else ""
        if not header or not self.trusted(client):
            return None
        name = request.headers.get(header, "").strip()
        if not name or len(name) > 256:
            return None
        if self.settings.proxy_unknown_users == "refuse" and name not in self.users():
            return None
        return name

    def client(self, request: Request) -> str:
        """The client's address: the connection's, or, from a trusted proxy, the address it
        forwards: the last X-Forwarded-For entry over every such header (the one the proxy
        itself saw, whether it appends to the client's header or adds its own), if it is an
        address."""
        peer = request.client.host if request.client else ""
        if not self.trusted(peer):
            if not self.proxies and is_loopback(peer) and "x-forwarded-for" in request.headers:
                untrusted_loopback_proxy()
            return peer
        entries = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
        last = entries[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            return peer

    @property
    def proxies(self) -> tuple[str, ...]:
        """The proxies whose headers are believed: ``RAG_TRUSTED_PROXIES``; unset, loopback for
        a signing-in proxy's header (it must come from one), and none otherwise. Believed
        from loopback by default, a forged X-Forwarded-For gave every guess at the login form
        a new address of its own (no limit), from any local user or a TLS tunnel that passes
        headers through."""
        if self.settings.trusted_proxies:
            return self.settings.trusted_proxies
        return HEADER_PROXIES if self.mode == "proxy" else ()

    def trusted(self, client: str) -> bool:
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            return False
        return any(address in network for network in _networks(self.proxies))

    def request_user(self, request: Request, gradio_app: Any) -> str | None:
        """The signed-in user of a raw request, as Gradio itself finds them."""
        if self.mode == "proxy":
            return self.proxy_user(request)
        if self.mode == "password":
            cookie_id = getattr(gradio_app, "cookie_id", "")
            token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
                f"access-token-unsecure-{cookie_id}"
            )
            user = getattr(gradio_app, "tokens", {}).get(token)
            return str(user) if user else None
        return None

    # The audit log ------------------------------------------------------------------------

    def record(
        self,
        user: str | None,
        action: audit.Action,
        files: Iterable[str],
        result: audit.Result,
        reason: str = "",
        client: str = "",
    ) -> None:
        """Append one attempt to the audit log (a failure to write is logged, not raised)."""
        event = audit.AuditEvent(
            user=user,
            role=None if action == "sign-in" else self.role(user),  # tried, not signed in
            action=action,
            files=tuple(files)[:MAX_LOGGED_NAMES],
            result=result,
            reason=reason,
            client=client,
        )
        try:
            audit.append(self.settings.audit_path, event)
        except OSError:
            log.exception("cannot append to the audit log %s: %s", self.settings.audit_path, event)


# The HTTP guard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """The app's change endpoints: by api_name and by function index."""

    by_name: dict[str, audit.Action]
    by_index: dict[int, audit.Action]

    @classmethod
    def of(cls, blocks: Any) -> Changes:
        by_name: dict[str, audit.Action] = {}
        by_index: dict[int, audit.Action] = {}
        for fn in blocks.fns.values():
            action = CHANGES.get(str(fn.api_name))
            if action is not None:
                by_name[str(fn.api_name)] = action
                by_index[int(fn._id)] = action
        if set(by_name) != set(CHANGES):
            missing = ", ".join(sorted(set(CHANGES) - set(by_name)))
            raise RuntimeError(f"the page has no endpoint named {missing} to guard")
        return cls(by_name, by_index)

    def action(self, path: str, body: bytes) -> audit.Action | None:
        """The change a POST to ``path`` with ``body`` asks for (None: not a change).

        Gradio runs a function named by the path's api_name or, when the body has one, by the
        body's ``fn_index``: both are checked, the body read as Gradio reads it.
        """
        if path.startswith(NAMED_CALLS):
            named = self.by_name.get(path.rsplit("/", 1)[1])
            if named is not None:
                return named
        elif path != QUEUE_JOIN:
            return None
        index = fn_index(body)
        return self.by_index.get(index) if index is not None else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def fn_index(body: bytes) -> int | None:
    """The ``fn_index`` of a call's JSON body, coerced as Gradio's model does ("3" is 3)."""
    data = _json(body)
    if not isinstance(data, dict):
        return None
    try:
        return PredictBody.model_validate(data).fn_index
    except ValidationError:
        return None


def file_names(body: bytes) -> list[str]:
    """The document names a change's body carries (uploaded files, documents to delete)."""
    data = _json(body)
    values = data.get("data") if isinstance(data, dict) else None
    first = values[0] if isinstance(values, list) and values else None
    if isinstance(values, dict):  # call/v2: inputs by parameter name
        first = next(iter(values.values()), None)
    items = first if isinstance(first, list) else [first]
    names = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("orig_name") or posixpath.basename(str(item.get("path") or ""))
        if isinstance(item, str) and item:
            names.append(item[:256])
    return names[:MAX_LOGGED_NAMES]


class ChangeGuard:
    """ASGI middleware: a request that could queue an event or make a change gets 401 from
    nobody signed in (before its body is read; not logged); a change asked by a signed-in user
    who is not an editor gets 403 and is logged as refused (``MAX_REFUSALS_LOGGED`` a minute per
    user at most); a client that failed too many sign-ins gets 429 (ui/
    throttle.py) and every failed sign-in is logged; a user with ``MAX_PENDING`` events in the
    queue gets 429 for one more (ui/fair_queue.py); a session's heartbeat stream needs a
    signed-in user (401); everything else passes as it came."""

    def __init__(
        self,
        app: ASGIApp,
        gradio_app: Any,
        access: Access,
        changes: Changes,
        throttle: SignInThrottle | None = None,
    ) -> None:
        self.app = app
        self.gradio_app = gradio_app
        self.access = access
        self.changes = changes
        self.throttle = throttle if throttle is not None else SignInThrottle()
        # At most MAX_REFUSALS_LOGGED refused changes of one user a minute reach the audit log.
        self.logged_refusals = SignInThrottle(max_failed=MAX_REFUSALS_LOGGED, window=WINDOW)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.unsigned_heartbeat(scope):
            await JSONResponse({"detail": SIGN_IN_FIRST}, status_code=401)(scope, receive, send)
            return
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", "")).rstrip("/")
        if path == SIGN_IN:
            await self.sign_in(scope, receive, send)
            return
        if path != FILE_TRANSFER and path != QUEUE_JOIN and not path.startswith(NAMED_CALLS):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user = self.access.request_user(request, self.gradio_app)
        if user is None:  # the HostGuard asks before_body first: only when used alone
            await self.unsigned(scope, receive, send)
            return
        body, messages = b"", []
        if path != FILE_TRANSFER:  # a file transfer's body is the file: never buffered here
            messages = await _read_body(receive)
            body = b"".join(m.get("body", b"") for m in messages)
        action: audit.Action | None = (
            "upload" if path == FILE_TRANSFER else self.changes.action(path, body)
        )
        if action is not None:
            reason = self.access.refusal(user)
            if reason is not None:
                if self.logged_refusals.attempt(user) is not None:  # a loop is not logged whole
                    client = self.access.client(request)
                    files = file_names(body) if body else []
                    self.access.record(user, action, files, "refused", reason, client)
                await JSONResponse({"detail": reason}, status_code=403)(scope, receive, send)
                return
        if path == QUEUE_JOIN or path.startswith(QUEUED_CALLS):
            busy = fair_queue.refusal(self.gradio_app.get_blocks(), user)
            if busy is not None:
                log.warning("%s", busy)
                await JSONResponse({"detail": busy}, status_code=429)(scope, receive, send)
                return
        await self.app(scope, replay(messages, receive) if messages else receive, send)

    def before_body(self, scope: Scope) -> ASGIApp | None:
        """The answer to a POST from nobody signed in (``unsigned``), before its body is read
        (ui/guard.py ``HostGuard``); None for the login form's and anyone else's requests.
        Every POST: Gradio reads and parses the bodies of some routes before their login
        check (``reset``, ``cancel``, ``stream/...``: 15 MB of JSON to ``cancel`` held up the
        page for 28 s), and nothing but the login form answers anyone not signed in."""
        if scope.get("method") != "POST" or str(scope.get("path", "")).rstrip("/") == SIGN_IN:
            return None
        if self.access.request_user(Request(scope), self.gradio_app) is not None:
            return None
        return self.unsigned

    async def unsigned(self, scope: Scope, receive: Receive, send: Send) -> None:
        """401 for nobody signed in, with no audit line. Nothing behind these paths answers
        them (Gradio's login guards them too). Their bodies read and parsed on the event loop,
        16 MiB of JSON at a time, froze the page for everyone (about 500 MB each); logged, a
        loop of them naming 50 long file names each filled the disk (4 MB in 300 requests);
        and they name nobody."""
        reason = self.access.refusal(None)
        await JSONResponse({"detail": reason}, status_code=401)(scope, receive, send)

    def unsigned_heartbeat(self, scope: Scope) -> bool:
        """A heartbeat stream asked for by nobody signed in, on a page that signs in."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(HEARTBEAT):
            return False
        return (
            self.access.signs_in
            and self.access.request_user(Request(scope), self.gradio_app) is None
        )

    async def sign_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Gradio's login, unless this client failed too often: then 429 without a password
        check. Each attempt counts as a failure until it succeeds (ui/throttle.py); failures go
        to the audit log."""
        request = Request(scope)
        client = self.access.client(request)
        messages = await _read_body(receive, limit=MAX_SIGN_IN_BODY)
        user = await _form_user(scope, messages)
        token = self.throttle.attempt(client)
        if token is None:  # not logged line by line: a flood would be a flood of fsyncs
            wait = math.ceil(self.throttle.wait(client))
            response = JSONResponse(
                {"detail": f"Too many failed sign-ins. Try again in {wait} s."},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            # Settled and logged before the response leaves: its client sees the log written.
            if message["type"] == "http.response.start":
                self.signed_in(int(message["status"]), user, client, token)
            await send(message)

        await self.app(scope, replay(messages, receive), watched)

    def signed_in(self, status: int, user: str | None, client: str, token: float) -> None:
        """Settle a login: a success takes its attempt back; a failure stays counted against
        the client and goes to the audit log."""
        if status == 200:
            self.throttle.succeeded(client, token)
            return
        reason = "wrong user name or password" if status < 500 else f"sign-in failed ({status})"
        wait = self.throttle.wait(client)
        if wait > 0:
            reason += f"; this client's sign-ins are refused for {math.ceil(wait)} s"
        self.access.record(user, "sign-in", [], "refused", reason, client)


# A login form is a user name and a password: a bigger body is not read whole for the audit log.
MAX_SIGN_IN_BODY = 64 * 1024


async def _form_user(scope: Scope, messages: list[Message]) -> str | None:
    """The user name a login form names, urlencoded or multipart (Gradio's page sends
    multipart), for the audit log: at most 64 characters; None for a body too big to read."""
    if messages and messages[-1].get("more_body", False):
        return None  # over MAX_SIGN_IN_BODY: the rest is Gradio's to read
    form_request = Request(scope, replay(list(messages), _no_more))
    try:
        form = await form_request.form(max_files=0, max_fields=10)
    except Exception:  # a malformed form is Gradio's to refuse; the log just has no name
        return None
    name = form.get("username")
    await form.close()
    return name.strip()[:64] if isinstance(name, str) else None


async def _no_more() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _read_body(receive: Receive, limit: int | None = None) -> list[Message]:
    messages = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages
        if limit is not None and size > limit:
            return messages  # the rest is read by the app from ``receive``
