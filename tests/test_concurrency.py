"""Questions answered while the index changes, and per-call embedding settings."""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.config import Settings
from rag.embeddings import embedding_id
from rag.errors import StoreError
from rag.lexical import LexicalIndex
from rag.models import Chunk
from rag.store import VectorStore
from rag.text import terms

WORDS = [f"w{i:03d}x" for i in range(400)]
QUESTIONS = ["w001x w002x", "w010x", "w100x w200x w300x", "w007x w399x", "w050x w051x w052x"]


def _text(rng: random.Random, generation: int) -> str:
    # Some words per generation are new, so the vocabulary grows with every update.
    words = [*rng.choices(WORDS, k=rng.randint(3, 30)), f"g{generation}n{rng.randint(0, 50)}"]
    return " ".join(words)


def test_lexical_search_during_updates_sees_one_consistent_index(tmp_path: Path) -> None:
    rng = random.Random(7)
    texts: dict[str, str] = {}

    def rows(generation: int, count: int) -> list[tuple[str, str]]:
        out = [(f"r{generation}-{i}", _text(rng, generation)) for i in range(count)]
        texts.update(out)
        return out

    index = LexicalIndex(tmp_path / "bm25")
    index.build(rows(0, 3000))
    index.search(QUESTIONS[0], 5)  # loaded
    current = [chunk_id for chunk_id in texts]
    errors: list[BaseException] = []
    results: list[tuple[str, list[tuple[str, float]]]] = []
    done = threading.Event()

    def ask() -> None:
        i = 0
        while not done.is_set():
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            try:
                results.append((question, index.search(question, 10)))
                index.idf("w001x")
                len(index)
            except BaseException as exc:  # every failure counts
                errors.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the threads as often as possible
    reader = threading.Thread(target=ask, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 4.0
        for generation in range(1, 16):
            # Drop a varying share of the rows and add a varying number: the row count changes.
            removed = rng.sample(current, k=rng.randint(len(current) // 5, len(current) // 2))
            added = rows(generation, rng.randint(500, 2500))
            assert index.update(added, removed)
            gone = set(removed)
            current = [c for c in current if c not in gone] + [c for c, _ in added]
            if time.monotonic() > deadline:
                break
    finally:
        done.set()
        reader.join(timeout=10)
        sys.setswitchinterval(old_interval)

    assert not reader.is_alive()
    assert not errors, f"{len(errors)} searches failed, first: {errors[0]!r}"
    assert len(results) > 10
    for question, found in results:
        wanted = set(terms(question))
        for chunk_id, score in found:
            assert chunk_id in texts  # a current or previous id, never an invented one
            assert score > 0 and wanted & set(terms(texts[chunk_id])), (question, chunk_id)
    assert len(index) == len(current)
    assert {c for c, _ in index.search("w001x", 10_000)} <= set(current)


FP32, INT8 = embedding_id("onnx"), embedding_id("onnx-int8")


def test_store_checks_the_callers_embedding_not_its_first_settings(settings: Settings) -> None:
    store = VectorStore(settings)  # opened with onnx (fp32) settings
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"c{i}", "a.txt", i, i + 1, f"text {i}") for i in range(3)]
    store.set_embedding(INT8)
    store.add(chunks, vectors, [f"h{i}" for i in range(3)])
    assert [c.id for c, _ in store.query(vectors[1], 1, INT8)] == ["c1"]
    with pytest.raises(StoreError, match="rag ingest"):
        store.query(vectors[1], 1, FP32)
    store.clear()
    store.set_embedding(FP32)
    store.add(chunks, vectors, [f"h{i}" for i in range(3)])
    assert [c.id for c, _ in store.query(vectors[2], 1, FP32)] == ["c2"]
    with pytest.raises(StoreError, match="rag ingest"):
        store.query(vectors[2], 1, INT8)


@pytest.mark.slow
def test_each_call_uses_the_embedding_backend_of_its_settings(settings: Settings) -> None:
    question = "Who is the president of Serbia?"
    first = rag.ingest(settings=settings)  # onnx, fp32
    assert first.embedded_chunks == first.total_chunks > 0
    # torch gives the same fp32 vectors: nothing to re-embed.
    same = rag.ingest(settings=settings.with_(embed_backend="torch"))
    assert same.embedded_chunks == 0 and same.unchanged_files == first.total_files
    int8 = settings.with_(embed_backend="onnx-int8")
    second = rag.ingest(settings=int8)  # same process, same store, another model
    assert second.embedded_chunks == second.total_chunks == first.total_chunks
    assert Path(settings.store_dir / "manifest.json").read_text().count(INT8) == 1
    for mode in ("hybrid", "dense"):
        answer = rag.answer(question, settings=int8.with_(mode=mode))
        assert not answer.refused and "Vučić" in answer.citations[0].text, mode
    # A call with the first settings now holds vectors of another model: refused, not mixed.
    with pytest.raises(StoreError, match="rag ingest"):
        rag.retrieve(question, settings=settings.with_(mode="dense"))
    back = rag.ingest(settings=settings)
    assert back.embedded_chunks == first.total_chunks
    assert not rag.answer(question, settings=settings).refused
