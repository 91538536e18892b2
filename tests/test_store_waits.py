"""A Chroma server that stops answering: the client gives up after a bounded wait and says so
(chromadb's own client waits for ever; a reviewer's `rag ask` hung until it was killed). And what
a server's failure advises."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import rag.store
from rag.config import Settings
from rag.errors import StoreError
from rag.store import VectorStore
from tests.local_http import serving

WAIT = 0.5


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rag.store, "CHECK_SECONDS", WAIT)
    monkeypatch.setattr(rag.store, "REPLY_SECONDS", WAIT)


@pytest.fixture
def silent() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def stalls_after_identity() -> Iterator[str]:
    """A server that answers the identity check and then never answers (a hung server)."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/api/v2/auth/identity":
                body = json.dumps({"user_id": "", "tenant": "default_tenant", "databases": []})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
                return
            release.wait(30)  # the heartbeat: no reply

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url
        release.set()  # before the server stops: its handlers wait on it


def expect_bounded_refusal(url: str, tmp_path: Path) -> str:
    began = time.monotonic()
    with pytest.raises(StoreError) as failed:
        VectorStore(Settings(store_dir=tmp_path / "store", chroma_url=url))
    assert time.monotonic() - began < 20  # not the 30 s and 120 s of the real waits
    return str(failed.value)


@pytest.mark.usefixtures("short_waits")
def test_a_server_that_never_answers_is_said_not_to_answer(silent: str, tmp_path: Path) -> None:
    message = expect_bounded_refusal(silent, tmp_path)
    assert message == (
        f"The Chroma server at {silent} did not answer within {WAIT:g} s: check that it runs "
        "and is not overloaded or stopped (restart chroma run --path DIR), then try again."
    )


@pytest.mark.usefixtures("short_waits")
def test_a_server_that_stops_answering_after_the_check_is_said_not_to_answer(
    stalls_after_identity: str, tmp_path: Path
) -> None:
    message = expect_bounded_refusal(stalls_after_identity, tmp_path)
    assert message.startswith(
        f"The Chroma server at {stalls_after_identity} did not answer within {WAIT:g} s: "
    )


def test_the_real_waits_are_bounded() -> None:
    assert rag.store.CONNECT_SECONDS <= rag.store.CHECK_SECONDS <= rag.store.REPLY_SECONDS
    assert rag.store.REPLY_SECONDS <= 300


def test_a_server_failure_never_advises_deleting_the_teams_index() -> None:
    failure = RuntimeError("Error in compaction: Failed to apply logs")
    served = rag.store.failed_while("http://127.0.0.1:8000", "adding chunks", failure)
    assert served == (
        "The Chroma store at http://127.0.0.1:8000 failed while adding chunks (RuntimeError: "
        "Error in compaction: Failed to apply logs): check the server's log and the free space "
        "of its disk (chroma run --path DIR), then run rag ingest to repair the index."
    )
    local = rag.store.failed_while("/data/store/chroma", "adding chunks", failure)
    assert local.endswith(
        "run rag ingest to repair the index; if that fails too, delete /data/store/chroma and "
        "run rag ingest to rebuild it from the documents."
    )
