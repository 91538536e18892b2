"""The cross-request batcher (rag/batching.py): every caller gets exactly its own rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from rag.api import shared_embedder
from rag.batching import BatchedReader, Batcher, shared_reader
from rag.config import Settings
from rag.reader import Reader


def rows_of(items: list[tuple[int, int]]) -> np.ndarray:
    """A row per item that names it: (caller, position) -> [caller, position, caller*1000+pos]."""
    return np.array([[c, p, c * 1000 + p] for c, p in items], dtype=np.int64).reshape(-1, 3)


def slow(run: Callable[[list[tuple[int, int]]], np.ndarray], seconds: float) -> Callable[..., Any]:
    barrier = threading.Event()

    def call(items: list[tuple[int, int]]) -> np.ndarray:
        barrier.wait(seconds)  # long enough for other callers to pile up
        return run(items)

    return call


@pytest.mark.parametrize("max_items", [1, 3, 16, 1000])
def test_each_caller_gets_its_own_rows_under_concurrency(max_items: int) -> None:
    calls: list[int] = []

    def run(items: list[tuple[int, int]]) -> np.ndarray:
        calls.append(len(items))
        return rows_of(items)

    batcher: Batcher[tuple[int, int]] = Batcher(slow(run, 0.002), max_items=max_items, wait=0.005)
    sizes = [1 + (caller * 7) % 5 for caller in range(40)]  # 1..5 items each

    def ask(caller: int) -> np.ndarray:
        return batcher([(caller, p) for p in range(sizes[caller])])

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(ask, range(40)))
    for caller, result in enumerate(results):
        assert result.tolist() == rows_of([(caller, p) for p in range(sizes[caller])]).tolist()
    assert sum(calls) == sum(sizes)
    # No call went over the bound unless a single caller brought more than it; with room for
    # several callers, callers shared calls.
    assert batcher.stats.requests == 40 and batcher.stats.batches == len(calls)
    assert max(calls) <= max(max_items, max(sizes))
    if max_items >= 16:
        assert len(calls) < 40


def test_an_exception_reaches_the_callers_of_its_batch_only() -> None:
    started = threading.Event()
    release = threading.Event()

    def run(items: list[tuple[int, int]]) -> np.ndarray:
        if any(caller == 0 for caller, _ in items):
            started.set()
            release.wait(5)  # callers 1..5 queue up behind this batch meanwhile
            raise ValueError("caller 0's batch failed")
        if any(caller == 6 for caller, _ in items):
            raise KeyError("bad batch")
        return rows_of(items)

    batcher: Batcher[tuple[int, int]] = Batcher(run, max_items=100, wait=0.0)
    outcomes: dict[int, object] = {}

    def ask(caller: int) -> None:
        try:
            outcomes[caller] = batcher([(caller, 0), (caller, 1)]).tolist()
        except Exception as exc:  # the test records which callers saw which error
            outcomes[caller] = exc

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=ask, args=(c,)) for c in range(1, 6)]
    for thread in others:
        thread.start()
    while sum(len(r.items) for r in batcher._pending) < 10:  # all five are waiting
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    ask(6)
    ask(7)
    assert isinstance(outcomes[0], ValueError)
    assert isinstance(outcomes[6], KeyError)
    for caller in (1, 2, 3, 4, 5, 7):
        assert outcomes[caller] == [[caller, 0, caller * 1000], [caller, 1, caller * 1000 + 1]]
    # Callers 1-5 arrived while caller 0's batch ran: they shared the next call.
    assert batcher.stats.batches == 2 and batcher.stats.requests == 6


def test_a_wrong_row_count_is_an_error_not_a_silent_shift() -> None:
    batcher: Batcher[int] = Batcher(lambda items: np.zeros(len(items) + 1), wait=0.0)
    with pytest.raises(RuntimeError, match="a batch of 2 items gave 3 rows"):
        batcher([1, 2])
    assert batcher([]).tolist() == [0.0]  # nothing to batch: the function is called directly


OFF_TOPIC = (
    "The weather in Oslo is cold in January.",
    "Bananas are rich in potassium.",
    "The river flows north for ninety kilometres.",
)


def test_the_batched_reader_gives_each_question_its_own_logits() -> None:
    plain = Reader()
    batched = shared_reader()
    assert isinstance(batched, BatchedReader) and batched is shared_reader()
    # Question q: q + 1 off-topic sentences and the answer at position q % (q + 1), so a row
    # handed to the wrong caller, or shifted, moves the one high logit.
    questions = []
    for q in range(10):
        off = [("Who wrote Hamlet?", OFF_TOPIC[i % 3]) for i in range(q + 1)]
        off.insert(q % (q + 1), ("Who wrote Hamlet?", "Shakespeare wrote Hamlet around 1600."))
        questions.append(off)
    expected = [np.concatenate([plain.logits([pair]) for pair in pairs]) for pairs in questions]
    with ThreadPoolExecutor(max_workers=10) as pool:
        got = list(pool.map(batched.logits, questions))
    for q, (want, have) in enumerate(zip(expected, got)):
        assert have.shape == want.shape == (q + 2,)
        assert int(np.argmax(have)) == int(np.argmax(want)) == q % (q + 1)
        # Each pair runs alone, so its logit is the one it gets read alone, whatever else shared
        # the call (the int8 graph quantises activations per run: in a padded batch of others'
        # pairs a logit moved by up to 1).
        assert have.tolist() == want.tolist()
    assert batched.batcher.stats.batches < batched.batcher.stats.requests


def test_concurrent_query_vectors_equal_one_at_a_time() -> None:
    embedder = shared_embedder(Settings())
    texts = [f"question number {i} about the tower of zorb{i}" for i in range(24)]
    alone = [embedder.embed_documents([t])[0] for t in texts]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(embedder.embed_query, texts))
    for a, b in zip(alone, together):
        assert float(a @ b) > 0.9999
    assert embedder.queries.stats.requests >= 24


def test_a_lone_caller_does_not_wait_for_company() -> None:
    batcher: Batcher[int] = Batcher(lambda items: np.array(items) * 2, max_items=64, wait=5.0)
    started = time.monotonic()
    for i in range(3):
        assert batcher([i, i + 1]).tolist() == [2 * i, 2 * i + 2]
    assert time.monotonic() - started < 2.5  # a 5 s collection wait would have been spent
    assert batcher.stats.batches == 3
