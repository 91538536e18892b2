"""rag/retrieval.py at its edges: passages that fusion scores alike are ordered by their ids, in
hybrid retrieval and in a follow-up's fusion alike, not by which side found them first.

Tests written for deliberate bugs a review planted in rag/retrieval.py that the suite let
through:

- ``fuse`` sorting by the score alone (no ``cid`` tie-break): of two first hits with the same
  fused score, the dense side's led;
- ``search_follow_up`` sorting by the score alone: of two passages at the same fused score, the
  one the merged query found led (the shelf's follow-up test had its tie in id order already);
- ``search`` without ``if cid in chunks``: a BM25 hit the store no longer holds (the lexical
  index a sync behind it) raised KeyError instead of being left out.
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Mode, Settings
from rag.lexical import LexicalIndex
from rag.retrieval import Retriever, fuse
from rag.store import VectorStore
from tests.test_mutation_holes import (  # noqa: F401 - shelf: a fixture
    PALLET,
    QUOKKA,
    SHELF,
    TableEmbedder,
    retriever,
    shelf,
)

Shelf = tuple[Settings, VectorStore, LexicalIndex]  # tests/test_mutation_holes.py's shelf


def test_fused_ties_go_by_id_not_by_the_side_that_found_them() -> None:
    # Each side's only hit: both at 1/61.
    assert fuse([["b"], ["a"]], 60, keep_firsts_within=5) == ["a", "b"]
    assert fuse([["d", "c"], ["c", "d"]], 60, keep_firsts_within=1) == ["c", "d"]


def test_a_follow_ups_ties_go_by_id(shelf: Shelf) -> None:  # noqa: F811
    r = retriever(shelf)
    merged = r.search(QUOKKA, 3)  # b, d, c
    alone = r.search(PALLET, 3)  # b, a, c
    assert [p.chunk.id for p in merged] == ["b", "d", "c"]
    assert [p.chunk.id for p in alone] == ["b", "a", "c"]
    # b 2/61, c 2/63, then d and a at 1/62: a first by id, though the merged query found d.
    found = r.search_follow_up(PALLET, QUOKKA, 3)
    assert [(p.chunk.id, round(p.score, 6)) for p in found] == [
        ("b", round(2 / 61, 6)),
        ("c", round(2 / 63, 6)),
        ("a", round(1 / 62, 6)),
    ]


def test_a_lexical_hit_the_store_no_longer_holds_is_left_out(
    shelf: Shelf,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings, store, _ = shelf
    stale = LexicalIndex(tmp_path / "bm25")
    # "z" was deleted from the store; the lexical index still holds it, as its best hit.
    stale.build([*((cid, text) for cid, (text, _) in SHELF.items()), ("z", "pallet pallet")])
    assert stale.search(PALLET, 3)[0][0] == "z"
    r = Retriever(settings, store, stale, TableEmbedder())
    modes: tuple[Mode, ...] = ("bm25", "hybrid")
    for mode in modes:
        found = [p.chunk.id for p in r.search(PALLET, 3, mode=mode)]
        assert "z" not in found and found, mode
