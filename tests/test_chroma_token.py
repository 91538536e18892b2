"""RAG_CHROMA_TOKEN: the token reaches a real `chroma run` through a real token-checking proxy
(Debian's nginx with deploy/chroma-token.nginx.conf, the README's example), a refusal is one
line that says what to set, and the token is never printed.

`chroma run` (Chroma 1.x) has no authentication of its own: the first test pins that, so a
Chroma that gains it fails here and tells us to use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

import rag
from rag.config import Settings
from rag.errors import ConfigError, StoreError
from tests.local_http import serving
from tests.test_chroma_server import chroma_url, free_port  # noqa: F401  (the server fixture)

ROOT = Path(__file__).resolve().parents[1]
PROXY_CONF = ROOT / "deploy" / "chroma-token.nginx.conf"
TOKEN = "t0ken-for-the-test-5c1e"
LIST = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server stopped at once: {log.read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server did not start: {log.read_text()}")


@pytest.fixture(scope="module")
def proxy_url(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """Debian's nginx in front of the module's `chroma run`, configured by the README's file."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run installs it (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx); CI installs it")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = PROXY_CONF.read_text(encoding="utf-8")
    for example, value in (
        ("CHANGE-ME-to-a-long-random-token", TOKEN),
        ("listen 0.0.0.0:8001;", f"listen 127.0.0.1:{port};"),
        ("http://127.0.0.1:8000;", f"{chroma_url};"),
    ):
        assert example in site, f"{PROXY_CONF} no longer holds {example!r}"
        site = site.replace(example, value)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {folder / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    log = folder / "nginx.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", "nginx.conf"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, server, log)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


def test_chroma_run_has_no_token_check_of_its_own(tmp_path: Path) -> None:
    """Chroma 0.x's token settings, given to `chroma run` 1.x: a client without a token still
    lists, creates and reads collections (why the README puts a proxy in front)."""
    port = free_port()
    env = dict(
        os.environ,
        CHROMA_SERVER_AUTHN_PROVIDER="chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        CHROMA_SERVER_AUTHN_CREDENTIALS=TOKEN,
        CHROMA_AUTH_TOKEN_TRANSPORT_HEADER="Authorization",
    )
    chroma = str(Path(sys.executable).with_name("chroma"))
    log = tmp_path / "chroma.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                chroma,
                "run",
                "--path",
                str(tmp_path / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                f"{port}",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log)
        base = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{base}{LIST}", json={"name": "intruder"}, timeout=30)
        listed = httpx.get(f"{base}{LIST}", timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert created.status_code == 200, created.text
    assert [c["name"] for c in listed.json()] == ["intruder"]


def test_the_token_reaches_chroma_through_a_token_checking_proxy(
    settings: Settings,
    proxy_url: str,
    chroma_url: str,  # noqa: F811
) -> None:
    remote = settings.with_(chroma_url=proxy_url, chroma_token=TOKEN, collection="token-test")
    report = rag.ingest(settings=remote)
    assert report.added_files == 1 and report.total_chunks > 0
    answer = rag.answer("Who is the president of Serbia?", settings=remote)
    assert "Vučić" in answer.citations[0].text
    # The chunks are in the server behind the proxy; the proxy itself lets nothing through
    # without the token.
    names = {c["name"] for c in httpx.get(f"{chroma_url}{LIST}", timeout=30).json()}
    assert "token-test" in names
    assert httpx.get(f"{proxy_url}{LIST}", timeout=30).status_code == 401
    wrong = httpx.get(f"{proxy_url}{LIST}", headers={"Authorization": "Bearer x"}, timeout=30)
    assert wrong.status_code == 401


def rag_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        env=dict(os.environ, PYTHONPATH=str(ROOT), **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (None, "asks for a token (HTTP 401)"),
        ("wrong-token-0123456789", "refused the token (HTTP 401)"),
    ],
    ids=["no-token", "wrong-token"],
)
def test_a_refused_token_is_one_line_that_never_shows_it(
    tmp_path: Path, proxy_url: str, token: str | None, says: str
) -> None:
    env = {"RAG_CHROMA_URL": proxy_url, "RAG_STORE_DIR": str(tmp_path / "store")}
    if token:
        env["RAG_CHROMA_TOKEN"] = token
    done = rag_cli("docs", **env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"error: The Chroma server at {proxy_url} {says}: set RAG_CHROMA_TOKEN to the token its "
        "proxy expects.\n"
    )
    if token:  # the traceback and the debug logs of HTTP clients do not show it either
        debug = rag_cli("--debug", "docs", **env)
        assert debug.returncode == 1 and "StoreError" in debug.stderr
        assert token not in debug.stdout + debug.stderr


class _Recorder(BaseHTTPRequestHandler):
    """Answers who-am-I (Chroma's first call) and refuses everything else as nginx does,
    recording the Authorization header of every request."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.endswith("/auth/identity"):
            body = b'{"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b"<html><head><title>401 Authorization Required</title></head></html>"
            self.send_response(401)
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_token_is_sent_as_a_bearer_header_and_a_later_refusal_is_named(
    settings: Settings,
) -> None:
    """Without nginx: a real HTTP server on 127.0.0.1 sees the header on our check and on
    Chroma's client's own requests; a refusal after the check is still one line."""
    _Recorder.seen = []
    with serving(_Recorder) as url, pytest.raises(StoreError) as caught:
        rag.ingest(settings=settings.with_(chroma_url=url, chroma_token=TOKEN))
    assert str(caught.value) == (
        f"The Chroma server at {url} refused the request (HTTP 401): set RAG_CHROMA_TOKEN to "
        "the token its proxy expects."
    )
    assert len(_Recorder.seen) >= 3  # our check, the client's who-am-I, its heartbeat
    assert {header for _, header in _Recorder.seen} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("token", ["two words", "tab\there", "line\nbreak", "ünïcode"])
def test_a_token_a_header_cannot_carry_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(chroma_token=token)
    assert "RAG_CHROMA_TOKEN" in str(caught.value) and token not in str(caught.value)


def test_settings_never_show_the_token() -> None:
    assert TOKEN not in repr(Settings(chroma_token=TOKEN))
