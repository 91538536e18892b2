"""Server mode (issue 11): one `chroma run`, several app processes, the server holds the index.

Each process has its own empty store folder (its caches); only the ingesting one has the
documents folder. Writers and replicas are real `rag` processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag
from rag.api import engine
from rag.catalog import ServerCatalog
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.lease import ServerLease
from rag.lexical import LexicalIndex
from rag.store import VectorStore
from tests.test_chroma_server import chroma_url  # noqa: F401  (the server fixture)

ROOT = Path(__file__).resolve().parents[1]
SMALL_CHUNKS = {"RAG_CHUNK_SIZE": "100", "RAG_CHUNK_OVERLAP": "0"}
RARE = (
    "The Velmar bridge was built from zorbulax stone. Zorbulax stone is quarried only near "
    "the village of Hennick, and the bridge took nine years to finish."
)

pytestmark = pytest.mark.slow


def fact(i: int) -> str:
    return " ".join(
        f"File {i} describes the quux{i} tower. The quux{i} tower is {10 + i} metres tall. "
        f"It was built by the guild of zorb{i} masons. Record {j}."
        for j in range(4)
    )


def write_docs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"f{i:03d}.txt").write_text(fact(i), encoding="utf-8")


def env_for(store: Path, url: str, docs: Path, **extra: str) -> dict[str, str]:
    """``url`` is the server's address and a collection, joined by ``#``."""
    address, collection = url.split("#")
    env = dict(os.environ, RAG_STORE_DIR=str(store), RAG_DOCS_DIR=str(docs), PYTHONPATH=str(ROOT))
    env.update(RAG_CHROMA_URL=address, RAG_COLLECTION=collection, **extra)
    return env


def run_rag(store: Path, url: str, docs: Path, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rag", *args],
        env=env_for(store, url, docs, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_rag(store: Path, url: str, docs: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rag", *args],
        env=env_for(store, url, docs, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def url(chroma_url: str, request: pytest.FixtureRequest) -> str:  # noqa: F811
    """The module's server and a fresh, empty collection of this test's own."""
    return f"{chroma_url}#t-{request.node.name.replace('_', '-')[5:60]}"


def remote(store: Path, url: str, docs: Path) -> Settings:
    address, collection = url.split("#")
    return Settings(docs_dir=docs, store_dir=store, chroma_url=address, collection=collection)


def server_state(settings: Settings) -> tuple[list[str], list[str], bool]:
    """Chroma ids and the server's document list (chunk ids), sorted with repeats kept."""
    store = VectorStore(settings)
    try:
        manifest = ServerCatalog(store).load()
        stored = sorted(store.all_ids())
    finally:
        store.close()
    listed = sorted(c for entry in manifest.files.values() for c in entry.chunks)
    return stored, listed, manifest.in_progress


def bm25_rows(store_dir: Path, url: str) -> list[str]:
    """The BM25 cache of the replica whose store folder is ``store_dir``, for ``url``'s
    collection (``bm25-<collection>``: each collection has its own)."""
    own = remote(store_dir, url, store_dir).own("bm25")
    assert own == store_dir / f"bm25-{url.split('#')[1]}"
    return sorted(LexicalIndex(own)._current().ids)


def assert_consistent(settings: Settings, replicas: list[Path], docs: Path) -> None:
    stored, listed, in_progress = server_state(settings)
    assert not in_progress
    assert len(set(listed)) == len(listed), "a chunk id is listed twice"
    assert stored == listed
    for store_dir in replicas:
        # A question makes each replica bring its cache in line with the server.
        url = f"{settings.chroma_url}#{settings.collection}"
        run_rag(store_dir, url, docs, "ask", "How tall is the quux3 tower?")
        assert bm25_rows(store_dir, url) == stored, store_dir
    docs_listed = ServerCatalog(VectorStore(settings)).load().files
    assert sorted(docs_listed) == sorted(p.name for p in docs.glob("*.txt"))


def test_a_replica_follows_another_process_ingest(url: str, tmp_path: Path) -> None:
    docs, nowhere = tmp_path / "docs", tmp_path / "no-docs-here"
    write_docs(docs, 3)
    store_a, store_b = tmp_path / "a", tmp_path / "b"
    run_rag(store_a, url, docs, "ingest", str(docs))
    # B: no documents folder, an empty store folder; it answers from the server.
    first = run_rag(store_b, url, nowhere, "docs")
    assert first.splitlines()[-1].startswith("3 files, ")
    run_rag(store_b, url, nowhere, "ask", "How tall is the quux1 tower?")
    before = len(bm25_rows(store_b, url))

    (docs / "bridge.txt").write_text(RARE, encoding="utf-8")
    started = time.monotonic()
    run_rag(store_a, url, docs, "ingest", str(docs))
    listing = run_rag(store_b, url, nowhere, "docs")
    assert "bridge.txt" in listing and listing.splitlines()[-1].startswith("4 files, ")
    question = "What is zorbulax?"
    bm25 = json.loads(run_rag(store_b, url, nowhere, "ask", question, "--mode", "bm25", "--json"))
    hybrid = json.loads(run_rag(store_b, url, nowhere, "ask", question, "--json"))
    print(f"replica saw the ingest {time.monotonic() - started:.1f} s after it started")
    assert len(bm25_rows(store_b, url)) > before  # its BM25 cache followed the server
    cited = (hybrid["citations"] or hybrid["closest"])[0]
    assert (bm25["citations"] or bm25["closest"])[0]["source"] == "bridge.txt"
    assert cited["source"] == "bridge.txt"
    b = remote(store_b, url, nowhere)
    text = rag.document_text("bridge.txt", b)
    assert text[cited["start"] : cited["end"]] == cited["text"]
    assert text == RARE
    assert not nowhere.exists()


def test_an_answer_only_replica_never_empties_the_server(url: str, tmp_path: Path) -> None:
    docs, empty = tmp_path / "docs", tmp_path / "empty"
    write_docs(docs, 2)
    empty.mkdir()
    run_rag(tmp_path / "a", url, docs, "ingest", str(docs))
    out = run_rag(tmp_path / "b", url, empty, "ingest")
    assert out.startswith("0 added, 0 updated, 0 removed, 0 renamed, 2 unchanged files;")
    # What `rag ui` does before serving: create the folder, sync it.
    from ui.app import prepare_index

    b = remote(tmp_path / "c", url, tmp_path / "missing")
    prepare_index(b)
    assert [d.source for d in rag.documents(b).documents] == ["f000.txt", "f001.txt"]


def test_two_ingests_at_once_serialise_on_the_lease(url: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 30)
    stores = [tmp_path / "w1", tmp_path / "w2"]
    procs = [start_rag(s, url, docs, "ingest", str(docs), **SMALL_CHUNKS) for s in stores]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    print("waited:", ["is writing the index" in e for e in errs])
    settings = remote(stores[0], url, docs)
    assert_consistent(settings, [*stores, tmp_path / "replica"], docs)
    again = run_rag(stores[1], url, docs, "ingest", str(docs), **SMALL_CHUNKS)
    assert again.startswith("0 added, 0 updated, 0 removed, 0 renamed, 30 unchanged files")


def test_a_held_lease_makes_a_writer_wait_then_says_who(url: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, 1)
    settings = remote(tmp_path / "a", url, docs)
    other = ServerLease(engine(settings).store)
    busy = pytest.raises(StoreBusyError, match=rf"another ingest \({re.escape(other.holder)}\)")
    with other.held(), busy:
        rag.ingest(settings=settings, timeout=1.0)
    assert rag.ingest(settings=settings).added_files == 1


def test_kill_mid_ingest_then_sync_is_consistent(url: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    # Enough documents that the ingest is still writing when the poll below sees it started,
    # however fast this machine runs it (40 finished first on an unloaded run).
    write_docs(docs, 200)
    store_a = tmp_path / "a"
    settings = remote(store_a, url, docs)
    proc = start_rag(store_a, url, docs, "ingest", str(docs), **SMALL_CHUNKS)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            stored, _, in_progress = server_state(settings)
        except Exception:
            stored, in_progress = [], False
        if in_progress and stored:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the ingest ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored, _, in_progress = server_state(settings)
    assert in_progress and stored  # killed mid-write
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(docs)],
        env=env_for(tmp_path / "b", url, docs, **SMALL_CHUNKS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Taking over the writer lease" in done.stderr and "its process is gone" in done.stderr
    print(f"sync after the kill: {time.monotonic() - started:.1f} s")
    assert_consistent(settings, [store_a, tmp_path / "b"], docs)


def test_lease_check_raises_once_the_lease_is_taken_over(url: str, tmp_path: Path) -> None:
    """Issue 20 item 3: ``check`` asks the server, so a holder finds out before its next write
    (not at the renewer's next beat)."""
    settings = remote(tmp_path / "a", url, tmp_path / "docs")
    store = engine(settings).store
    lease = ServerLease(store)
    with lease.held():
        lease.check()  # held: no error
        current = store.marker(lease.name)
        assert current is not None
        store.drop_marker(lease.name, current[0])  # a waiter retired it ...
        assert store.create_marker(lease.name, {"holder": "thief"}) is not None  # ... and took it
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()
    thief = store.marker(lease.name)
    assert thief is not None and thief[1]["holder"] == "thief"  # the loser did not release it


def test_lease_check_raises_when_not_renewed_in_time(url: str, tmp_path: Path) -> None:
    """A holder that was paused (its last renewal older than FENCE_S) stops writing even before
    the server says so: a waiter may take over at TTL_S of its own clock."""
    from rag import lease as lease_module

    settings = remote(tmp_path / "a", url, tmp_path / "docs")
    lease = ServerLease(engine(settings).store)
    with lease.held():
        lease._renewed = time.monotonic() - lease_module.FENCE_S - 0.1  # as after a pause
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()
    assert lease_module.FENCE_S < lease_module.TTL_S


def test_a_writer_that_lost_the_lease_writes_nothing_more(url: str, tmp_path: Path) -> None:
    """S4: the lease is taken over while a sync writes; its next batch raises, and the server
    holds no chunk written after the take-over."""
    docs = tmp_path / "docs"
    write_docs(docs, 80)
    settings = remote(tmp_path / "a", url, docs).with_(chunk_size=100, chunk_overlap=0)
    store = engine(settings).store
    stolen: list[int] = []

    def steal(done: int, total: int, message: str) -> None:
        if message.startswith("Indexed") and not stolen and done < total:
            current = store.marker(f"{store.name}__lease")
            assert current is not None
            store.drop_marker(f"{store.name}__lease", current[0])
            store.create_marker(f"{store.name}__lease", {"holder": "thief"})
            stolen.append(store.count())

    with pytest.raises(StoreBusyError, match="lost the writer lease"):
        rag.ingest(settings=settings, progress=steal)
    assert stolen, "the sync ended before the lease could be taken"
    assert store.count() == stolen[0]  # nothing written after the take-over
    assert server_state(settings)[2]  # in progress: the next writer's sync repairs it
    thief = store.marker(f"{store.name}__lease")
    assert thief is not None
    store.drop_marker(f"{store.name}__lease", thief[0])
    rag.ingest(settings=settings)
    assert_consistent(settings, [], docs)


def test_a_replica_never_replaces_the_team_index(url: str, tmp_path: Path) -> None:
    """S7 / S8: on a replica (the team's folder is on the writer's host), a page upload into
    the replica's own folder and a `rag ingest` without a path, run from the repo root (which
    holds seeds/), leave the team's index as it is."""
    docs = tmp_path / "docs"
    write_docs(docs, 4)
    run_rag(tmp_path / "w", url, docs, "ingest", str(docs))
    writer = remote(tmp_path / "w", url, docs)
    catalog = ServerCatalog(VectorStore(writer))
    header = dict(catalog.documents.metadata or {})
    catalog.documents.modify(metadata={**header, "host": "writer-box"})  # the writer's host
    before = server_state(writer)

    env = env_for(tmp_path / "r", url, docs)
    del env["RAG_DOCS_DIR"]  # the replica names no folder: seeds/ is the default
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ingest"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 added, 0 updated, 0 removed, 0 renamed, 4 unchanged files")
    assert "This machine is a replica" in done.stderr and "writer-box" in done.stderr

    upload = tmp_path / "replica-docs"  # a page upload saves here, then syncs
    upload.mkdir()
    (upload / "mine.txt").write_text("One uploaded file.", encoding="utf-8")
    replica = remote(tmp_path / "r2", url, upload)
    with pytest.raises(rag.RagError, match="--replace"):
        rag.ingest(settings=replica)
    page = Settings(store_dir=tmp_path / "r3", chroma_url=replica.chroma_url).with_(
        collection=replica.collection
    )
    assert rag.ingest(settings=page).total_files == 4
    source = rag.index_source(page)
    assert (source.shared, source.writable, source.folder, source.writer) == (
        True, False, None, "writer-box",
    )  # fmt: skip
    with pytest.raises(rag.RagError, match="not on this machine"):
        rag.remove_document("f001.txt", settings=page)
    assert server_state(writer) == before
    assert (docs / "f001.txt").is_file()


def test_a_replica_never_answers_from_chunks_the_document_list_does_not_name(
    url: str, tmp_path: Path
) -> None:
    """Issue 20 item 3: chunks a dead or fenced writer left in the server (not in the document
    list) are not used by a replica, and the next ingest removes them."""
    import numpy as np

    from rag.api import shared_embedder
    from rag.models import Chunk

    docs = tmp_path / "docs"
    write_docs(docs, 3)
    run_rag(tmp_path / "w", url, docs, "ingest", str(docs))
    writer = remote(tmp_path / "w", url, docs)
    ghost = Chunk("ghost-1", "ghost.txt", 0, len(RARE), RARE, sentences=((0, 48), (49, len(RARE))))
    vector = shared_embedder(writer).embed_documents([RARE])
    VectorStore(writer).add([ghost], np.asarray(vector), ["ghost-hash"])

    replica = remote(tmp_path / "r", url, tmp_path / "nowhere")
    answer = rag.answer("What is zorbulax stone?", settings=replica)
    assert all(c.source != "ghost.txt" for c in answer.citations + answer.closest)
    assert all(p.chunk.id != "ghost-1" for p in rag.retrieve("zorbulax stone", settings=replica))
    rag.ingest(docs, settings=writer)
    stored, listed, _ = server_state(writer)
    assert stored == listed and "ghost-1" not in stored
