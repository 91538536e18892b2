"""Slow down password guessing: failed sign-ins per client, counted over a window.

A client (its address, or the address a trusted proxy forwards for it) that failed
``MAX_FAILED`` sign-ins within ``WINDOW`` seconds is turned away (HTTP 429, with Retry-After)
until its oldest failure leaves the window; its password is then not even checked, so guessing
costs no bcrypt CPU either. Every attempt counts as a failure from the moment it is let through
(``attempt``), so guesses sent all at once are held to the limit too; a success takes back its
own attempt only (``succeeded``): signing in as oneself does not wipe the failures of guessing
another user's password. At most ``MAX_CLIENTS`` clients are remembered (the quietest forgotten
first), so a flood of addresses cannot fill the memory. Product choices: 5 failures a minute let
a user mistype, and hold a guesser to 7,200 guesses a day per address.
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
            return self._wait(self._recent(client))

    def attempt(self, client: str) -> float | None:
        """Let one sign-in through, counted as a failure until ``succeeded``: its token; None
        when the client must wait (``wait`` says how long)."""
        with self._lock:
            failures = self._recent(client)
            if self._wait(failures) > 0:
                return None
            token = self.clock()
            failures.append(token)
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            return token

    def succeeded(self, client: str, token: float) -> None:
        """The attempt ``token`` signed in: it is no failure (the others stay)."""
        with self._lock:
            failures = self._failures.get(client)
            if failures is not None and token in failures:
                failures.remove(token)

    def _wait(self, failures: deque[float]) -> float:
        if len(failures) < self.max_failed:
            return 0.0
        return max(0.0, failures[-self.max_failed] + self.window - self.clock())

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
