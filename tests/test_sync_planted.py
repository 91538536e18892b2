"""Folder syncs (rag/sync.py) into a real Chroma in tmp_path with the real embedding model:
what an unreadable document leaves in the index, and which documents a folder that cannot be
listed keeps.

Tests written for deliberate bugs a review planted in rag/sync.py that the suite let through:

- ``_keep`` keeping the earlier index entry whatever the cause (``not isinstance(cause,
  OSError)`` dropped): a document whose new content cannot be read (binary now) stayed indexed
  with its old text, the report saying "its earlier index entry is kept";
- the documents kept for a folder that cannot be listed matched by name prefix
  (``startswith(folder)`` without the "/"): the documents of a sibling folder whose name begins
  with it ("sub2/" beside "sub/") were kept too, after they were deleted;
- the "deleted while it was read" check dropped (``if not path.exists(): continue``): a
  changed document deleted between its size check and its read kept its old index entry, and
  the report named it as a file that could not be read;
- the fence before each batch of chunks dropped (``self.fence()`` before ``store.add``): a
  server-mode writer that lost its lease while it embedded added its chunks all the same, over
  the new holder's index;
- the store's generation compared with ``>`` instead of ``!=``: a store older than its
  document list (a chroma folder restored from a backup of one sync before) was taken as
  current, and its chunks answered for texts the list no longer had.

Judged equivalent: ``repaired`` dropped from ``changed = bool(pending or removed) or repaired
or needs_lexical``: ``needs_lexical`` is true whenever ``repaired`` is (it starts with it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.api import engine, shared_embedder
from rag.catalog import ServerCatalog
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.sync import Syncer
from tests import test_faults_folder
from tests.test_faults_folder import (
    FENWICK,
    SYLVANIA,
    _can_drop_root,
    unprivileged_ingest,
)

small = test_faults_folder.small  # that file's fixture: a folder of two small documents


def test_a_document_whose_content_cannot_be_read_now_leaves_the_index(small: Settings) -> None:
    rag.ingest(settings=small)
    (small.docs_dir / "b.txt").write_bytes(b"\x00\x01\x02 not text any more \x00" * 8)
    report = rag.ingest(settings=small)
    assert [(s.path, s.reason) for s in report.skipped] == [("b.txt", "binary file (not text)")]
    assert (report.removed_files, report.total_files) == (1, 1)
    assert [d.source for d in rag.documents(small).documents] == ["a.txt"]


@pytest.mark.skipif(not _can_drop_root(), reason="needs a user namespace to drop root's rights")
def test_a_folder_that_cannot_be_listed_keeps_its_own_documents_only(small: Settings) -> None:
    for folder in ("sub", "sub2"):
        (small.docs_dir / folder).mkdir()
    (small.docs_dir / "sub" / "c.txt").write_text(FENWICK, encoding="utf-8")
    (small.docs_dir / "sub2" / "d.txt").write_text(SYLVANIA.replace("Sylvania", "Osterlich"))
    rag.ingest(settings=small)
    (small.docs_dir / "sub2" / "d.txt").unlink()  # gone: its entry goes
    os.chmod(small.docs_dir / "sub", 0)  # unknown: its entries stay
    try:
        done = unprivileged_ingest(small)
    finally:
        os.chmod(small.docs_dir / "sub", 0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 added, 0 updated, 1 removed, "), done.stdout
    assert [d.source for d in rag.documents(small).documents] == ["a.txt", "b.txt", "sub/c.txt"]


def test_a_document_deleted_between_its_check_and_its_read_leaves_the_index(
    small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.sync

    rag.ingest(settings=small)
    (small.docs_dir / "b.txt").write_text(SYLVANIA + "It also exports wool.\n", encoding="utf-8")
    checked = rag.sync.size_problem

    def delete_then_check(path: Path, size: int, settings: Settings) -> str:
        if path.name == "b.txt":  # the race made deterministic: gone after its stat
            path.unlink()
        return checked(path, size, settings)

    monkeypatch.setattr(rag.sync, "size_problem", delete_then_check)
    report = rag.ingest(settings=small)
    assert (report.removed_files, report.skipped) == (1, [])
    assert [d.source for d in rag.documents(small).documents] == ["a.txt"]


def test_a_writer_that_loses_its_lease_while_it_embeds_adds_nothing(
    small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = engine(small)
    catalog = ServerCatalog(eng.store)
    embedder = shared_embedder(small)
    embed = embedder.embed_documents
    lease_name = f"{eng.store.name}__lease"

    def taken_over_meanwhile(*args: Any, **kwargs: Any) -> Any:
        marker = eng.store.marker(lease_name)
        assert marker is not None
        eng.store.drop_marker(lease_name, marker[0])  # a waiter retired it: another writes now
        return embed(*args, **kwargs)

    monkeypatch.setattr(embedder, "embed_documents", taken_over_meanwhile)
    syncer = Syncer(small, eng.store, eng.lexical, embedder, catalog=catalog)
    with pytest.raises(StoreBusyError, match="lost the writer lease"), catalog.lease(5):
        syncer.sync(small.docs_dir)
    assert eng.store.count() == 0


def test_a_store_older_than_its_document_list_is_repaired(
    small: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    rag.ingest(settings=small)
    eng = engine(small)
    generation = eng.store.state().generation
    eng.store.set_generation(generation - 1, str(small.docs_dir.resolve()))
    with caplog.at_level(logging.WARNING, logger="rag.sync"):
        rag.ingest(settings=small)
    assert (
        f"Repairing the index first: the store was written by sync {generation - 1} and the "
        f"manifest by sync {generation}." in caplog.messages
    )
    assert eng.store.state().generation == generation + 1
