"""Planted-bug probe of round 20: a long list or table read by windows of its lines
(rag/answering.py ``windows``) and a rare word the documents never write refused
(rag/entities.py ``unknown_names``). Each test names the bug it was seen to catch."""

from __future__ import annotations

import pytest

from rag.answering import MAX_READ, WINDOW_WORDS, candidate_sentences, judge, line_spans
from rag.entities import RARE_SHARE, unknown_names
from rag.lexical import LexicalIndex
from rag.models import Passage
from rag.reader import shared_reader
from tests.test_long_units import STEPS, TABLE
from tests.test_structured_answers import Blocks, structured


def _line(n: int, size: int) -> str:
    return " ".join([f"item{n}"] * size)


def test_windows_add_each_line_s_own_words() -> None:
    """Catches _windows_of adding the previous line's words instead of the next one's."""
    lines = [_line(0, 10), _line(1, 30), _line(2, 5)]  # 45 words: 10 + 30 fit, 5 more do not
    _, passage = structured([("heading", "Items"), ("list", "\n".join(lines))], "Guide > Items")
    texts = [c.text for c in candidate_sentences([passage]) if c.kind == "list"]
    assert texts == ["\n".join(lines[:2]), lines[2]]


def test_a_window_has_no_edge_whitespace_even_at_an_indented_line() -> None:
    """Catches line_spans keeping a line's indentation (a window would start with spaces)."""
    assert line_spans("  a b  \n\n   \n c\t") == [(2, 5), (14, 15)]
    lines = [_line(0, 25), "  " + _line(1, 25), "  " + _line(2, 10)]
    text, passage = structured([("heading", "Items"), ("list", "\n".join(lines))], "Guide > Items")
    windows = [c for c in candidate_sentences([passage]) if c.kind == "list"]
    assert [w.text for w in windows] == [lines[0], "\n".join(lines[1:]).strip()]
    assert all(w.text == w.text.strip() == text[w.start : w.end] for w in windows)


def _two_tables() -> list[Passage]:
    # Two pages with a table at the same offsets, different words ("copy" -> "move").
    other: Blocks = [(kind, body.replace("copy", "move")) for kind, body in TABLE]
    _, first = structured(TABLE, "Copy > Parameters", source="copy.html")
    _, second = structured(other, "Move > Parameters", source="move.html")
    assert first.chunk.text != second.chunk.text
    assert len(first.chunk.text) == len(second.chunk.text)
    return [first, second]


def test_windows_of_two_pages_at_the_same_offsets_are_all_read() -> None:
    """Catches candidate_sentences deduping windows by offsets alone, not by chunk and offsets."""
    passages = _two_tables()
    windows = [c for c in candidate_sentences(passages) if c.kind == "table"]
    by_page = {p.chunk.id: [w.text for w in windows if w.passage is p] for p in passages}
    assert len(by_page["copy.html#0"]) == len(by_page["move.html#0"]) > 1


def test_tables_of_two_pages_at_the_same_offsets_are_each_judged() -> None:
    """Catches judge keeping one verdict per offsets across pages (its dedupe key without chunk)."""
    passages = _two_tables()
    question = "Which attribute makes the task replace destination files that are newer?"
    tables = [j for j in judge(question, passages, shared_reader()) if j.kind == "table"]
    assert sorted(j.passage.chunk.id for j in tables) == ["copy.html#0", "move.html#0"]


def test_a_window_shared_with_the_introduced_list_cites_the_introduction_too() -> None:
    """Catches candidate_sentences keeping the last reading of a shared window (the list alone)
    instead of the first (the list with the sentence introducing it)."""
    text, passage = structured(STEPS, "Guide > Releasing")
    intro = text.index(STEPS[1][1])
    later = [c for c in candidate_sentences([passage]) if c.text.startswith("step 3")]
    assert [w.whole for w in later] == [(intro, len(text))]


def test_judged_text_is_the_whole_table() -> None:
    """Catches judge giving a window's bounds the text of the window (or the reverse)."""
    text, passage = structured(TABLE, "Copy > Parameters")
    question = "How do I make copy replace destination files even when they are newer?"
    [table] = [j for j in judge(question, [passage], shared_reader()) if j.kind == "table"]
    assert table.text == text[table.start : table.end] == TABLE[2][1]


def test_the_read_limit_counts_units_before_they_are_cut_into_windows() -> None:
    """Catches MAX_READ dropped (every sentence read) or applied to windows, not units."""
    blocks: Blocks = [
        ("heading", "Parameters"),
        TABLE[2],
        ("text", " ".join(f"Option {n} sets the level of detail {n}." for n in range(20))),
    ]
    _, passage = structured(blocks, "Copy > Parameters")
    read = candidate_sentences([passage])
    assert len({c.whole or (c.start, c.end) for c in read}) == MAX_READ
    assert len(read) > MAX_READ  # the table's windows beyond the one place it took


def test_a_unit_of_one_word_more_than_a_window_is_cut() -> None:
    """Catches WINDOW_WORDS moved off 40 (the reader's budget, derived in rag/answering.py)."""
    assert WINDOW_WORDS == 40
    lines = [_line(0, 20), _line(1, 20), "last"]  # 41 words
    _, passage = structured([("heading", "Items"), ("list", "\n".join(lines))], "Guide > Items")
    texts = [c.text for c in candidate_sentences([passage]) if c.kind == "list"]
    assert texts == ["\n".join(lines[:2]), "last"]


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    """The fewest chunks for which the rare-word rule holds; the documents write JSON and YAML."""
    lexical = LexicalIndex(tmp_path_factory.mktemp("manual") / "bm25")
    rows = [
        (f"c{n}", f"Task {n} copies the files of the build into a folder and deletes the cache.")
        for n in range(round(1 / RARE_SHARE) - 1)
    ]
    rows.append(("x", "Settings may be written in JSON or in YAML."))
    lexical.build(rows)
    return lexical


def test_a_short_rare_word_one_letter_off_a_known_one_is_unknown(manual: LexicalIndex) -> None:
    """Catches the rare-word lookup forgiving a typo below MIN_TYPO_CHARS or matching by all but
    its last letter: JSONL is not JSON."""
    assert unknown_names("Can the copy task read JSONL files?", manual) == ["JSONL"]
    assert unknown_names("Does the build accept jsonp?", manual) == ["jsonp"]


def test_a_rare_word_is_looked_up_by_its_stem(manual: LexicalIndex) -> None:
    """Catches the rare-word lookup using the word as written, not its stem ("yamls": "yaml")."""
    assert unknown_names("Where do the yamls go?", manual) == []


def test_an_identifier_of_one_word_piece_is_still_a_name(manual: LexicalIndex) -> None:
    """Catches the word-piece test applied to identifiers too ("iPhone" is one piece)."""
    assert unknown_names("Does the build run on an iPhone?", manual) == ["iPhone"]


def test_a_sentence_and_the_long_code_it_introduces_stay_one_unit() -> None:
    """Catches windows cutting code too (only lists and tables are read by windows)."""
    code = "\n".join(
        f"cargo test --package crate{n} --features a,b,c -- --nocapture" for n in range(8)
    )
    intro = "Run the tests of every package with this:"
    blocks: Blocks = [("heading", "Testing"), ("text", intro), ("code", code)]
    text, passage = structured(blocks, "Guide > Testing")
    assert len(code.split()) > WINDOW_WORDS
    [unit] = [c for c in candidate_sentences([passage]) if c.kind == "code"]
    assert unit.text == f"{intro}\n\n{code}" == text[unit.start : unit.end]
    assert unit.whole is None
