"""rag/retrieval.py at its edges: passages that fusion scores alike are ordered by their ids, in
hybrid retrieval and in a follow-up's fusion alike, not by which side found them first.

Tests written for deliberate bugs a review planted in rag/retrieval.py that the suite let
through:

- ``fuse`` sorting by the score alone (no ``cid`` tie-break): of two first hits with the same
  fused score, the dense side's led;
- ``search_follow_up`` sorting by the score alone: of two passages at the same fused score, the
  one the merged query found led (the shelf's follow-up test had its tie in id order already).
"""

from __future__ import annotations

from rag.config import Settings
from rag.lexical import LexicalIndex
from rag.retrieval import fuse
from rag.store import VectorStore
from tests.test_mutation_holes import PALLET, QUOKKA, retriever, shelf  # noqa: F401 - a fixture

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
