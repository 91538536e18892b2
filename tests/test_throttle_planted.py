"""The sign-in throttle (ui/throttle.py) on a clock the test sets: the default limit of the
product, and which client is forgotten when too many are remembered.

Tests written for deliberate bugs a review planted in ui/throttle.py that the suite let through:

- ``MAX_FAILED`` raised from 5 to 6 (a guesser got a sixth guess a minute; the page tests build
  their own throttles, so nothing checked the product's limit);
- ``attempt`` no longer moving a client to the end of the remembered ones
  (``move_to_end`` dropped): the client remembered longest was forgotten first even when it had
  just failed again, not the quietest one;
- ``attempt`` without its lock: guesses sent at once all passed the limit check before any of
  them was counted, so a burst of guesses got through past the limit.

Judged equivalent:

- ``_recent`` dropping failures strictly older than the window (``<`` for ``<=``): a failure
  exactly ``WINDOW`` old is either gone or is ``failures[-MAX_FAILED]`` whose wait is
  ``max(0, 0)``; the client may try at once either way, and the next wait is the same.
- ``_wait`` counting from ``failures[0]`` instead of ``failures[-MAX_FAILED]``: a client is
  let through only while it has fewer than ``MAX_FAILED`` failures in the window, so the list
  never holds more than ``MAX_FAILED`` and the two are the same failure.
"""

from __future__ import annotations

import threading
import time

from ui.throttle import MAX_FAILED, WINDOW, SignInThrottle


def test_the_product_turns_a_client_away_at_its_sixth_sign_in_within_a_minute() -> None:
    now = [500.0]
    throttle = SignInThrottle(clock=lambda: now[0])  # the page's own limits
    assert (MAX_FAILED, WINDOW) == (5, 60.0)
    for _ in range(5):
        assert throttle.attempt("203.0.113.9") is not None
        now[0] += 1.0
    assert throttle.attempt("203.0.113.9") is None  # the sixth within the minute
    assert throttle.wait("203.0.113.9") == 55.0  # until the first leaves the window
    now[0] += 55.0
    assert throttle.attempt("203.0.113.9") is not None


def test_the_quietest_client_is_forgotten_not_the_one_remembered_longest() -> None:
    now = [0.0]
    throttle = SignInThrottle(max_failed=2, window=60.0, max_clients=2, clock=lambda: now[0])
    throttle.attempt("guesser")
    now[0] += 1
    throttle.attempt("quiet")
    now[0] += 1
    throttle.attempt("guesser")  # the guesser failed last: it is the one kept
    assert throttle.wait("guesser") == 58.0
    now[0] += 1
    throttle.attempt("newcomer")  # a third client: one of the others is forgotten
    assert throttle.wait("guesser") == 58.0 - 1
    assert throttle.wait("newcomer") == 0.0
    throttle.attempt("newcomer")
    assert throttle.wait("newcomer") == 60.0
    assert throttle.attempt("guesser") is None  # still turned away


def test_guesses_sent_at_once_are_counted_under_one_lock() -> None:
    """The clock sleeps (as a loaded server may pause a thread anywhere): without the lock,
    every thread checks the limit before any of them counts its attempt."""

    def slow_clock() -> float:
        time.sleep(0.01)
        return 100.0

    throttle = SignInThrottle(max_failed=3, window=60.0, clock=slow_clock)
    start = threading.Barrier(12)
    tokens: list[float | None] = []

    def guess() -> None:
        start.wait()
        tokens.append(throttle.attempt("198.51.100.4"))

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(token is not None for token in tokens) == 3
