"""Cross-request batching: concurrent questions share the reader's and the embedder's model calls.

Each question on its own would run the reader alone (16 sentences) while others wait for its
lock. A ``Batcher`` lets the first caller lead: it collects what other threads bring for a few
milliseconds (and whatever piles up while a batch runs), runs one call over all of it, and hands
each caller exactly its own rows. No background thread: a caller that finds no leader becomes it,
so the batcher survives ``fork`` and costs nothing when idle. The leader waits only while
callers have been crowding in (in the last second): one user asking alone never waits.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from rag.reader import MODEL_DIR, Reader

T = TypeVar("T")
# Reader pairs per shared call: four questions of 16 sentences (the reader runs each pair alone,
# one per core, so a larger call only waits longer for its first caller).
READER_MAX_PAIRS = 64
# How long a leader collects other callers before running: a few ms against ~100 ms of reading.
READER_WAIT_S = 0.003
QUERY_MAX = 32
QUERY_WAIT_S = 0.001
# A leader collects while other callers were seen this recently (two in a batch, or one waiting).
CROWD_MEMORY_S = 1.0


@dataclass(eq=False)
class _Request(Generic[T]):
    items: list[T]
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class BatchStats:
    """How the calls were shared: ``items / batches`` is the mean batch size."""

    batches: int = 0
    items: int = 0
    requests: int = 0
    largest: int = 0


@dataclass(eq=False)
class Batcher(Generic[T]):
    """Calls ``run(items) -> rows`` (one row per item, in order) for many callers at once.

    ``batcher(items)`` returns the rows of ``items`` only; if the shared call raises, every
    caller in that batch (and no other) gets the exception. Callers are served in arrival order.
    """

    run: Callable[[list[T]], np.ndarray]
    max_items: int = 64
    wait: float = 0.002
    stats: BatchStats = field(default_factory=BatchStats)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _pending: list[_Request[T]] = field(default_factory=list, repr=False)
    _leading: bool = field(default=False, repr=False)
    _crowd_seen: float = field(default=-math.inf, repr=False)

    def __call__(self, items: Sequence[T]) -> np.ndarray:
        request: _Request[T] = _Request(list(items))
        if not request.items:
            return self.run([])
        with self._cond:
            self._pending.append(request)
            self._cond.notify_all()  # a leader that is collecting sees the new request
            while self._leading and not request.done:
                self._cond.wait()
            if not request.done:
                self._leading = True
                now = time.monotonic()
                if len(self._pending) > 1:
                    self._crowd_seen = now
                if now - self._crowd_seen < CROWD_MEMORY_S:
                    self._collect()
        if not request.done:
            try:
                self._lead(request)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _collect(self) -> None:
        """Wait (holding the condition) up to ``wait`` seconds for a full batch."""
        deadline = time.monotonic() + self.wait
        while sum(len(r.items) for r in self._pending) < self.max_items:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _lead(self, mine: _Request[T]) -> None:
        """Run batches in arrival order until ``mine`` is done (what piled up meanwhile joins)."""
        while not mine.done:
            with self._cond:
                batch = self._take()
            self._serve(batch)
            with self._cond:
                if len(batch) > 1 or self._pending:
                    self._crowd_seen = time.monotonic()
                self._cond.notify_all()

    def _take(self) -> list[_Request[T]]:
        """The oldest requests up to ``max_items`` items (at least one request)."""
        batch: list[_Request[T]] = []
        size = 0
        while self._pending and (not batch or size + len(self._pending[0].items) <= self.max_items):
            request = self._pending.pop(0)
            batch.append(request)
            size += len(request.items)
        return batch

    def _serve(self, batch: list[_Request[T]]) -> None:
        items = [item for request in batch for item in request.items]
        try:
            rows = self.run(items)
            if len(rows) != len(items):
                raise RuntimeError(f"a batch of {len(items)} items gave {len(rows)} rows")
        except BaseException as exc:  # the callers of this batch re-raise it, whatever it is
            for request in batch:
                request.error, request.done = exc, True
            return
        start = 0
        for request in batch:
            end = start + len(request.items)
            request.result, request.done = rows[start:end].copy(), True
            start = end
        stats = self.stats
        stats.batches += 1
        stats.items += len(items)
        stats.requests += len(batch)
        stats.largest = max(stats.largest, len(items))


class BatchedReader(Reader):
    """The reader whose ``logits`` calls from concurrent questions share one call, its pairs run
    one per core this process may use (one shared call runs at a time, callers in turn)."""

    def __init__(
        self,
        folder: Path = MODEL_DIR,
        threads: int | None = None,
        max_pairs: int = READER_MAX_PAIRS,
        wait: float = READER_WAIT_S,
    ) -> None:
        super().__init__(folder, threads)  # None: the reader's default, one per core
        self.batcher: Batcher[tuple[str, str]] = Batcher(super().logits, max_pairs, wait)

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return self.batcher(pairs)


_shared: dict[Path, BatchedReader] = {}
_shared_lock = threading.Lock()


def shared_reader(folder: Path = MODEL_DIR) -> Reader:
    """One batched reader per process and model folder (what the answer path uses)."""
    with _shared_lock:
        if folder not in _shared:
            _shared[folder] = BatchedReader(folder)
        return _shared[folder]
