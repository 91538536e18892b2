"""rag/bounds.py's stream closes the model's stream it stops reading, at once.

Tests written for deliberate bugs a review planted in rag/bounds.py that the suite let through:

- ``pieces.close()`` dropped from ``stream``'s ``finally``: a reply ended at its deadline left
  the model's stream (its HTTP response) open for as long as the error was kept (its traceback
  holds the frame), so the server went on generating a reply nobody would read.

Judged equivalent: ``stream`` raising at once on an ``APITimeoutError`` before the first text
(``started and`` dropped): ``_retry_or_raise`` raises the same ``LLMError`` from the same error
with the same retry count, as a timeout is never retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from rag.bounds import Bounds, ReplyTimeout, stream
from rag.errors import LLMError


@dataclass
class Piece:
    text: str


class SlowModel:
    """Stands for the chat model: a stream of pieces, each 0.1 s after the last."""

    def __init__(self) -> None:
        self.closed = False

    def stream(self, messages: list[Any], **options: Any) -> Iterator[Piece]:
        try:
            for word in ["The ", "bridge ", "opened ", "in ", "1932."] * 10:
                time.sleep(0.1)
                yield Piece(word)
        finally:
            self.closed = True


def test_a_stream_ended_at_its_deadline_closes_the_models_stream() -> None:
    model = SlowModel()
    with pytest.raises(LLMError) as raised:
        list(stream(model, [], Bounds(64, (), 0.35, 0), lambda exc, n: str(exc)))  # type: ignore[arg-type]
    assert isinstance(raised.value.__cause__, ReplyTimeout)
    assert model.closed  # while the error (and its traceback) is still held
