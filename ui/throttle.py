"""Slow down password guessing: failed sign-ins per client, counted over a window.

A client (its address, or the address a trusted proxy forwards for it) that failed
``MAX_FAILED`` sign-ins within ``WINDOW`` seconds is turned away (HTTP 429, with Retry-After)
until its oldest failure leaves the window; its password is then not even checked, so guessing
costs no bcrypt CPU either. A success clears the client's failures. At most ``MAX_CLIENTS``
clients are remembered (the quietest forgotten first), so a flood of addresses cannot fill the
memory. Product choices: 5 failures a minute let a user mistype, and hold a guesser to 7,200
guesses a day per address.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILED = 5
WINDOW = 60.0
MAX_CLIENTS = 10_000


class SignInThrottle:
    """Failed sign-ins per client in a sliding window (thread-safe)."""

    def __init__(
        self,
        max_failed: int = MAX_FAILED,
        window: float = WINDOW,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failed = max_failed
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds before ``client`` may try again; 0.0: now."""
        with self._lock:
            failures = self._recent(client)
            if len(failures) < self.max_failed:
                return 0.0
            return max(0.0, failures[0] + self.window - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._recent(client)
            failures.append(self.clock())
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
