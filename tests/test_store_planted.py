"""The Chroma store (rag/store.py) on a real local store in tmp_path: chunks fetched by id come
back in the order asked, each with its own vector, a store of more chunks than one page of
Chroma reads lists every id and every chunk, and a store written before the embedding was
recorded is taken as the fp32 model's. A proxy's 403 asks for a token, a refused connection
wrapped in the client's error is an unreachable server, a failure is quoted by its first line,
and a nearly full disk (a real tmpfs) is named, and a lease marker is renewed only by its own
holder, a chunk comes back with everything it was stored with, a server's read timeout is said
not to answer, and every stored text is known however many are asked.

Tests written for deliberate bugs a review planted in rag/store.py that the suite let through."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import embedding_id
from rag.errors import StoreError
from rag.models import Chunk
from rag.store import _PAGE, LOW_DISK_BYTES, VectorStore, failed_while, failure_cause
from tests.local_http import serving
from tests.tmpfs import run_on_tmpfs


def chunk(i: int) -> Chunk:
    text = f"Pump {i} opens at {i} bar."
    return Chunk(f"c{i:05d}", f"pumps/{i % 7}.txt", 0, len(text), text, sentences=((0, len(text)),))


def test_chunks_fetched_by_id_come_in_the_order_asked_with_their_vectors(tmp_path: Path) -> None:
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    chunks = [chunk(i) for i in range(6)]
    vectors = np.eye(6, 8, dtype=np.float32)  # chunk i: the unit vector i
    store.add(chunks, vectors, [f"h{i}" for i in range(6)])
    asked = ["c00004", "c00001", "c00005", "c00000"]
    found, found_vectors = store.get(asked, with_embeddings=True)
    assert [c.id for c in found] == asked
    assert [int(np.argmax(v)) for v in found_vectors] == [4, 1, 5, 0]
    assert store.get(["c00003", "c00002"])[0] == [chunks[3], chunks[2]]


def test_a_store_larger_than_one_page_lists_every_chunk(tmp_path: Path) -> None:
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    count = _PAGE + 3
    chunks = [chunk(i) for i in range(count)]
    vectors = np.random.default_rng(0).random((count, 8), dtype=np.float32)
    store.add(chunks, vectors, [f"h{i}" for i in range(count)])
    assert store.count() == count
    assert store.all_ids() == {c.id for c in chunks}
    assert sum(1 for _ in store.iter_chunks()) == count


def test_a_store_that_records_no_embedding_holds_the_fp32_models_vectors(tmp_path: Path) -> None:
    """Stores written before the embedding id was recorded hold sentence-transformers (fp32)
    vectors: the int8 backend's vectors must not be compared with them."""
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    assert store.embedding() is None  # empty: any backend may fill it
    store.add([chunk(1)], np.ones((1, 8), dtype=np.float32), ["h1"])  # no embedding recorded
    assert store.embedding() == embedding_id("torch") == embedding_id("onnx")
    store.check_embedding(embedding_id("onnx"))
    with pytest.raises(StoreError, match="run rag ingest to re-embed"):
        store.check_embedding(embedding_id("onnx-int8"))


@pytest.fixture
def forbids_everything() -> Iterator[str]:
    """A server (a token-checking proxy) that answers every request with 403 Forbidden."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body><h1>403 Forbidden</h1></body></html>"
            self.send_response(403)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def test_a_server_that_forbids_us_asks_for_a_token(forbids_everything: str, tmp_path: Path) -> None:
    """A proxy answering 403 to a client without a token is reported as asking for one."""
    with pytest.raises(StoreError) as failed:
        VectorStore(Settings(store_dir=tmp_path / "store", chroma_url=forbids_everything))
    assert "asks for a token (HTTP 403): set RAG_CHROMA_TOKEN" in str(failed.value)


def test_an_unreachable_server_is_named_behind_a_wrapping_error() -> None:
    """A refused connection that the client wraps in its own error is still reported as an
    unreachable server, with what to check."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError("the request failed") from exc
    except RuntimeError as wrapped:
        cause = failure_cause("http://127.0.0.1:9", wrapped)
    assert cause is not None and "is not reachable (the request failed)" in str(cause)


def test_a_failure_is_reported_by_the_first_line_of_its_message() -> None:
    """A Chroma failure's one-line report quotes the first line of its error."""
    exc = RuntimeError("disk I/O error\n  at segment 7\n  at compaction")
    message = failed_while("/srv/store/chroma", "searching", exc)
    assert "(RuntimeError: disk I/O error): run rag ingest" in message
    assert "compaction" not in message


def test_a_store_on_a_nearly_full_disk_names_the_full_disk(tmp_path: Path) -> None:
    """A Chroma failure on a disk with less than LOW_DISK_BYTES left says the disk is full."""
    assert LOW_DISK_BYTES > 8 * 1024 * 1024
    code = (
        "import sys\nfrom pathlib import Path\nfrom rag.store import failure_cause\n"
        "store = Path(sys.argv[1]) / 'store'\nstore.mkdir()\n"
        "print(type(failure_cause(str(store), RuntimeError('Error in compaction'))).__name__)\n"
    )
    done = run_on_tmpfs(tmp_path / "disk", "size=8m", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "DiskFullError"


def test_a_lease_marker_is_renewed_only_by_its_own_holder(tmp_path: Path) -> None:
    """A writer whose lease marker was replaced by another's cannot renew (overwrite) the
    other's: the renewal goes to its own marker's id or nowhere."""
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    mine = store.create_marker("docs__lease", {"holder": "me"})
    assert mine is not None and store.create_marker("docs__lease", {"holder": "you"}) is None
    assert not store.set_marker("docs__lease", "an-old-marker-id", {"holder": "intruder"})
    assert store.marker("docs__lease") == (mine, {"holder": "me"})
    assert store.set_marker("docs__lease", mine, {"holder": "me", "renewed": 1})
    assert store.marker("docs__lease") == (mine, {"holder": "me", "renewed": 1})


def test_a_chunk_comes_back_with_everything_it_was_stored_with(tmp_path: Path) -> None:
    """A chunk read back from the store keeps its page, title, section path and kinds (the
    reader and the citations show them)."""
    text = "The relief valve opens at 4 bar."
    stored = Chunk(
        "c1",
        "manual.pdf",
        10,
        10 + len(text),
        text,
        page=3,
        sentences=((0, len(text)),),
        title="Pump manual",
        section="Pump manual > Valves",
        kinds=("text",),
    )
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    store.add([stored], np.eye(1, 8, dtype=np.float32), ["h1"])
    assert store.get(["c1"])[0] == [stored]


def test_a_server_that_times_out_is_said_not_to_answer() -> None:
    """A read timeout from the Chroma server is reported as a server that did not answer."""
    cause = failure_cause("http://127.0.0.1:9", httpx.ReadTimeout("timed out"))
    assert cause is not None and "did not answer within" in str(cause)


def test_every_stored_text_is_known_however_many_are_asked(tmp_path: Path) -> None:
    """A sync asking about more than 500 chunk texts at once learns of every stored one (none
    is embedded again for falling between two look-ups)."""
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    count = 1001
    chunks = [chunk(i) for i in range(count)]
    vectors = np.random.default_rng(0).random((count, 8), dtype=np.float32)
    hashes = [f"h{i:05d}" for i in range(count)]
    store.add(chunks, vectors, hashes)
    assert store.known_text_hashes([*hashes, "unknown"]) == set(hashes)
    assert set(store.embeddings_by_text_hash(hashes)) == set(hashes)
