"""The writer lease (rag/lease.py) on a local Chroma store, as tests/test_lease.py runs it: the
fence's age, a marker retired under its holder, and the age counted from when the server was
asked, not from when it answered.

Tests written for deliberate bugs a review planted in rag/lease.py that the suite let through
(tests/test_server_mode.py, which needs a ``chroma run`` server, may catch some of them; these
are fast):

- ``check`` fencing at ``TTL_S`` instead of ``FENCE_S`` (and ``FENCE_S`` set to ``TTL_S``): a
  holder that had not renewed for 21-29 s wrote on, when a waiter may already take over at 30;
- ``check`` taking a missing marker for a held lease (``current is not None and ...``): a
  holder whose marker a waiter had retired, before any new one was made, wrote on;
- the renewer counting a beat from when the server answered (``time.monotonic()`` after
  ``set_marker``), and ``_take`` counting the lease from when ``create_marker`` returned: with a
  slow server the holder's clock started late, so it fenced after a waiter could take over;
- a waiter's timeout overrun (``now >= deadline + POLL_S * 8``): ``held(timeout=0.3)`` waited
  2.3 s before it said who holds the lease.

Judged equivalent: the renewer returning on a lost beat without setting ``_lost``: ``check``
asks the server on every call and finds the other marker (or none) itself, and the release
that follows drops by id a marker that is gone. Not a hole either (a behaviour change judged
harmless, left open): releasing on exit after a loss; the drop is by id, so it can only remove
this holder's own marker, and only when the loss was the fence's and no one replaced it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import lease as lease_module
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.lease import ServerLease
from rag.store import VectorStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VectorStore]:
    opened = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store"))
    yield opened
    opened.close()


def test_a_holder_not_renewed_for_the_fence_age_writes_no_more(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lease_module.FENCE_S == lease_module.TTL_S - 2 * lease_module.RENEW_S == 20.0
    monkeypatch.setattr(lease_module, "RENEW_S", 3600.0)  # no beat while the test runs
    lease = ServerLease(store)
    with lease.held(timeout=5):
        lease._renewed = time.monotonic() - 19.0
        lease.check()  # 19 s: still writing
        lease._renewed = time.monotonic() - 21.0
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()  # 21 s: a waiter's 30 s may be about to pass
        assert store.marker(lease.name) is not None  # nobody took it: the fence alone spoke


def test_a_marker_retired_under_its_holder_stops_the_writer_at_once(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 3600.0)  # only check can find out
    lease = ServerLease(store)
    with lease.held(timeout=5):
        current = store.marker(lease.name)
        assert current is not None
        store.drop_marker(lease.name, current[0])  # retired by a waiter; no new one yet
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()


def test_a_waiter_gives_up_at_its_timeout(store: VectorStore) -> None:
    name = ServerLease(store).name
    store.create_marker(name, {"holder": "far:1:abc", "host": "elsewhere", "beat": 0})
    started = time.monotonic()
    with pytest.raises(StoreBusyError, match="far:1:abc"), ServerLease(store).held(timeout=0.3):
        pass
    assert 0.3 <= time.monotonic() - started < 1.3


def slowed(monkeypatch: pytest.MonkeyPatch, store: VectorStore, name: str, delay: float) -> None:
    """The store's ``name`` call answers ``delay`` seconds after the server applied it."""
    real = getattr(store, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        time.sleep(delay)
        return done

    monkeypatch.setattr(store, name, slow)


def test_the_lease_is_counted_from_when_it_was_asked_for(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 3600.0)
    monkeypatch.setattr(lease_module, "FENCE_S", 1.2)
    slowed(monkeypatch, store, "create_marker", 1.0)
    lease = ServerLease(store)
    with lease.held(timeout=10):
        time.sleep(0.5)  # 1.5 s since it was asked for, 0.5 s since the answer
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()


def test_a_beat_is_counted_from_when_it_was_sent(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    monkeypatch.setattr(lease_module, "FENCE_S", 1.2)
    slowed(monkeypatch, store, "set_marker", 1.0)
    lease = ServerLease(store)
    with lease.held(timeout=10):
        # The first beat is sent at 0.05 s and answered at 1.05 s; the next is answered at 2.1 s.
        time.sleep(1.5)
        with pytest.raises(StoreBusyError, match="lost the writer lease"):
            lease.check()  # 1.45 s since the last beat was sent
