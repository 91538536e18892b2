"""The writer lease of a shared index, held in the Chroma server itself.

One ingest at a time across processes and machines. The lease is a marker collection named
``<collection>__lease``:

- Taking it is creating that collection. The server refuses a second collection of one name
  (its catalog has a unique name constraint), so of any number of concurrent takers exactly one
  succeeds: that is the compare-and-set.
- Its holder renews it every ``RENEW_S`` seconds (a counter in the marker's metadata). A waiter
  that sees the counter unchanged for ``TTL_S`` seconds of its own clock (no clocks compared
  across machines) retires the marker, and so does a waiter on the holder's own host when the
  holder's process is gone (a ``kill -9``): then the takers race to create it again.
- A marker is removed only by renaming it by its id, then deleting it under the new name:
  a holder's release or a waiter's retirement can never remove a marker created since.
- A holder that finds, when renewing, that its marker is no longer the one named
  ``<collection>__lease`` has lost the lease (it stalled longer than ``TTL_S``).
- Fencing: a sync calls ``ServerLease.check`` immediately before every write batch. It raises
  once the lease is lost: when the server names another marker (asked on every check, so a
  writer that was paused finds out before its next write, not at the renewer's next beat), or
  when this holder's last renewal is older than ``FENCE_S`` by its own clock (a waiter may take
  over after ``TTL_S`` of its own clock, so the holder stops writing before that).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from rag.errors import StoreBusyError, StoreError
from rag.store import VectorStore

log = logging.getLogger(__name__)
TTL_S = 30.0  # a lease not renewed for this long is free
RENEW_S = 5.0
# A holder whose last successful renewal is this old writes no more (before any waiter can
# see TTL_S pass without a beat: their clocks start counting no earlier than the renewal).
FENCE_S = TTL_S - 2 * RENEW_S
POLL_S = 0.25
_WAIT_LOG_EVERY_S = 30.0


def host_id() -> str:
    """This host (and PID namespace): PIDs compared only between processes where it is equal."""
    parts = [socket.gethostname()]
    with suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    with suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return "/".join(parts)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class ServerLease:
    """The writer lease of one collection on a Chroma server."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self.name = f"{store.name}__lease"
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._marker: str | None = None
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._renewed = time.monotonic()  # the last time the server took our beat

    def _metadata(self, beat: int) -> dict[str, Any]:
        return {"holder": self.holder, "host": host_id(), "pid": os.getpid(), "beat": beat}

    @contextmanager
    def held(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the lease: wait for the current holder for ever, or ``timeout`` seconds."""
        self._take(timeout)
        renewer = threading.Thread(target=self._renew, name="rag-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            self._stop.set()
            renewer.join()
            marker, self._marker = self._marker, None
            if marker is not None and not self._lost.is_set():
                try:
                    self.store.drop_marker(self.name, marker)
                except StoreError as exc:  # the server went away: keep the sync's own error
                    log.warning(
                        "Could not release the writer lease of %s (%s); the next ingest takes "
                        "it over (at once on this host, after %.0f s elsewhere).",
                        self.store.where,
                        exc,
                        TTL_S,
                    )

    def check(self) -> None:
        """Raise ``StoreBusyError`` if the lease was lost: the caller must not write on.

        Asks the server whether our marker still holds the lease (one small request), and
        counts the lease lost when its last renewal is older than ``FENCE_S``.
        """
        marker = self._marker
        if not self._lost.is_set() and marker is not None:
            if time.monotonic() - self._renewed >= FENCE_S:
                log.error("The writer lease of %s was not renewed in time.", self.store.where)
                self._lost.set()
            else:
                current = self.store.marker(self.name)
                if current is None or current[0] != marker:
                    log.error("The writer lease of %s was taken over.", self.store.where)
                    self._lost.set()
        if self._lost.is_set():
            raise StoreBusyError(
                f"This ingest lost the writer lease of {self.store.where} (it stalled more than "
                f"{TTL_S:.0f} s and another ingest took over): run rag ingest again."
            )

    def _take(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[str, int] | None = None  # the holder's marker and beat as first seen ...
        seen_at = 0.0  # ... at this time (this process's clock)
        next_log = 0.0
        while True:
            taking = time.monotonic()
            marker = self.store.create_marker(self.name, self._metadata(0))
            if marker is not None:
                self._marker = marker
                self._renewed = taking
                return
            current = self.store.marker(self.name)
            if current is None:
                continue  # released meanwhile: race for it again
            marker_id, meta = current
            now = time.monotonic()
            if seen != (marker_id, int(meta.get("beat", 0))):
                seen, seen_at = (marker_id, int(meta.get("beat", 0))), now
            dead = meta.get("host") == host_id() and not _alive(int(meta.get("pid", 0)))
            if dead or now - seen_at >= TTL_S:
                log.warning(
                    "Taking over the writer lease of %s from %s (%s).",
                    self.store.where,
                    meta.get("holder", "unknown"),
                    "its process is gone" if dead else f"not renewed for {TTL_S:.0f} s",
                )
                self.store.drop_marker(self.name, marker_id)
                continue
            if deadline is not None and now >= deadline:
                raise StoreBusyError(
                    f"another ingest ({meta.get('holder', 'unknown')}) is writing the index on "
                    f"{self.store.where}: wait for it to finish and try again."
                )
            if now >= next_log:
                log.warning(
                    "another ingest (%s) is writing the index on %s; waiting for it to finish ...",
                    meta.get("holder", "unknown"),
                    self.store.where,
                )
                next_log = now + _WAIT_LOG_EVERY_S
            time.sleep(POLL_S)

    def _renew(self) -> None:
        beat = 0
        while not self._stop.wait(RENEW_S):
            beat += 1
            marker = self._marker
            if marker is None:
                return
            sent = time.monotonic()
            try:
                kept = self.store.set_marker(self.name, marker, self._metadata(beat))
            except Exception as exc:  # a network blip: try again at the next beat
                log.warning("Could not renew the writer lease (%s).", exc)
                continue
            if not kept:
                log.error("The writer lease of %s was taken over.", self.store.where)
                self._lost.set()
                return
            self._renewed = sent
