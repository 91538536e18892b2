"""Fault cases of issue 20 item 8: bad store, cache and collection settings, a disk that fills
inside Chroma, and a Chroma server that dies mid-ingest. Each ends in one line that names the
real cause, never "unexpected ..." or "delete the store"."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.cli import main
from tests.test_chroma_server import free_port
from tests.test_entities import report
from tests.test_faults_store import _can_mount_tmpfs

ROOT = Path(__file__).resolve().parents[1]


def write_towns(folder: Path, count: int, repeat: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"r{i:03d}.txt").write_text(report(i) * repeat, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "RAG_STORE_DIR",
            "/proc/rag-store",
            "error: RAG_STORE_DIR=/proc/rag-store cannot be created (No such file or directory): "
            "set RAG_STORE_DIR to a folder you can write.\n",
        ),
        (
            "RAG_STORE_DIR",
            "{file}/store",
            "error: RAG_STORE_DIR={file}/store cannot be a folder: {file} is a file. Set "
            "RAG_STORE_DIR to a folder you can write.\n",
        ),
        (
            "RAG_CACHE_DIR",
            "{file}",
            "error: RAG_CACHE_DIR={file} cannot be a folder: {file} is a file. Set RAG_CACHE_DIR "
            "to a folder you can write.\n",
        ),
        (
            "RAG_COLLECTION",
            "a",
            "error: RAG_COLLECTION='a' is not a collection name Chroma accepts: use 3 to 480 "
            "letters, digits, '.', '_' or '-', starting and ending with a letter or digit.\n",
        ),
    ],
)
def test_bad_settings_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    expected: str,
) -> None:
    """D18 / B13: these were "unexpected NotADirectoryError" and similar."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    docs = write_towns(tmp_path / "docs", 2)
    monkeypatch.setenv(variable, value.format(file=a_file))
    assert main(["ingest", str(docs)]) == 1
    assert capsys.readouterr().err == expected.format(file=a_file)


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs a user namespace to mount a tmpfs")
def test_a_disk_full_inside_chroma_names_the_disk(tmp_path: Path) -> None:
    """D17: with 5 MB, Chroma fails in its compaction ("Error in compaction: Failed to apply
    logs to the metadata segment"), without the OS's ENOSPC: that was reported as a damaged
    store to delete."""
    mount = tmp_path / "disk"
    mount.mkdir()
    docs = write_towns(tmp_path / "docs", 300, repeat=3)
    store = mount / "store"
    script = f'mount -t tmpfs -o size=5m tmpfs "{mount}" && {sys.executable} -m rag ingest "{docs}"'
    env = dict(os.environ, RAG_STORE_DIR=str(store), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"error: The disk holding {store}/chroma is full")
    assert "free some space" in errors[0] and "delete" not in errors[0]
    assert "Traceback" not in done.stderr


def start_chroma(data: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = str(Path(sys.executable).with_name("chroma"))
    server = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            import socket

            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    pytest.fail("chroma run did not start")


@pytest.mark.slow
def test_a_dead_chroma_server_is_named_and_leaves_no_stale_lease(tmp_path: Path) -> None:
    """S6: the server killed mid-ingest: "failed while releasing the writer lease ... delete
    http://..." and a lease left behind. Now: one line saying the server is not reachable, and
    the next ingest (server back) takes the lease over at once and ends consistent."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    docs = write_towns(tmp_path / "docs", 300)
    env = dict(
        os.environ,
        RAG_STORE_DIR=str(tmp_path / "store"),
        RAG_CHROMA_URL=url,
        RAG_CHUNK_SIZE="100",
        RAG_CHUNK_OVERLAP="0",
        PYTHONPATH=str(ROOT),
    )
    server = start_chroma(tmp_path / "db", port)
    try:
        ingest = subprocess.Popen(
            [sys.executable, "-m", "rag", "ingest", str(docs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert ingest.stderr is not None
        for line in ingest.stderr:  # the sync is writing
            if line.startswith("INFO: Indexed "):
                break
        server.send_signal(signal.SIGKILL)
        server.wait()
        _, err = ingest.communicate(timeout=300)
        assert ingest.returncode == 1
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, err
        assert errors[0].startswith(f"error: The Chroma server at {url} is not reachable")
        assert "releasing" not in err and "Traceback" not in err
    finally:
        server.kill()
        server.wait()
    server = start_chroma(tmp_path / "db", port)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "rag", "ingest", str(docs)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert "its process is gone" in done.stderr  # taken over at once, not after 30 s
        assert " chunks in 300 files (" in done.stdout
        print(f"re-ingest after the restart: {time.monotonic() - started:.1f} s")
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=port)
        names = sorted(getattr(c, "name", c) for c in client.list_collections())
        assert names == ["documents", "documents__documents"]  # no lease left
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(tmp_path / "db", ignore_errors=True)
