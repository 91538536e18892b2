"""Many users at once (issue 21): the page's queue settings, and replicas whose BM25 cache
catches up with the changed chunks instead of being rebuilt."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.api import engine
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.lexical import LexicalIndex
from rag.store import VectorStore
from rag.sync import refresh_lexical
from tests.test_chroma_server import chroma_url  # noqa: F401  (the server fixture)

QUERIES = ("tower metres", "zorb masons guild", "bridge stone Hennick", "record quux7 tall", "nine")


# -- the queue settings ----------------------------------------------------------------------


def test_queue_defaults_let_two_hundred_wait() -> None:
    settings = Settings()
    assert settings.queue_size >= 200
    assert settings.queue_options() == {
        "max_size": settings.queue_size,
        "default_concurrency_limit": settings.chat_concurrency,
    }


def test_queue_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_QUEUE_SIZE", "1000")
    monkeypatch.setenv("RAG_CHAT_CONCURRENCY", "3")
    assert Settings.from_env().queue_options() == {
        "max_size": 1000,
        "default_concurrency_limit": 3,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_QUEUE_SIZE": "0"}, "queue_size must be a whole number from 1 to 100000 (got 0): "
         "set RAG_QUEUE_SIZE (or pass queue_size=) to a value in range."),
        ({"RAG_QUEUE_SIZE": "lots"}, "RAG_QUEUE_SIZE='lots' is not a number: fix or unset it."),
        ({"RAG_CHAT_CONCURRENCY": "65"}, "chat_concurrency must be a whole number from 1 to 64 "
         "(got 65): set RAG_CHAT_CONCURRENCY (or pass chat_concurrency=) to a value in range."),
        ({"RAG_CHAT_CONCURRENCY": "2.5"}, "RAG_CHAT_CONCURRENCY='2.5' is not a number: fix or "
         "unset it."),
    ],
)  # fmt: skip
def test_bad_queue_settings_say_how_to_fix_them(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env()
    assert str(caught.value) == message


# -- incremental catch-up of the BM25 cache ----------------------------------------------------


def text_of(chunk_id: str) -> str:
    n = int(chunk_id.split("-")[1])
    return (
        f"The quux{n} tower is {10 + n % 7} metres tall, built by zorb{n % 3} masons. Record {n}."
    )


def assert_same_index(got: LexicalIndex, want: LexicalIndex, queries: tuple[str, ...]) -> None:
    """Same rows, and every query gives the same ids with the same scores."""
    assert sorted(got._current().ids) == sorted(want._current().ids)
    n = len(want) + 1
    for query in queries:
        have = dict(got.search(query, n))
        expected = dict(want.search(query, n))
        assert sorted(have) == sorted(expected), query
        for chunk_id, score in expected.items():
            assert have[chunk_id] == pytest.approx(score, rel=1e-5), (query, chunk_id)
    for term in ("quux3", "tower", "zorb1", "never-seen"):
        assert got.idf(term) == pytest.approx(want.idf(term)), term


def test_catch_up_equals_a_full_rebuild(tmp_path: Path) -> None:
    before = [f"c-{i}" for i in range(40)]
    after = [c for c in before if int(c.split("-")[1]) % 5] + [f"c-{i}" for i in range(40, 48)]
    index = LexicalIndex(tmp_path / "replica")
    index.build([(c, text_of(c)) for c in before], generation=1)
    asked: list[list[str]] = []

    def fetch(ids: list[str]) -> list[tuple[str, str]]:
        asked.append(ids)
        return [(c, text_of(c)) for c in ids]

    assert LexicalIndex(tmp_path / "replica").catch_up(after, fetch, generation=2)
    assert asked == [[f"c-{i}" for i in range(40, 48)]]  # only the new chunks were read
    full = LexicalIndex(tmp_path / "full")
    full.build([(c, text_of(c)) for c in after], generation=2)
    reloaded = LexicalIndex(tmp_path / "replica")  # what the next process reads from disk
    assert reloaded.generation == 2
    assert_same_index(reloaded, full, ("quux41 tower", "zorb1 masons", "metres tall record 3"))


def test_a_bm25_cache_that_cannot_be_read_is_empty_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What a replica or the next sync reads from a damaged cache: nothing (so it is rebuilt
    from the store), and the log says which damage; a cache never written says nothing."""
    folder = tmp_path / "bm25"
    LexicalIndex(folder).build([(c, text_of(c)) for c in ("c-0", "c-1")], generation=3)
    meta = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
    weights = (folder / "weights.npz").read_bytes()

    def read(ids: dict[str, Any], npz: bytes | None) -> tuple[int, int, list[str]]:
        (folder / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
        if npz is None:
            (folder / "weights.npz").unlink(missing_ok=True)
        else:
            (folder / "weights.npz").write_bytes(npz)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="rag.lexical"):
            index = LexicalIndex(folder)
            return len(index), index.generation, caplog.messages

    assert read(meta, weights) == (2, 3, [])
    assert read({k: v for k, v in meta.items() if k != "generation"}, weights) == (2, 0, [])
    assert read({**meta, "format": 1}, weights) == (
        0, 0, ["The lexical index has an old format: the next sync rebuilds it."]
    )  # fmt: skip
    assert read(meta, b"not a zip") == (0, 0, [
        f"The lexical index in {folder} is unreadable (ValueError): rebuilding it from the store."
    ])  # fmt: skip
    assert read({**meta, "vocab": meta["vocab"][1:]}, weights) == (
        0, 0, ["The lexical index on disk is inconsistent: rebuilding it from the store."]
    )  # fmt: skip
    assert read({**meta, "ids": meta["ids"][:-1]}, weights) == (
        0, 0, ["The lexical index on disk is inconsistent: rebuilding it from the store."]
    )  # fmt: skip
    assert read(meta, None) == (0, 0, [])  # half written (or never): quietly empty


def test_terms_no_row_holds_any_more_stay_in_a_consistent_index(tmp_path: Path) -> None:
    """Removing the only chunks that held the last terms of the vocabulary leaves those terms
    with no rows: the weights still cover the whole vocabulary, so the index reads back."""
    index = LexicalIndex(tmp_path / "bm25")
    index.build([("a", "alpha beta"), ("b", "gamma zeta")], generation=1)
    assert index.update([], ["b"], generation=2)
    assert index.search("zeta", 5) == [] and [c for c, _ in index.search("alpha", 5)] == ["a"]
    reread = LexicalIndex(tmp_path / "bm25")
    assert len(reread) == 1 and [c for c, _ in reread.search("alpha beta", 5)] == ["a"]
    assert index.update([], ["a"], generation=3)  # every row gone, the vocabulary kept
    assert len(index) == 0 and index.search("alpha beta", 5) == []
    assert (
        index.search("alpha", 0) == [] and LexicalIndex(tmp_path / "bm25").search("beta", 1) == []
    )


def test_term_counts_of_another_index_are_not_used_for_an_update(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build([(f"c-{i}", text_of(f"c-{i}")) for i in range(3)], generation=1)
    other = LexicalIndex(tmp_path / "other")
    other.build([(f"c-{i}", text_of(f"c-{i}")) for i in range(5)], generation=1)
    shutil.copy(tmp_path / "other" / "counts.npz", tmp_path / "bm25" / "counts.npz")
    assert not LexicalIndex(tmp_path / "bm25").update([("c-9", text_of("c-9"))], [], 2)


def test_idf_is_bm25s_and_a_published_index_is_read_only(tmp_path: Path) -> None:
    """``idf`` (the names check's measure of a rare word, rag/entities.py) is BM25's:
    log(1 + (N - df + 0.5) / (df + 0.5)); an index never built counts as one chunk. Searches
    read a published snapshot without locks, so its arrays cannot be written."""
    empty = LexicalIndex(tmp_path / "none")
    assert empty.generation == 0 and empty.idf("quux1") == pytest.approx(math.log(4.0))
    index = LexicalIndex(tmp_path / "bm25")
    index.build([(f"c-{i}", text_of(f"c-{i}")) for i in range(4)], generation=1)
    assert index.idf("quux1") == pytest.approx(math.log(1 + 3.5 / 1.5))  # in one chunk of 4
    assert index.idf("tower") == pytest.approx(math.log(1 + 0.5 / 4.5))  # in all four
    assert index.idf("never-seen") == pytest.approx(math.log(1 + 4.5 / 0.5))
    snap = index._current()
    for array in (snap.w_ptr, snap.w_rows, snap.w, snap.doc_freq):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_an_update_to_an_index_never_built_starts_it(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    assert index.update([("c-1", text_of("c-1"))], [])
    assert (len(index), index.generation) == (1, 0)
    assert index.update([("c-2", text_of("c-2"))], [], generation=4)
    reread = LexicalIndex(tmp_path / "bm25")
    assert (len(reread), reread.generation) == (2, 4)
    assert [chunk_id for chunk_id, _ in reread.search("quux2 tower", 1)] == ["c-2"]
    # Each save swaps a folder written aside for the old one: neither is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]


def test_a_save_blocked_before_it_writes_says_so(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build([("c-1", text_of("c-1"))], generation=1)
    (tmp_path / "bm25.tmp").write_text("a file where the new folder goes", encoding="utf-8")
    with pytest.raises(RagError, match=r"^Cannot write .*ids\.json \(File exists\)"):
        index.update([("c-2", text_of("c-2"))], [], generation=2)
    assert LexicalIndex(tmp_path / "bm25").generation == 1


def test_a_save_clears_what_a_crash_left_aside(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build([("c-1", text_of("c-1"))], generation=1)
    for aside in ("bm25.old", "bm25.tmp"):  # a crash between the renames of an earlier save
        (tmp_path / aside).mkdir()
        (tmp_path / aside / "ids.json").write_text("{}", encoding="utf-8")
    assert index.update([("c-2", text_of("c-2"))], [], generation=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]
    assert LexicalIndex(tmp_path / "bm25").generation == 2


def test_a_save_that_fails_leaves_the_index_and_no_folder_aside(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build([("c-1", text_of("c-1"))], generation=1)
    (tmp_path / "bm25.old").write_text("a file where the old folder goes", encoding="utf-8")
    with pytest.raises(RagError) as failed:
        index.update([("c-2", text_of("c-2"))], [], generation=2)
    assert str(failed.value).startswith(f"Cannot write {tmp_path / 'bm25' / 'ids.json'} (")
    assert str(failed.value).endswith(
        "): check that RAG_STORE_DIR is a writable folder, then run rag ingest again."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25", "bm25.old"]  # no bm25.tmp
    assert (len(LexicalIndex(tmp_path / "bm25")), LexicalIndex(tmp_path / "bm25").generation) == (
        1, 1
    )  # fmt: skip


def test_catch_up_at_exactly_its_share_applies_the_change_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [f"c-{i}" for i in range(10)]
    index = LexicalIndex(tmp_path / "bm25")
    index.build([(c, text_of(c)) for c in ids], generation=1)
    wanted = [*ids[3:], "c-10"]  # 1 added + 3 removed = half of the 8 rows wanted

    def fetch(ids: list[str]) -> list[tuple[str, str]]:
        return [(c, text_of(c)) for c in ids]

    with caplog.at_level(logging.INFO, logger="rag.lexical"):
        assert index.catch_up(wanted, fetch, 2, max_share=0.5)
    assert sorted(index._current().ids) == sorted(wanted) and index.generation == 2
    assert "BM25 cache caught up: 1 rows added, 3 removed." in caplog.messages


def test_catch_up_declines_when_too_far_behind_damaged_or_incomplete(tmp_path: Path) -> None:
    ids = [f"c-{i}" for i in range(10)]
    index = LexicalIndex(tmp_path / "bm25")
    index.build([(c, text_of(c)) for c in ids], generation=1)

    def fetch(ids: list[str]) -> list[tuple[str, str]]:
        return [(c, text_of(c)) for c in ids]

    # Six of ten rows new: over half of them changed, a rebuild is due.
    assert not index.catch_up(ids[:4] + [f"c-{i}" for i in range(10, 16)], fetch, 2)
    # The share is of the rows wanted: one row replaced by another is two changes, over all of it.
    single = LexicalIndex(tmp_path / "single")
    single.build([("c-0", text_of("c-0"))], generation=1)
    assert not single.catch_up(["c-1"], fetch, 2, max_share=1.0)
    # The store lacks a chunk the list names (a sync elsewhere is writing): nothing applied.
    assert not index.catch_up([*ids, "c-99"], lambda ids: [], 2)
    assert index.generation == 1 and len(index) == 10
    # A damaged cache (its term counts unreadable) cannot be updated.
    (tmp_path / "bm25" / "counts.npz").write_bytes(b"not a zip")
    damaged = LexicalIndex(tmp_path / "bm25")
    assert not damaged.catch_up([*ids, "c-10"], fetch, 2)


@pytest.mark.slow
def test_a_replica_catches_up_with_a_sync_elsewhere(
    chroma_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    docs, nowhere = tmp_path / "docs", tmp_path / "no-docs"
    docs.mkdir()
    for i in range(8):
        (docs / f"f{i}.txt").write_text(
            " ".join(f"The quux{i} tower is {10 + i} metres tall. Record {j}." for j in range(6)),
            encoding="utf-8",
        )
    server = {"chroma_url": chroma_url, "collection": "catch-up"}
    writer = Settings(docs_dir=docs, store_dir=tmp_path / "a", chunk_size=100, chunk_overlap=0,
                      **server)  # fmt: skip
    replica = Settings(docs_dir=nowhere, store_dir=tmp_path / "b", **server)
    rag.ingest(settings=writer)
    rag.retrieve("How tall is the quux3 tower?", settings=replica)  # its first, full build
    first = sorted(engine(replica).lexical._current().ids)

    # Elsewhere: one file added, one removed, one edited.
    (docs / "bridge.txt").write_text(
        "The Velmar bridge was built from zorbulax stone quarried near Hennick. It took nine "
        "years to finish.",
        encoding="utf-8",
    )
    (docs / "f2.txt").unlink()
    (docs / "f5.txt").write_text("The quux5 tower was pulled down in 1990.", encoding="utf-8")
    rag.ingest(settings=writer)

    with caplog.at_level(logging.INFO, logger="rag.lexical"):
        passages = rag.retrieve("What is zorbulax stone?", settings=replica, k=1)
    assert passages[0].chunk.source == "bridge.txt"
    caught_up = [r.getMessage() for r in caplog.records if "caught up" in r.getMessage()]
    assert len(caught_up) == 1 and "removed" in caught_up[0]
    assert not any("Rebuilding" in r.getMessage() for r in caplog.records)

    got = LexicalIndex(replica.own("bm25"))  # as saved on disk (bm25-<collection>)
    assert sorted(got._current().ids) != first
    store = VectorStore(writer)
    try:
        full = LexicalIndex(tmp_path / "full")
        refresh_lexical(store, full, got.generation)
        assert sorted(got._current().ids) == sorted(store.all_ids())
    finally:
        store.close()
    assert got.generation == engine(writer).manifest.generation
    assert_same_index(got, full, (*QUERIES, "zorbulax", "pulled down 1990"))
    assert not nowhere.exists()
