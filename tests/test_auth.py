"""A shared page (issue 20, item 2): users file, sign-in, roles enforced over HTTP, audit log.

Fast units for the users file, the hashing and the audit log; then the real page on 127.0.0.1
(Gradio's login, and a trusted proxy's header) called over HTTP with httpx: a reader's change
requests get 403 whichever way they name the endpoint, nobody signed in gets 401, an editor's
go through, and every attempt is a line of the audit log.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest

import rag
from rag import audit
from rag.cli import main as cli_main
from rag.config import Settings
from rag.errors import ConfigError
from rag.users import add_user, load_users, remove_user, save_users, verify
from tests.conftest import SEED_FILE, SEEDS
from tests.test_chroma_server import chroma_url  # noqa: F401  (the server fixture)
from ui.app import create_app, serve
from ui.auth import Access, Changes, file_names, fn_index, is_loopback, untrusted_loopback_proxy
from ui.library import View
from ui.throttle import MAX_FAILED, WINDOW, SignInThrottle

FAST = 4  # bcrypt rounds for the tests' users (the CLI uses 12)
READER, EDITOR = ("rita", "reader-pass-1"), ("ed", "editor-pass-1")
MOON = "The station commander of Moonbase Tranquility is Ingrid Halvorsen.\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The users file and its hashes -----------------------------------------------------------------


def test_users_file_holds_salted_bcrypt_hashes_and_verifies_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    user, new = add_user(path, "rita", "reader", "reader-pass-1", rounds=FAST)
    assert new and user.role == "reader" and user.hash.startswith("$2b$04$")
    add_user(path, "ed", "editor", "reader-pass-1", rounds=FAST)  # the same password ...
    users = load_users(path)
    assert users["ed"].hash != users["rita"].hash  # ... another salt, another hash
    assert "reader-pass-1" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify(users, "rita", "reader-pass-1") == users["rita"]
    assert verify(users, "rita", "reader-pass-2") is None
    assert verify(users, "nobody", "reader-pass-1") is None
    longest = "p" * 72  # bcrypt reads 72 bytes: a longer password must not pass as this one
    add_user(path, "max", "reader", longest, rounds=FAST)
    assert verify(load_users(path), "max", longest) is not None
    assert verify(load_users(path), "max", longest + "x") is None
    _, new = add_user(path, "rita", "editor", "another-pass", rounds=FAST)
    users = load_users(path)
    assert not new and users["rita"].role == "editor"
    assert verify(users, "rita", "reader-pass-1") is None and verify(users, "rita", "another-pass")
    assert remove_user(path, "rita") and not remove_user(path, "rita")
    assert set(load_users(path)) == {"ed", "max"}
    assert load_users(tmp_path / "missing.json") == {}


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("bad name", "reader", "long-enough", "'bad name' cannot be a user name"),
        ("rita", "admin", "long-enough", "Unknown role 'admin': use one of reader, editor."),
        ("rita", "reader", "short", "The password is too short: use at least 8 characters."),
        ("rita", "reader", "é" * 40, "The password is 80 bytes long; bcrypt reads at most 72"),
    ],
)
def test_bad_users_are_refused(
    tmp_path: Path, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        add_user(tmp_path / "users.json", name, role, password, rounds=FAST)
    assert not (tmp_path / "users.json").exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
     ('{"version": 1}', "'users'"),
     ('{"version": 1, "users": {"a": {"role": "x", "hash": "$2b"}}}',
      "Unknown role 'x': use one of reader, editor."),
     ('{"version": 1, "users": {"a": {"role": "reader", "hash": "plain"}}}',
      "the hash of 'a' is not a bcrypt hash")],
)  # fmt: skip
def test_a_damaged_users_file_is_one_line(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as damaged:
        load_users(path)
    assert str(damaged.value) == (
        f"The users file {path} is damaged ({reason}): restore it, or delete it and add the "
        "users again with rag users add NAME --role reader|editor."
    )


def test_users_file_messages_and_limits_exactly(tmp_path: Path) -> None:
    """The whole message of each refusal (what to do is part of it), and the limits' edges."""
    path = tmp_path / "users.json"

    def refused(name: str, role: str, password: str) -> str:
        with pytest.raises(ConfigError) as caught:
            add_user(path, name, role, password, rounds=FAST)
        return str(caught.value)

    assert refused("-rita", "reader", "long-enough") == (
        "'-rita' cannot be a user name: use 1 to 64 letters, digits, '.', '_', '@' or '-', "
        "starting with a letter or digit."
    )
    assert refused("rita", "reader", "x" * 73) == (
        "The password is 73 bytes long; bcrypt reads at most 72: use a shorter one."
    )
    assert add_user(path, "rita", "reader", "x" * 8, rounds=FAST)[1]  # 8 characters: enough
    assert refused("ed", "reader", "x" * 7).endswith("use at least 8 characters.")
    assert add_user(path, "r" * 64, "reader", "long-enough", rounds=FAST)[1]
    assert "cannot be a user name" in refused("r" * 65, "reader", "long-enough")
    # A file of another version, or with none, is not taken for a users file.
    hashed = load_users(path)["rita"].hash
    for version in ('"version": 2, ', ""):
        users = f'"users": {{"rita": {{"role": "editor", "hash": "{hashed}"}}}}'
        path.write_text(f"{{{version}{users}}}")
        with pytest.raises(ConfigError, match="is damaged \\(not a version 1 users file\\)"):
            load_users(path)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(ConfigError) as unreadable:
        load_users(folder)
    assert str(unreadable.value).startswith(f"Cannot read the users file {folder} (")
    assert str(unreadable.value).endswith(
        "): fix its permissions, or set RAG_USERS_FILE to another file."
    )
    blocked = tmp_path / "a-file" / "users.json"
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(ConfigError) as unwritable:
        save_users(blocked, {})
    assert str(unwritable.value).startswith(f"Cannot write the users file {blocked} (")
    assert str(unwritable.value).endswith(
        "): set RAG_USERS_FILE to a file in a folder you can write."
    )


def test_cli_adds_lists_and_removes_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    path = tmp_path / "team" / "users.json"
    monkeypatch.setenv("RAG_USERS_FILE", str(path))
    monkeypatch.setattr("sys.stdin", io.StringIO("editor-pass-1\n"))
    assert cli_main(["users", "add", "ed", "--role", "editor", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli_main(["users", "add", "rita", "--password-stdin"]) == 1
    assert cli_main(["users", "list"]) == 0
    assert cli_main(["users", "remove", "nobody"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"added ed (editor) in {path}", "ed  editor", f"1 users in {path}"]
    assert err.splitlines() == [
        "error: The password is too short: use at least 8 characters.",
        f"error: 'nobody' is not in {path}: rag users list shows who is.",
    ]
    assert verify(load_users(path), "ed", "editor-pass-1") is not None


# The audit log -----------------------------------------------------------------------------------


def test_audit_lines_are_appended_whole_with_who_what_when_result(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    first = audit.AuditEvent("rita", "reader", "delete", ("a.txt",), "refused", "a reader", "::1")
    audit.append(path, first)
    path.write_bytes(path.read_bytes())  # an existing file is appended to, never replaced
    audit.append(path, audit.AuditEvent("ed", "editor", "upload", ("b.txt", "c.md"), "ok"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {
        "time": first.time,
        "user": "rita",
        "role": "reader",
        "client": "::1",
        "action": "delete",
        "files": ["a.txt"],
        "result": "refused",
        "reason": "a reader",
    }
    assert first.time.endswith("+00:00") and first.time[10] == "T"
    assert audit.read(path)[1]["files"] == ["b.txt", "c.md"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_audit_lines_are_whole_through_short_writes_and_read_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write may write less than asked (a full disk, a signal): the rest follows. Folders
    are made, several deep; names are written as themselves, for a person reading the log."""
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data)[:7]))
    path = tmp_path / "var" / "log" / "rag" / "audit.jsonl"
    event = audit.AuditEvent("jürgen", "reader", "delete", ("Übersicht.md",), "refused", "x")
    audit.append(path, event)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == event.to_json() + "\n"
    assert '"user": "jürgen"' in event.to_json() and '"files": ["Übersicht.md"]' in event.to_json()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError) as unwritable:
        audit.check_writable(tmp_path / "file" / "audit.jsonl")
    assert str(unwritable.value) == (
        f"Cannot write the audit log {tmp_path / 'file' / 'audit.jsonl'} (File exists): set "
        "RAG_AUDIT_LOG to a file in a folder you can write."
    )


def test_an_unwritable_audit_log_stops_the_page_from_starting(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    settings = Settings(store_dir=tmp_path / "store", audit_log=tmp_path / "file" / "audit.jsonl")
    with pytest.raises(ConfigError, match=r"Cannot write the audit log .* set RAG_AUDIT_LOG"):
        Access.from_settings(settings).check_host("127.0.0.1")


# Starting off loopback ---------------------------------------------------------------------------


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "", "10.0.0.5", "example.org"]))


def test_off_loopback_the_page_refuses_to_start_without_sign_in(tmp_path: Path) -> None:
    """``rag ui --host 0.0.0.0`` served anyone who reached it, who could delete documents."""
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env["RAG_STORE_DIR"] = str(store)
    command = ["-m", "rag", "ui", "--host", "0.0.0.0", "--port", str(free_port()), "--no-sync"]
    done = subprocess.run(
        [sys.executable, *command], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: The page would serve 0.0.0.0 with no sign-in: add a user with rag users add "
        f"NAME --role editor (users file: {store / 'users.json'}, RAG_USERS_FILE), or set "
        "RAG_PROXY_USER_HEADER behind a signing-in proxy; or serve on 127.0.0.1.\n"
    )
    settings = Settings(store_dir=tmp_path / "store")
    Access.from_settings(settings).check_host("127.0.0.1")  # loopback: open, as before
    with pytest.raises(ConfigError, match="would serve every address"):
        serve(gr.Blocks(), settings, "", 0)
    add_user(settings.users_path, "ed", "editor", "editor-pass-1", rounds=FAST)
    assert Access.from_settings(settings).mode == "password"
    Access.from_settings(settings).check_host("0.0.0.0")
    proxied = Settings(store_dir=tmp_path / "other", proxy_user_header="X-Forwarded-User")
    Access.from_settings(proxied).check_host("0.0.0.0")


# Which requests are changes ------------------------------------------------------------------


def test_change_requests_are_found_by_api_name_and_by_fn_index(settings: Settings) -> None:
    changes = Changes.of(create_app(settings))
    assert set(changes.by_name) == {"upload", "delete", "resync"}
    index = {action: i for i, action in changes.by_index.items()}
    body = json.dumps({"data": [], "fn_index": index["delete"], "session_hash": "x"}).encode()
    assert changes.action("/gradio_api/queue/join", body) == "delete"
    assert changes.action("/gradio_api/run/ask", body) == "delete"  # fn_index wins in Gradio
    as_text = json.dumps({"data": [], "fn_index": str(index["upload"])}).encode()
    assert fn_index(as_text) == index["upload"]  # coerced as Gradio coerces it
    assert changes.action("/gradio_api/call/resync", b"") == "resync"
    assert changes.action("/gradio_api/call/v2/upload", b"{}") == "upload"
    assert changes.action("/gradio_api/call/ask", b'{"data": []}') is None
    assert changes.action("/gradio_api/queue/join", b"not json") is None
    assert changes.action("/gradio_api/info", body) is None
    uploaded = {"data": [[{"path": "/tmp/x/moon.txt", "orig_name": "moon.txt"}, {"path": "/a/b"}]]}
    assert file_names(json.dumps(uploaded).encode()) == ["moon.txt", "b"]
    assert file_names(b'{"data": [["a.txt", "c.md"]]}') == ["a.txt", "c.md"]
    assert file_names(b'{"data": {"sources": "a.txt"}}') == ["a.txt"]


def test_the_role_check_sits_inside_the_host_check(tmp_path: Path) -> None:
    """guard_lifespan wraps the stack in ``inner`` first, then in HostGuard; once."""
    import asyncio

    from ui.guard import HostGuard, allowed_hosts, guard_lifespan

    class App:
        middleware_stack: Any = "stack"

    calls: list[tuple[Any, Any]] = []

    def inner(stack: Any, app: Any) -> Any:
        calls.append((stack, app))
        return "role-checked"

    async def run(app: App) -> None:
        async with guard_lifespan(allowed_hosts("127.0.0.1", 7860), inner)(app):
            pass

    app = App()
    asyncio.run(run(app))
    asyncio.run(run(app))  # a second start wraps nothing again
    assert isinstance(app.middleware_stack, HostGuard)
    assert app.middleware_stack.app == "role-checked" and calls == [("stack", app)]


# The real page over HTTP ---------------------------------------------------------------------


@dataclass
class Page:
    url: str
    settings: Settings
    app: gr.Blocks

    def audit(self) -> list[dict[str, Any]]:
        return audit.read(self.settings.audit_path)

    def index_of(self, action: str) -> int:
        return next(i for i, a in Changes.of(self.app).by_index.items() if a == action)


def start(base: Path, **options: Any) -> Page:
    shutil.copytree(SEEDS, base / "docs")
    (base / "docs" / "moon.txt").write_text(MOON, encoding="utf-8")
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store", **options)
    for name, password in (READER, EDITOR):
        role = "editor" if name == EDITOR[0] else "reader"
        add_user(settings.users_path, name, role, password, rounds=FAST)
    app = create_app(settings)
    url = serve(app, settings, "127.0.0.1", free_port())
    return Page(url.rstrip("/"), settings, app)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The page with Gradio's login, a reader and an editor in its users file, behind a proxy
    on loopback (RAG_TRUSTED_PROXIES): the address a test forwards is the client's."""
    served = start(tmp_path_factory.mktemp("signed-in"), trusted_proxies=("127.0.0.1", "::1"))
    rag.ingest(settings=served.settings)
    try:
        yield served
    finally:
        served.app.close()


@contextmanager
def signed_in(page: Page, user: tuple[str, str] | None) -> Iterator[httpx.Client]:
    """An HTTP client with Gradio's session cookie for ``user`` (none for None)."""
    with httpx.Client(base_url=page.url, timeout=60) as client:
        if user is not None:
            login = client.post("/login", data={"username": user[0], "password": user[1]})
            assert login.status_code == 200, login.text
        yield client


def result(client: httpx.Client, endpoint: str, data: list[Any]) -> tuple[str, Any]:
    """POST a call, then read its event stream: the kind of the last event and its data."""
    posted = client.post(f"/gradio_api/call/{endpoint}", json={"data": data})
    assert posted.status_code == 200, posted.text
    event = posted.json()["event_id"]
    kind = ""
    with client.stream("GET", f"/gradio_api/call/{endpoint}/{event}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind in ("complete", "error"):
                return kind, json.loads(line[6:])
    raise AssertionError("no result")


def refused_calls(page: Page) -> list[tuple[str, str, dict[str, Any]]]:
    """Every way a change reaches Gradio's functions: (path, action, JSON body)."""
    join = {"data": [], "session_hash": "abc", "fn_index": page.index_of("delete")}
    upload = {"data": [[{"path": "/etc/hostname", "orig_name": "x.txt"}]]}
    return [
        ("/gradio_api/call/delete", "delete", {"data": [[SEED_FILE]]}),
        ("/gradio_api/call/resync", "resync", {"data": []}),
        ("/gradio_api/call/upload", "upload", upload),
        ("/gradio_api/call/v2/resync", "resync", {}),
        ("/gradio_api/run/resync", "resync", {"data": []}),
        ("/gradio_api/queue/join", "delete", {**join, "data": [[SEED_FILE]]}),
        ("/gradio_api/run/ask", "delete", {**join, "data": [[SEED_FILE]]}),
        ("/gradio_api/queue/join", "upload", {**join, "fn_index": page.index_of("upload")}),
    ]


def test_nobody_signed_in_gets_401(page: Page) -> None:
    """Every change, and a question, from nobody signed in: 401, and no audit line (nobody is
    named; a loop of them filled the disk). A failed sign-in names someone: it is logged."""
    asking = next(int(fn._id) for fn in page.app.fns.values() if str(fn.api_name) == "ask")
    ask = {"data": ["Who?", None, 5, "hybrid", "extractive"], "session_hash": "abc",
           "fn_index": asking}  # fmt: skip
    with signed_in(page, None) as client:
        assert client.get("/config").status_code == 401  # Gradio's own login
        before = len(page.audit())
        calls = [*refused_calls(page), ("/gradio_api/queue/join", "ask", ask)]
        for path, _, body in calls:
            response = client.post(path, json=body)
            assert response.status_code == 401, (path, response.text)
            assert response.json() == {
                "detail": "Sign in first: only editors may upload, delete or re-sync."
            }
        bad = client.post("/login", data={"username": READER[0], "password": "wrong-pass"})
        assert bad.status_code == 400
    lines = page.audit()[before:]
    assert [(e["user"], e["action"], e["result"]) for e in lines] == [
        (READER[0], "sign-in", "refused")
    ]


def test_nobody_signed_in_is_answered_before_the_body_is_read(page: Page) -> None:
    """A body under the 16 MiB cap from nobody signed in is not read (nor parsed on the page's
    event loop, where 16 MiB of JSON froze every other request): 401 while it is still being
    sent. The old page waited for the whole body first."""
    paths = ("/gradio_api/queue/join", "/gradio_api/call/delete", "/gradio_api/run/predict",
             # Gradio parses these bodies before any login check of its own:
             "/gradio_api/reset", "/gradio_api/cancel", "/gradio_api/stream/abc",
             "/gradio_api/component_server", "/gradio_api/upload/")  # fmt: skip
    for path in paths:
        # Nothing of the body is sent: the old page waited for it (20 s, then no answer).
        answer = raw_post(page, path, f"Content-Length: {8 * 2**20}\r\n", iter(()))
        assert answer.startswith(b"HTTP/1.1 401 "), (path, answer[:80])


def test_a_readers_refused_changes_in_a_loop_are_logged_up_to_a_limit(page: Page) -> None:
    """A reader's script refusing itself 35 times in a minute: 35 times 403, 30 audit lines
    (MAX_REFUSALS_LOGGED); each line names the reader and the files. (A reader of its own: the
    page is shared by this module's tests, and the limit counts per user.)"""
    from ui.auth import MAX_REFUSALS_LOGGED

    add_user(page.settings.users_path, "lars", "reader", "reader-pass-2", rounds=FAST)
    before = len(page.audit())
    with signed_in(page, ("lars", "reader-pass-2")) as client:
        codes = [
            client.post("/gradio_api/call/delete", json={"data": [[f"f{i}.txt"]]}).status_code
            for i in range(MAX_REFUSALS_LOGGED + 5)
        ]
    assert codes == [403] * (MAX_REFUSALS_LOGGED + 5)
    lines = page.audit()[before:]
    assert [(e["user"], e["action"], e["files"]) for e in lines] == [
        ("lars", "delete", [f"f{i}.txt"]) for i in range(MAX_REFUSALS_LOGGED)
    ]


def test_a_session_heartbeat_needs_a_signed_in_user(page: Page) -> None:
    """Gradio serves /gradio_api/heartbeat/{session} without its login check: anyone could hold
    streams open, and closing one runs that session's unload handlers. Now 401 before sign-in;
    a signed-in reader's page gets its stream."""
    with signed_in(page, None) as client:
        for path in ("/gradio_api/heartbeat/abc", "/gradio_api/heartbeat/abc/"):
            # A stream: without the check its headers come (200) and its body never ends.
            with client.stream("GET", path) as response:
                assert response.status_code == 401, path
                assert json.loads(response.read()) == {"detail": "Sign in first."}
    with (
        signed_in(page, READER) as client,
        client.stream("GET", "/gradio_api/heartbeat/abc") as stream,
    ):
        assert stream.status_code == 200
        assert next(stream.iter_lines()) == "data: ALIVE"


def test_a_reader_asks_but_every_change_is_refused_403(page: Page) -> None:
    with signed_in(page, READER) as client:
        kind, answer = result(client, "ask", ["Who commands Moonbase Tranquility?", None, 5,
                                              "hybrid", "extractive"])  # fmt: skip
        assert kind == "complete" and "Ingrid Halvorsen" in json.dumps(answer)
        before = len(page.audit())
        for path, _, body in refused_calls(page):
            response = client.post(path, json=body)
            assert response.status_code == 403, (path, response.text)
            assert "rita is a reader: only editors may upload, delete or re-sync" in response.text
        transfer = client.post("/gradio_api/upload", files={"files": ("a.txt", b"hello")})
        assert transfer.status_code == 403
    assert (page.settings.docs_dir / SEED_FILE).is_file()
    assert len(rag.documents(page.settings).documents) == 2
    lines = page.audit()[before:]
    expected = [(action, "refused") for _, action, _ in refused_calls(page)] + [
        ("upload", "refused")
    ]
    assert [(e["action"], e["result"]) for e in lines] == expected
    assert {(e["user"], e["role"], e["client"]) for e in lines} == {("rita", "reader", "127.0.0.1")}
    assert lines[0]["files"] == [SEED_FILE] and lines[2]["files"] == ["x.txt"]
    assert lines[0]["reason"].startswith("rita is a reader: only editors")


def test_an_editor_uploads_resyncs_and_deletes(page: Page, tmp_path: Path) -> None:
    before = len(page.audit())
    with signed_in(page, EDITOR) as client:
        (tmp_path / "comet.txt").write_text("The comet Valdris returns every 83 years.\n")
        with (tmp_path / "comet.txt").open("rb") as file:
            sent = client.post("/gradio_api/upload", files={"files": ("comet.txt", file)})
        assert sent.status_code == 200, sent.text
        data = {"path": sent.json()[0], "orig_name": "comet.txt",
                "meta": {"_type": "gradio.FileData"}}  # fmt: skip
        kind, out = result(client, "upload", [[data]])
        assert kind == "complete" and "Added comet.txt." in out[0], out
        kind, out = result(client, "resync", [])
        assert kind == "complete" and "Synced: 0 added" in out[0], out
        kind, out = result(client, "delete", [["comet.txt"]])
        assert kind == "complete" and "Deleted comet.txt (1 chunk)." in out[1], out
    assert not (page.settings.docs_dir / "comet.txt").exists()
    lines = page.audit()[before:]
    assert [(e["user"], e["role"], e["action"], e["files"], e["result"]) for e in lines] == [
        ("ed", "editor", "upload", ["comet.txt"], "ok"),
        ("ed", "editor", "resync", [], "ok"),
        ("ed", "editor", "delete", ["comet.txt"], "ok"),
    ]
    assert lines[0]["reason"].startswith("Added comet.txt. 3 files")


def test_no_change_is_made_while_the_audit_log_cannot_be_written(page: Page) -> None:
    """A change that could not be recorded is not made (the log broke after the page started:
    here it became a folder; a full disk or a lost mount does the same)."""
    log_file = page.settings.audit_path
    kept = log_file.read_bytes()
    log_file.unlink()
    log_file.mkdir()
    try:
        with signed_in(page, EDITOR) as client:
            kind, out = result(client, "delete", [[SEED_FILE]])
            assert kind == "complete" and "Nothing was changed" in out[1], out
            assert "Cannot write the audit log" in out[1] and "RAG&#95;AUDIT&#95;LOG" in out[1]
            kind, out = result(client, "resync", [])
            assert kind == "complete" and "Nothing was changed" in out[0], out
    finally:
        log_file.rmdir()
        log_file.write_bytes(kept)
    assert (page.settings.docs_dir / SEED_FILE).is_file()
    assert SEED_FILE in {d.source for d in rag.documents(page.settings).documents}


def test_handlers_refuse_a_reader_too(page: Page) -> None:
    """Behind the HTTP check, the page's own functions check the role (and log)."""
    wired = {str(f.name): f.fn for f in page.app.fns.values() if f.fn}
    request = gr.Request(username="rita")
    assert "rita is a reader" in wired["resync"](request)
    assert "Sign in first" in wired["upload"]([str(SEEDS / SEED_FILE)], None)
    assert [e["result"] for e in page.audit()[-2:]] == ["refused", "refused"]


def test_a_team_replica_offers_no_changes_even_to_editors(
    tmp_path: Path,
    chroma_url: str,  # noqa: F811
) -> None:
    """Team mode (a real ``chroma run``): the writer's page shows an editor upload, delete and
    re-sync; a replica's page (the team's folder is not on it) shows them to nobody, and an
    editor's change reaching its handlers is refused and logged."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "moon.txt").write_text(MOON, encoding="utf-8")
    team = Settings(docs_dir=docs, store_dir=tmp_path / "store", chroma_url=chroma_url,
                    collection="auth-replica")  # fmt: skip
    rag.ingest(settings=team)
    add_user(team.users_path, "ed", "editor", "editor-pass-1", rounds=FAST)
    add_user(team.users_path, "rita", "reader", "reader-pass-1", rounds=FAST)
    wired = {str(f.name): f.fn for f in create_app(team).fns.values() if f.fn}
    editor, reader = gr.Request(username="ed"), gr.Request(username="rita")
    actions, selection, notice, who = wired["view"](editor)  # the writer's page
    assert actions["visible"] is True and selection["visible"] is True and not notice["visible"]
    assert who["value"].startswith("Signed in as ed (editor)")
    actions, _, notice, _ = wired["view"](reader)
    assert actions["visible"] is False and "rita is a reader" in notice["value"]

    docs.rename(tmp_path / "elsewhere")  # now this machine is a replica of the team's index
    actions, selection, notice, _ = wired["view"](editor)
    assert actions["visible"] is False and selection["visible"] is False
    assert "This page is a replica: the index on http://127.0.0.1:" in notice["value"]
    assert "Nothing was synced. This page is a replica" in wired["resync"](editor)
    assert "not on this machine" in wired["delete"](["moon.txt"], editor)[1]
    assert [d.source for d in rag.documents(team).documents] == ["moon.txt"]
    events = audit.read(team.audit_path)
    assert [(e["user"], e["action"], e["result"]) for e in events] == [
        ("ed", "resync", "refused"),
        ("ed", "delete", "refused"),
    ]
    assert all(e["reason"].startswith("This page is a replica") for e in events)


def test_an_empty_signed_in_page_does_not_tell_readers_to_upload(tmp_path: Path) -> None:
    settings = Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store")
    add_user(settings.users_path, "rita", "reader", "reader-pass-1", rounds=FAST)
    app = create_app(settings)
    wired = {str(f.name): f.fn for f in app.fns.values() if f.fn}
    tick = wired["tick"](-1, View())
    hint, label = tick[5], tick[7]
    assert "Nothing is indexed yet: editors add documents on the Documents tab." in hint["value"]
    assert str(tmp_path) not in hint["value"] and label == "Nothing is indexed yet."


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The page behind a signing-in proxy that names the user in X-Forwarded-User."""
    served = start(tmp_path_factory.mktemp("proxied"), proxy_user_header="X-Forwarded-User")
    try:
        yield served
    finally:
        served.app.close()


def test_a_trusted_proxy_header_names_the_user(proxied: Page) -> None:
    """The proxy names the user and forwards the client's address: the audit log records that
    address (not the proxy's) for changes refused at the door and for changes made."""
    with httpx.Client(base_url=proxied.url, timeout=60) as client:
        assert client.get("/config").status_code == 401  # no header: not signed in
        for name in ("rita", "someone-else"):  # a name the users file lacks is a reader
            user = {"X-Forwarded-User": name, "X-Forwarded-For": "203.0.113.7"}
            assert client.get("/config", headers=user).status_code == 200
            refused = client.post("/gradio_api/call/resync", json={"data": []}, headers=user)
            assert refused.status_code == 403 and f"{name} is a reader" in refused.text
        editor = {"X-Forwarded-User": "ed", "X-Forwarded-For": "198.51.100.4"}
        posted = client.post("/gradio_api/call/resync", json={"data": []}, headers=editor)
        assert posted.status_code == 200 and "event_id" in posted.json()
        event = posted.json()["event_id"]
        with client.stream("GET", f"/gradio_api/call/resync/{event}", headers=editor) as stream:
            assert any(line.startswith("event: complete") for line in stream.iter_lines())
    assert [(e["user"], e["role"], e["result"], e["client"]) for e in proxied.audit()[:3]] == [
        ("rita", "reader", "refused", "203.0.113.7"),
        ("someone-else", "reader", "refused", "203.0.113.7"),
        ("ed", "editor", "ok", "198.51.100.4"),
    ]


def test_the_proxy_header_is_believed_only_from_trusted_addresses(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "s", proxy_user_header="X-Forwarded-User",
                        trusted_proxies=("10.0.0.0/24",))  # fmt: skip
    access = Access.from_settings(settings)

    def request(client: str, name: str) -> Any:
        from starlette.requests import Request

        headers = [(b"x-forwarded-user", name.encode())]
        return Request({"type": "http", "headers": headers, "client": (client, 1)})

    assert access.proxy_user(request("10.0.0.7", "ed")) == "ed"
    assert access.proxy_user(request("127.0.0.1", "ed")) is None  # not the proxy
    assert access.proxy_user(request("10.0.0.7", "")) is None
    refusing = Access.from_settings(settings.with_(proxy_unknown_users="refuse"))
    assert refusing.proxy_user(request("10.0.0.7", "ed")) is None  # not in the users file
    add_user(settings.users_path, "ed", "editor", "editor-pass-1", rounds=FAST)
    assert refusing.proxy_user(request("10.0.0.7", "ed")) == "ed"
    with pytest.raises(ConfigError, match="RAG_TRUSTED_PROXIES: 'proxy' is not an address"):
        Access.from_settings(settings.with_(trusted_proxies=("proxy",)))
    assert os.environ.get("RAG_PROXY_USER_HEADER") is None


def test_a_client_that_keeps_failing_to_sign_in_is_turned_away(page: Page) -> None:
    """Guessing is held to MAX_FAILED failures a window per client; then 429 without a password
    check, while other clients still sign in. Clients here are addresses forwarded by a trusted
    proxy (loopback), so the other tests' own budget (127.0.0.1) is left alone."""
    before = len(page.audit())
    guesser, other = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "203.0.113.8"}
    wrong = {"username": READER[0], "password": "guess"}
    right = {"username": READER[0], "password": READER[1]}
    with httpx.Client(base_url=page.url, timeout=60) as client:
        for _ in range(MAX_FAILED):
            assert client.post("/login", data=wrong, headers=guesser).status_code == 400
        turned = client.post("/login", data=right, headers=guesser)  # even the right password
        assert turned.status_code == 429, turned.text
        assert 0 < int(turned.headers["Retry-After"]) <= WINDOW
        assert "Too many failed sign-ins" in turned.json()["detail"]
        assert "access-token" not in turned.headers.get("set-cookie", "")
        assert client.post("/login", data=right, headers=other).status_code == 200
    lines = [e for e in page.audit()[before:] if e["action"] == "sign-in"]
    assert [(e["user"], e["role"], e["client"], e["result"]) for e in lines] == [
        (READER[0], None, "203.0.113.7", "refused")
    ] * MAX_FAILED
    assert "refused for" in lines[-1]["reason"] and "refused for" not in lines[0]["reason"]


def test_a_forged_forwarded_address_does_not_escape_the_sign_in_limit(tmp_path: Path) -> None:
    """No proxy configured (the default): an attacker sending a new X-Forwarded-For with each
    guess is still one client. The old page believed loopback's header by default: 12 guesses,
    12 password checks, and the right password from a thirteenth made-up address got in."""
    served = start(tmp_path)
    try:
        wrong = {"username": READER[0], "password": "guess"}
        with httpx.Client(base_url=served.url, timeout=60) as client:
            codes = [
                client.post("/login", data=wrong,
                            headers={"X-Forwarded-For": f"10.9.0.{i}"}).status_code
                for i in range(MAX_FAILED + 2)
            ]  # fmt: skip
        assert codes == [400] * MAX_FAILED + [429] * 2
        assert {e["client"] for e in served.audit()} == {"127.0.0.1"}
    finally:
        served.app.close()


def test_guesses_sent_at_once_are_held_to_the_limit_too(page: Page) -> None:
    """Each attempt counts from the moment it is let through, not when its password is
    checked: twenty guesses at once get at most MAX_FAILED password checks."""
    headers = {"X-Forwarded-For": "203.0.113.20"}
    wrong = {"username": EDITOR[0], "password": "guess"}

    def guess(_: int) -> int:
        with httpx.Client(base_url=page.url, timeout=60) as client:
            return client.post("/login", data=wrong, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    assert statuses.count(400) == MAX_FAILED and statuses.count(429) == 20 - MAX_FAILED


def test_signing_in_as_oneself_does_not_wipe_the_failures_of_guessing(page: Page) -> None:
    headers = {"X-Forwarded-For": "203.0.113.30"}
    wrong = {"username": EDITOR[0], "password": "guess"}
    mine = {"username": READER[0], "password": READER[1]}
    with httpx.Client(base_url=page.url, timeout=60) as client:
        for _ in range(MAX_FAILED - 1):
            assert client.post("/login", data=wrong, headers=headers).status_code == 400
        assert client.post("/login", data=mine, headers=headers).status_code == 200
        assert client.post("/login", data=wrong, headers=headers).status_code == 400
        assert client.post("/login", data=mine, headers=headers).status_code == 429


def test_a_failed_browser_sign_in_is_logged_with_the_name_tried(page: Page) -> None:
    """Gradio's login page posts multipart form data: the name is read from it too."""
    before = len(page.audit())
    form = {"username": (None, "mallory"), "password": (None, "guess")}
    headers = {"X-Forwarded-For": "203.0.113.40"}
    with httpx.Client(base_url=page.url, timeout=60) as client:
        assert client.post("/login", files=form, headers=headers).status_code == 400
    (line,) = [e for e in page.audit()[before:] if e["action"] == "sign-in"]
    assert (line["user"], line["client"]) == ("mallory", "203.0.113.40")


def test_sign_in_failures_count_per_client_over_a_sliding_window() -> None:
    now = [1000.0]
    throttle = SignInThrottle(max_failed=3, window=60.0, max_clients=2, clock=lambda: now[0])
    for _ in range(2):
        assert throttle.attempt("a") is not None
    assert throttle.wait("a") == 0.0  # two failures: still allowed
    now[0] += 10
    token = throttle.attempt("a")
    assert token is not None
    assert throttle.wait("a") == 50.0  # until the first failure leaves the window
    assert throttle.attempt("a") is None  # turned away: not counted again
    assert throttle.wait("b") == 0.0
    throttle.succeeded("a", token)  # the last attempt signed in: it alone is taken back
    assert throttle.wait("a") == 0.0
    assert throttle.attempt("a") is not None
    assert throttle.wait("a") == 50.0
    now[0] += 50
    assert throttle.wait("a") == 0.0  # the first two left the window
    # At most max_clients remembered: the quietest is forgotten first.
    for client in ("x", "y", "z"):
        for _ in range(3):
            throttle.attempt(client)
    assert throttle.wait("x") == 0.0 and throttle.wait("y") > 0 and throttle.wait("z") > 0
    throttle.succeeded("x", now[0])  # forgotten (or never seen): nothing to take back
    throttle.succeeded("nobody", now[0])
    assert throttle.wait("x") == 0.0
    # The last half second of a wait still turns a guess away, and says so to the decimal.
    now[0] += 59.5
    assert throttle.wait("y") == 0.5 and throttle.attempt("y") is None
    now[0] += 0.5
    assert throttle.wait("y") == 0.0 and throttle.attempt("y") is not None


def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.requests import Request

    settings = Settings(docs_dir=tmp_path, store_dir=tmp_path / "store")
    add_user(settings.users_path, "ed", "editor", "editor-pass-1", rounds=FAST)
    # No proxy configured: a forwarded address is nobody's to believe, loopback's neither (a
    # local user, or a TLS tunnel passing a client's headers through, would forge one per guess).
    bare = Access.from_settings(settings)
    forged = Request({"type": "http", "client": ("127.0.0.1", 1),
                      "headers": [(b"x-forwarded-for", b"203.0.113.9")]})  # fmt: skip
    assert bare.proxies == () and bare.client(forged) == "127.0.0.1"
    # A page upgraded from when loopback was believed by default is told, once, what to set.
    untrusted_loopback_proxy.cache_clear()
    with caplog.at_level(logging.WARNING, logger="ui"):
        bare.client(forged), bare.client(forged)
        bare.client(Request({"type": "http", "client": ("127.0.0.1", 1), "headers": []}))
    assert [r.getMessage() for r in caplog.records if r.name == "ui"] == [
        "A request from this machine carries X-Forwarded-For, but no proxy is trusted: every "
        "client behind that proxy counts as one address (they share the sign-in limit, and the "
        "audit log records the proxy's address). If the page is behind a proxy on this "
        "machine, set RAG_TRUSTED_PROXIES=127.0.0.1,::1."
    ]
    assert Access.from_settings(settings.with_(proxy_user_header="X-User")).proxies == (
        "127.0.0.1", "::1"
    )  # fmt: skip
    access = Access.from_settings(settings.with_(trusted_proxies=("127.0.0.1",)))

    def client(peer: str, *forwarded: str) -> str:
        headers = [(b"x-forwarded-for", f.encode()) for f in forwarded]
        return access.client(Request({"type": "http", "client": (peer, 1), "headers": headers}))

    assert client("127.0.0.1", "198.51.100.1, 203.0.113.9") == "203.0.113.9"
    # A proxy that adds its own header line after the client's: its line is the one believed.
    assert client("127.0.0.1", "10.9.9.9", "203.0.113.9") == "203.0.113.9"
    assert client("192.0.2.5", "203.0.113.9") == "192.0.2.5"  # not a trusted proxy
    assert client("127.0.0.1") == "127.0.0.1"
    assert client("127.0.0.1", "not-an-address") == "127.0.0.1"


# Request bodies ------------------------------------------------------------------------------


def raw_post(page: Page, path: str, head: str, parts: Iterator[bytes]) -> bytes:
    """POST ``parts`` as they come (a raw socket: the client never waits for the server), then
    what the server answers within 20 s (b"" if it answers nothing)."""
    port = int(page.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\n{head}\r\n".encode()
        )
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:  # the server answered and closed while we still sent
            pass
        try:
            return sock.recv(65536)
        except OSError:
            return b""


def test_a_body_over_the_cap_is_refused_before_anyone_reads_it(page: Page) -> None:
    """A signed-in user: a 1 GiB Content-Length, and a chunked body past 16 MiB, get 413 at
    once. The old page read either whole into memory (800 MB sent to queue/join grew it by
    2.4 GB). Nobody signed in gets 401 at once, whatever the body; a body under the cap from a
    reader still reaches the role check."""
    with signed_in(page, READER) as client:
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    signed, huge = f"Cookie: {cookie}\r\n", f"Content-Length: {2**30}\r\n"
    declared = raw_post(page, "/gradio_api/queue/join", signed + huge, iter(()))
    assert declared.startswith(b"HTTP/1.1 413 "), declared[:80]
    assert b"The request is over 16 MiB" in declared
    anonymous = raw_post(page, "/gradio_api/queue/join", huge, iter(()))
    assert anonymous.startswith(b"HTTP/1.1 401 "), anonymous[:80]
    mib = b" " * 2**20
    chunk = f"{len(mib):x}\r\n".encode() + mib + b"\r\n"
    chunked = raw_post(
        page,
        "/gradio_api/run/predict",
        f"{signed}Transfer-Encoding: chunked\r\n",
        iter([chunk] * 17),  # no last chunk: the body never ends
    )
    assert chunked.startswith(b"HTTP/1.1 413 "), chunked[:80]
    under = {"data": ["x" * 2**20], "session_hash": "abc", "fn_index": page.index_of("delete")}
    with signed_in(page, None) as client:
        assert client.post("/gradio_api/queue/join", json=under).status_code == 401
    with signed_in(page, READER) as client:
        assert client.post("/gradio_api/queue/join", json=under).status_code == 403


# One user and the queue ----------------------------------------------------------------------


def test_one_user_cannot_fill_the_queue_for_everyone(tmp_path: Path) -> None:
    """A reader posts 12 questions at once to a page answering one at a time (a model server
    that takes 30 s): 8 are queued, the rest get 429; another user's question is still
    queued. The old page queued all of them, up to RAG_QUEUE_SIZE (256), and then answered
    everyone else ``503 Queue is full``."""
    from tests.openai_server import OpenAIServer, Reply
    from ui.fair_queue import MAX_PENDING

    with OpenAIServer() as llm:
        llm.script(Reply("Ingrid Halvorsen [1].", delay=30))
        served = start(tmp_path, openai_base_url=llm.url, chat_concurrency=1, llm_timeout=40)
        rag.ingest(settings=served.settings)
        try:
            ask = next(int(fn._id) for fn in served.app.fns.values() if str(fn.api_name) == "ask")

            def join(client: httpx.Client, session: str) -> httpx.Response:
                data = ["Who commands Moonbase Tranquility?", None, 5, "hybrid", "openai"]
                body = {"data": data, "fn_index": ask, "session_hash": session}
                return client.post("/gradio_api/queue/join", json=body)

            with signed_in(served, READER) as rita:
                codes = [join(rita, f"rita-{i}").status_code for i in range(12)]
                refused = join(rita, "rita-last")
            assert codes == [200] * MAX_PENDING + [429] * (12 - MAX_PENDING)
            assert refused.json()["detail"] == (
                "rita already has 8 questions or changes waiting or running: wait for their "
                "answers, then ask again."
            )
            with signed_in(served, EDITOR) as ed:
                assert join(ed, "ed-1").status_code == 200
        finally:
            served.app.close()


def test_an_audit_line_the_disk_had_no_room_for_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk part way through a line: the file is cut back to its last whole line, so
    the next event, once there is room, is a line of its own (a reviewer's full disk glued the
    next event onto a torn line, and audit.read() failed on the whole log)."""
    path = tmp_path / "audit.jsonl"
    first = audit.AuditEvent("rita", "editor", "upload", ("a.md",), "done", "")
    audit.append(path, first)
    real_write = os.write
    calls = []

    def full(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:20])  # room for 20 bytes
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    torn = audit.AuditEvent("rita", "editor", "delete", ("b.md",), "done", "")
    with pytest.raises(OSError, match="No space left"):
        audit.append(path, torn)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == first.to_json() + "\n"
    third = audit.AuditEvent("rita", "editor", "delete", ("c.md",), "done", "")
    audit.append(path, third)
    assert [e["files"] for e in audit.read(path)] == [["a.md"], ["c.md"]]
