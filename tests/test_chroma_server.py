"""RAG_CHROMA_URL: ingest and answer against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.errors import StoreError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    chroma = str(Path(sys.executable).with_name("chroma"))
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text()}")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


def test_ingest_and_answer_on_a_chroma_server(settings: Settings, chroma_url: str) -> None:
    remote = settings.with_(chroma_url=chroma_url, collection="server-test")
    report = rag.ingest(settings=remote)
    assert report.added_files == 1 and report.total_chunks > 0
    assert rag.ingest(settings=remote).added_chunks == 0
    answer = rag.answer("Who is the president of Serbia?", settings=remote)
    assert "Vučić" in answer.citations[0].text
    text = rag.document_text(answer.citations[0].source, remote)
    assert text[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].text
    # Nothing went into a local Chroma folder.
    assert not (settings.store_dir / "chroma").exists()


def test_unreachable_server_is_a_clear_error(settings: Settings) -> None:
    port = free_port()
    with pytest.raises(
        StoreError, match=r"The Chroma server at http://127\.0\.0\.1:\d+ is not reach"
    ):
        rag.ingest(settings=settings.with_(chroma_url=f"http://127.0.0.1:{port}"))
