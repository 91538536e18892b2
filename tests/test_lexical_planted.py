"""The BM25 index (rag/lexical.py) on real files in tmp_path: a form of a term is found by
exactly ``prefix`` first letters, and a replica's catch-up that leaves the index with another
number of rows than wanted says so (its caller then rebuilds).

Tests written for deliberate bugs a review planted in rag/lexical.py that the suite let
through:

- ``holds_a_form_of`` comparing ``prefix + 1`` first letters (every test name was either
  indexed as it is, as long as the prefix, or one edit away);
- ``catch_up`` returning True without comparing its row count with the ids wanted: a cache
  that held a row twice was kept as caught up, and each search could return that chunk twice.
"""

from __future__ import annotations

from pathlib import Path

from rag.lexical import LexicalIndex

TEXTS = {
    "c-0": "The Serbian delegation met in Brussels.",
    "c-1": "Markets open on Tuesdays in Hennick.",
}


def test_a_form_of_a_term_shares_exactly_the_prefix_letters(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build(list(TEXTS.items()))
    assert index.holds_a_form_of("serbo", 4, 5)  # "serb" starts "serbian"
    assert not index.holds_a_form_of("serbo", 5, 5)  # "serbo" starts nothing, two edits away


def test_a_catch_up_that_leaves_another_row_count_declines(tmp_path: Path) -> None:
    """A cache holding a row twice (a damaged one, or one an older writer left): the ids are
    the ones wanted, nothing to add or remove, yet the index is not what was asked."""
    index = LexicalIndex(tmp_path / "bm25")
    index.build([("c-0", TEXTS["c-0"]), ("c-0", TEXTS["c-0"]), ("c-1", TEXTS["c-1"])], 1)
    replica = LexicalIndex(tmp_path / "bm25")
    fetched: list[list[str]] = []

    def fetch(ids: list[str]) -> list[tuple[str, str]]:
        fetched.append(ids)
        return [(chunk_id, TEXTS[chunk_id]) for chunk_id in ids]

    assert not replica.catch_up(["c-0", "c-1"], fetch, 2)
    assert fetched == [] and len(replica) == 3
    # The rebuild the caller then makes holds each row once.
    replica.build(fetch(["c-0", "c-1"]), 2)
    assert len(replica) == 2
    assert [chunk_id for chunk_id, _ in replica.search("Serbian delegation", 5)] == ["c-0"]
