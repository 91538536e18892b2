"""Dense search finds the exact nearest chunks, the same in every process (rag/store.py
``SEARCH_EF``). With Chroma's default of 100 graph candidates, 2,000 random chunks lost 11% of
each question's 30 nearest, and a question far from every chunk of CMake's reference could get
another answer in the next process."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rag
from rag.config import Settings
from rag.models import Chunk
from rag.store import SEARCH_EF, VectorStore


def _unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_dense_search_finds_the_exact_nearest_chunks(tmp_path: Path) -> None:
    store = VectorStore(Settings(store_dir=tmp_path / "store"))
    vectors = _unit(2000, seed=0)
    chunks = [
        Chunk(id=f"c{i}", source="a.txt", start=i, end=i + 1, text=f"t{i}") for i in range(2000)
    ]
    store.set_embedding("test-embedding")
    store.add(chunks, vectors, [f"h{i}" for i in range(2000)])
    found = exact = 0
    for question in _unit(20, seed=1):
        nearest = [f"c{i}" for i in np.argsort(-(vectors @ question))[:30]]
        got = [chunk.id for chunk, _ in store.query(question, 30, "test-embedding")]
        assert got[0] == nearest[0]
        found += len(set(got) & set(nearest))
        exact += 30
    assert found / exact >= 0.995
    store.close()


def test_a_store_made_with_chromas_default_search_is_raised_by_the_next_sync(
    settings: Settings,
) -> None:
    rag.ingest(settings=settings)
    store = VectorStore(settings)
    store.collection.modify(configuration={"hnsw": {"ef_search": 100}})  # as stores were made
    store.close()
    rag.ingest(settings=settings)  # nothing changed in the folder
    reopened = VectorStore(settings)
    assert reopened.collection.configuration_json["hnsw"]["ef_search"] == SEARCH_EF
    reopened.close()
