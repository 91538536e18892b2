"""rag/lease.py on a local Chroma store (the lease's collections work the same there): taking,
waiting, timing out, renewing, taking over from a dead or silent holder, losing the lease.

Server mode runs it against a real `chroma run` (tests/test_server_mode.py, slow); these are fast,
so that mutation testing can judge the module.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import lease as lease_module
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.lease import ServerLease, host_id
from rag.store import VectorStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VectorStore]:
    opened = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store"))
    yield opened
    opened.close()


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_host_id_names_this_host_and_pid_namespace() -> None:
    parts = host_id().split("/")
    assert parts[0] == socket.gethostname()
    if Path("/proc/sys/kernel/random/boot_id").exists():
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        assert parts[1] == boot
        assert parts[2] == str(os.stat("/proc/self/ns/pid").st_ino)
    assert lease_module._alive(os.getpid())
    assert not lease_module._alive(dead_pid())
    assert lease_module._alive(1)  # exists (another user's process or ours): alive


def test_held_then_released(store: VectorStore) -> None:
    lease = ServerLease(store)
    assert lease.name == f"{store.name}__lease"
    host, pid, tag = lease.holder.split(":")
    assert (host, pid, len(tag)) == (socket.gethostname(), str(os.getpid()), 8)
    with lease.held(timeout=5):
        marker = store.marker(lease.name)
        assert marker is not None
        assert marker[1] == {"holder": lease.holder, "host": host_id(), "pid": os.getpid(),
                             "beat": 0}  # fmt: skip
        lease.check()
    assert store.marker(lease.name) is None  # released
    with ServerLease(store).held(timeout=0.5):  # free at once
        pass


def test_a_second_writer_waits_then_names_the_holder(
    store: VectorStore, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = ServerLease(store), ServerLease(store)
    started = time.monotonic()
    refused = pytest.raises(StoreBusyError)
    with first.held(), refused as busy, caplog.at_level(logging.WARNING), second.held(timeout=0.5):
        pass
    waited = time.monotonic() - started
    assert 0.5 <= waited < 5
    assert str(busy.value) == (
        f"another ingest ({first.holder}) is writing the index on {store.where}: wait for it to "
        "finish and try again."
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"another ingest ({first.holder}) is writing the index on {store.where}; waiting for it "
        "to finish ..."
    ]  # logged once, not at every poll
    assert store.marker(first.name) is None


def test_the_holder_renews_and_a_waiter_does_not_take_over(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    monkeypatch.setattr(lease_module, "TTL_S", 1.0)
    monkeypatch.setattr(lease_module, "POLL_S", 0.02)
    holder = ServerLease(store)
    with holder.held():
        wait_for(lambda: store.marker(holder.name)[1]["beat"] >= 3)  # type: ignore[index]
        assert store.marker(holder.name)[1]["holder"] == holder.holder  # type: ignore[index]
        with pytest.raises(StoreBusyError), ServerLease(store).held(timeout=1.5):
            pass  # renewed: never silent for TTL_S
        holder.check()


def test_a_dead_holder_on_this_host_is_taken_over(
    store: VectorStore, caplog: pytest.LogCaptureFixture
) -> None:
    name = ServerLease(store).name
    meta = {"holder": "gone:1:abc", "host": host_id(), "pid": dead_pid(), "beat": 7}
    assert store.create_marker(name, meta) is not None
    taker = ServerLease(store)
    with caplog.at_level(logging.WARNING), taker.held(timeout=5):
        assert store.marker(name)[1]["holder"] == taker.holder  # type: ignore[index]
    assert (
        f"Taking over the writer lease of {store.where} from gone:1:abc (its process is gone)."
        in caplog.messages
    )


def test_a_live_holder_elsewhere_is_taken_over_only_when_silent(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # TTL_S is ten times the first waiter's timeout: a waiter descheduled for a while (a loaded
    # CI machine) still gives up before the holder has been silent long enough to be taken over.
    monkeypatch.setattr(lease_module, "TTL_S", 2.0)
    monkeypatch.setattr(lease_module, "POLL_S", 0.02)
    name = ServerLease(store).name
    # Another host's holder: its pid means nothing here, so only its silence counts.
    meta = {"holder": "far:1:abc", "host": "elsewhere", "pid": dead_pid(), "beat": 5}
    store.create_marker(name, meta)
    with pytest.raises(StoreBusyError), ServerLease(store).held(timeout=0.3):
        pass  # not silent for 2 s yet
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), ServerLease(store).held(timeout=10):
        pass
    assert 1.9 <= time.monotonic() - started < 8
    assert any("from far:1:abc (not renewed for 2 s)" in m for m in caplog.messages)


def test_a_beat_restarts_the_silence(store: VectorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiter counts the holder's silence from the last beat it saw: a beat at 0.5 s moves a
    1.5 s takeover to 2.0 s, past the waiter's 1.6 s timeout (margins for a loaded machine)."""
    monkeypatch.setattr(lease_module, "TTL_S", 1.5)
    monkeypatch.setattr(lease_module, "POLL_S", 0.02)
    name = ServerLease(store).name
    meta = {"holder": "far:1:x", "host": "elsewhere", "beat": 0}
    marker = store.create_marker(name, meta)
    assert marker is not None
    beat = threading.Timer(0.5, store.set_marker, (name, marker, {**meta, "beat": 1}))
    beat.start()
    busy = pytest.raises(StoreBusyError)
    try:
        with busy, ServerLease(store).held(timeout=1.6):
            pass
    finally:
        beat.join()
    assert store.marker(name)[0] == marker  # type: ignore[index]


def test_a_lost_lease_stops_the_writer_and_leaves_the_new_marker(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    lease = ServerLease(store)
    with caplog.at_level(logging.ERROR), lease.held(timeout=5):
        first = store.marker(lease.name)
        assert first is not None
        store.drop_marker(lease.name, first[0])  # retired by a waiter after a stall ...
        newer = store.create_marker(lease.name, {"holder": "next:2:x", "host": "h", "beat": 0})
        with pytest.raises(StoreBusyError) as lost:
            wait_for(lambda: bool(lease.check()) or False, seconds=5)
    assert str(lost.value) == (
        f"This ingest lost the writer lease of {store.where} (it stalled more than 30 s and "
        "another ingest took over): run rag ingest again."
    )
    assert f"The writer lease of {store.where} was taken over." in caplog.messages
    assert store.marker(lease.name)[0] == newer  # type: ignore[index]  # ... kept on release


def test_alive_asks_with_signal_zero_and_counts_another_users_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[int, int]] = []

    def kill(pid: int, signal: int) -> None:
        sent.append((pid, signal))
        if pid == 4242:
            raise PermissionError(1, "Operation not permitted")  # another user's process
        if pid == 4343:
            raise ProcessLookupError(3, "No such process")

    monkeypatch.setattr(lease_module.os, "kill", kill)
    assert lease_module._alive(4242) and not lease_module._alive(4343)
    assert lease_module._alive(4444)
    assert sent == [(4242, 0), (4343, 0), (4444, 0)]


def test_renewals_count_beats_and_survive_a_failed_one(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each renewal writes the next beat (1, 2, 3, ...); a renewal that fails (a network blip)
    is logged and the next one goes on."""
    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    beats: list[int] = []
    set_marker = store.set_marker

    def renew(name: str, marker: str, metadata: dict[str, object]) -> bool:
        beats.append(int(metadata["beat"]))  # type: ignore[call-overload]
        if len(beats) == 2:
            raise OSError("connection reset")
        return set_marker(name, marker, metadata)

    monkeypatch.setattr(store, "set_marker", renew)
    lease = ServerLease(store)
    with caplog.at_level(logging.WARNING), lease.held(timeout=5):
        wait_for(lambda: len(beats) >= 4)
        lease.check()
    assert beats[:4] == [1, 2, 3, 4]
    assert "Could not renew the writer lease (connection reset)." in caplog.messages
    assert store.marker(lease.name) is None  # released as usual


def test_a_marker_without_beats_is_taken_over_when_silent(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A marker with no beat, host, pid or holder (written by another version) counts as beat 0
    of an unknown holder."""
    monkeypatch.setattr(lease_module, "TTL_S", 2.0)  # ten times the first waiter's timeout
    monkeypatch.setattr(lease_module, "POLL_S", 0.02)
    name = ServerLease(store).name
    store.create_marker(name, {"note": "old"})
    with pytest.raises(StoreBusyError) as busy, ServerLease(store).held(timeout=0.2):
        pass
    assert str(busy.value).startswith("another ingest (unknown) is writing the index on ")
    taker = ServerLease(store)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), taker.held(timeout=10):
        assert store.marker(name)[1]["holder"] == taker.holder  # type: ignore[index]
    assert 1.9 <= time.monotonic() - started < 8
    waiting = (
        f"another ingest (unknown) is writing the index on {store.where}; waiting for it to "
        "finish ..."
    )
    assert caplog.messages == [
        waiting,  # the first waiter, which gave up
        waiting,
        f"Taking over the writer lease of {store.where} from unknown (not renewed for 2 s).",
    ]


def test_a_marker_released_while_looking_is_raced_for_again(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking fails (another holds it), then the marker is gone when read: take it again."""
    create = store.create_marker
    calls: list[str] = []

    def race(name: str, metadata: dict[str, object]) -> str | None:
        calls.append(name)
        return None if len(calls) == 1 else create(name, metadata)

    monkeypatch.setattr(store, "create_marker", race)
    lease = ServerLease(store)
    with lease.held(timeout=5):
        assert store.marker(lease.name)[1]["holder"] == lease.holder  # type: ignore[index]
    assert len(calls) == 2


def test_a_marker_of_this_host_without_a_pid_is_not_taken_as_dead(store: VectorStore) -> None:
    """No pid on this host's marker: pid 0 is probed (our own process group, alive), so the
    waiter waits rather than taking over."""
    name = ServerLease(store).name
    store.create_marker(name, {"holder": "here:0:x", "host": host_id(), "beat": 0})
    busy = pytest.raises(StoreBusyError, match=r"another ingest \(here:0:x\)")
    with busy, ServerLease(store).held(timeout=0.3):
        pass
