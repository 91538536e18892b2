"""The error family (rag/errors.py) as the public functions raise it: an index busy with another
writer is a store error (what a caller catching ``StoreError`` expects), with its fix.

Tests written for deliberate bugs a review planted in rag/errors.py that the suite let through:

- ``StoreBusyError`` derived from ``RagError`` rather than ``StoreError``.
"""

from __future__ import annotations

import pytest

import rag
from rag.api import writing
from rag.config import Settings
from rag.errors import StoreBusyError, StoreError


def test_an_index_busy_with_another_writer_is_a_store_error(settings: Settings) -> None:
    rag.ingest(settings=settings)
    # This thread is the writer: another ingest must wait, and with no time to wait, is refused.
    with writing(settings), pytest.raises(StoreError) as caught:
        rag.ingest(settings=settings, timeout=0)
    assert isinstance(caught.value, StoreBusyError)
    assert str(caught.value) == (
        f"another ingest of {settings.store_dir} is running in this process: wait for it to "
        "finish and try again."
    )
