"""The cross-request batcher (rag/batching.py) with callers queued in a known order behind a
running call: a batch fills up to exactly ``max_items``, and queued callers are served in the
order they arrived.

Tests written for deliberate bugs a review planted in rag/batching.py that the suite let
through."""

from __future__ import annotations

import threading
import time

import numpy as np

from rag.batching import Batcher


class Gate:
    """A ``run`` that holds the first call until released and records every call's items."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.running = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: list[str]) -> np.ndarray:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.running.set()
            assert self.release.wait(10)
        return np.arange(len(items))


def queue_behind_a_running_call(
    batcher: Batcher[str], gate: Gate, callers: list[list[str]]
) -> None:
    """Start a first caller whose call holds, then each of ``callers`` in turn, each waiting
    until the one before is queued; release the first call and wait for everyone."""
    threads = [threading.Thread(target=batcher, args=(["first"],))]
    threads[0].start()
    assert gate.running.wait(10)
    for queued, items in enumerate(callers, start=1):
        threads.append(threading.Thread(target=batcher, args=(items,)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while len(batcher._pending) < queued and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(batcher._pending) == queued
    gate.release.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


def test_a_batch_fills_up_to_exactly_max_items() -> None:
    gate = Gate()
    batcher: Batcher[str] = Batcher(gate, max_items=4, wait=0.0)
    queue_behind_a_running_call(batcher, gate, [["a1", "a2"], ["b1", "b2"], ["c1"]])
    # Two callers of two items make exactly four: one call; the fifth item waits for the next.
    assert gate.calls == [["first"], ["a1", "a2", "b1", "b2"], ["c1"]]


def test_queued_callers_are_served_in_arrival_order() -> None:
    gate = Gate()
    batcher: Batcher[str] = Batcher(gate, max_items=2, wait=0.0)
    queue_behind_a_running_call(batcher, gate, [["a1", "a2"], ["b1", "b2"], ["c1", "c2"]])
    assert gate.calls == [["first"], ["a1", "a2"], ["b1", "b2"], ["c1", "c2"]]
