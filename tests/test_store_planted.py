"""The Chroma store (rag/store.py) on a real local store in tmp_path: chunks fetched by id come
back in the order asked, each with its own vector, a store of more chunks than one page of
Chroma reads lists every id and every chunk, and a store written before the embedding was
recorded is taken as the fp32 model's.

Tests written for deliberate bugs a review planted in rag/store.py that the suite let through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import embedding_id
from rag.errors import StoreError
from rag.models import Chunk
from rag.store import _PAGE, VectorStore


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
