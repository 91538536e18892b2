"""A list or table longer than the reader sees is read by windows of its lines (rag/answering.py,
``windows``): the reader reads 128 tokens, so a table's later rows were never judged. The unit is
judged by its best window and cited whole."""

from __future__ import annotations

import pytest

from rag.answering import WINDOW_WORDS, answer_extractive, candidate_sentences, judge
from rag.reader import shared_reader
from rag.reader_input import reader_pair
from tests.test_structured_answers import Blocks, structured

HEADER = "Attribute | Description | Required"
ROWS = [
    "src | the file to copy from, or a resource collection nested inside | Yes",
    "todir | the directory the files are copied to, created when missing | Yes",
    "preservelastmodified | give the copies the modification times of their sources | No",
    "filtering | whether token filtering takes place while the files are copied | No",
    "flatten | ignore the directory structure of the sources and copy into one folder | No",
    "includeEmptyDirs | copy the empty directories of the file sets as well | No",
    "failonerror | whether a missing source stops the build with an error | No; default true",
    "verbose | log every file that is copied, one line for each of them | No",
    "encoding | the character set the filters assume when they read the files | No",
    "granularity | seconds of tolerance when the times of two files are compared | No",
    "quiet | say nothing when a file cannot be copied and failonerror is false | No",
    "overwrite | replace destination files even when they are newer than the source | No",
]
TABLE: Blocks = [
    ("heading", "Parameters"),
    ("text", "Copies a file or resource collection to a new file or directory."),
    ("table", "\n".join([HEADER, *ROWS])),
]
STEPS: Blocks = [
    ("heading", "Releasing"),
    ("text", "A release takes these steps, in this order:"),
    (
        "list",
        "\n".join(
            f"step {n}: {what} and check the log of the build for any warning it printed"
            for n, what in enumerate(
                ["tag the sources", "build the archives", "sign the archives", "upload them"],
                start=1,
            )
        ),
    ),
]


def test_a_long_table_is_read_by_windows_of_rows_each_with_the_header() -> None:
    text, passage = structured(TABLE, "Copy > Parameters")
    table = [c for c in candidate_sentences([passage]) if c.kind == "table"]
    assert len(table) > 1
    for window in table:
        assert text[window.start : window.end] == window.text
        assert len(window.text.split()) <= WINDOW_WORDS
    # Every line once, in order, none cut: the windows rejoin to the table's lines.
    assert [line for w in table for line in w.text.split("\n")] == [HEADER, *ROWS]
    # The first window is read after the sentence before the table; the others after the header.
    assert table[0].before == TABLE[1][1]
    assert {w.before for w in table[1:]} == {HEADER}


def test_a_table_is_judged_by_its_best_window_and_cited_whole() -> None:
    text, passage = structured(TABLE, "Copy > Parameters")
    question = "How do I make copy replace destination files even when they are newer?"
    reader = shared_reader()
    windows = [c for c in candidate_sentences([passage]) if c.kind == "table"]
    assert len(windows) > 2
    logits = reader.logits(
        [reader_pair(question, w.text, title="Copy > Parameters", before=w.before) for w in windows]
    )
    [table] = [j for j in judge(question, [passage], reader) if j.kind == "table"]
    # One verdict for the table, the best of its windows' (the row asked about is in the last).
    assert table.logit == pytest.approx(max(float(x) for x in logits))
    assert max(range(len(windows)), key=lambda i: float(logits[i])) == len(windows) - 1
    result = answer_extractive(question, [passage], reader, refusal_threshold=0.0, max_sentences=1)
    [cited] = result.citations
    # What is cited is the whole table, an exact span of the document.
    assert cited.kind == "table"
    assert cited.text == "\n".join([HEADER, *ROWS]) == text[cited.start : cited.end]


def test_a_long_list_s_later_windows_are_read_after_the_sentence_introducing_it() -> None:
    text, passage = structured(STEPS, "Guide > Releasing")
    windows = [c for c in candidate_sentences([passage]) if c.kind == "list"]
    intro = STEPS[1][1]
    # No window holds the whole list, and its windows are whole steps, of at most WINDOW_WORDS
    # words with the introduction counted. Read with the sentence introducing it and alone, the
    # list's windows after the first are the same spans, read once: the first (two steps) is cut
    # where the introduction leaves no room for the second.
    steps = STEPS[2][1].split("\n")
    assert len(f"{intro} {steps[0]} {steps[1]}".split()) > WINDOW_WORDS
    assert sorted(w.text.split("\n") for w in windows) == [
        [intro, "", steps[0]],
        steps[:2],
        [steps[1]],
        steps[2:],
    ]
    assert all(len(w.text.split()) <= WINDOW_WORDS for w in windows)
    # The sentence and the list are one span (it introduces the list); cut, it leads the first
    # window and is the words before the others.
    assert windows[0].text.startswith(intro)
    assert {w.before for w in windows[1:]} == {intro}
    assert all(text[w.start : w.end] == w.text for w in windows)


def test_a_short_table_and_a_line_longer_than_a_window_stay_whole() -> None:
    short: Blocks = [("heading", "Parameters"), ("table", "\n".join([HEADER, *ROWS[:2]]))]
    _, passage = structured(short, "Copy > Parameters")
    [table] = [c for c in candidate_sentences([passage]) if c.kind == "table"]
    assert table.text == "\n".join([HEADER, *ROWS[:2]])
    long_line = " ".join(["word"] * (WINDOW_WORDS + 5)) + " | No"
    wide: Blocks = [("heading", "Parameters"), ("table", "\n".join([HEADER, long_line, ROWS[0]]))]
    _, passage = structured(wide, "Copy > Parameters")
    texts = [c.text for c in candidate_sentences([passage]) if c.kind == "table"]
    assert texts == [f"{HEADER}\n{long_line}", ROWS[0]]


def test_a_window_holds_as_many_lines_as_fit_in_its_words() -> None:
    # Three lines of exactly half a window each: the first two make one window.
    lines = [" ".join([f"item{n}"] * (WINDOW_WORDS // 2)) for n in range(3)]
    assert all(len(x.split()) == WINDOW_WORDS // 2 for x in lines)
    _, passage = structured([("heading", "Items"), ("list", "\n".join(lines))], "Guide > Items")
    texts = [c.text for c in candidate_sentences([passage]) if c.kind == "list"]
    assert texts == ["\n".join(lines[:2]), lines[2]]


def test_a_wide_header_is_counted_in_the_first_window() -> None:
    """The header row opens the first window: its words count, or the reader, which reads 128
    tokens, would never see that window's last row."""
    header = " | ".join(f"Column{n}" for n in range(8))  # 15 words
    rows = [" ".join([f"row{n}"] * 20) for n in range(4)]
    table: Blocks = [("heading", "Parameters"), ("table", "\n".join([header, *rows]))]
    _, passage = structured(table, "Copy > Parameters")
    windows = [c for c in candidate_sentences([passage]) if c.kind == "table"]
    # Read without it, the rows pair up; the header leaves room for one row beside it.
    assert [w.text for w in windows] == [f"{header}\n{rows[0]}", rows[1], "\n".join(rows[2:])]
    assert all(len(w.text.split()) <= WINDOW_WORDS for w in windows)


def test_a_long_unit_of_one_line_is_read_whole() -> None:
    """A table of one row longer than a window (its header alone) and a one-item list that ends
    like an introduction have no lines to cut into windows: each is read whole. (The first
    version of the header rule failed on them with an IndexError: Ant's manual has such tables.)"""
    header = " | ".join(f"Column{n}" for n in range(WINDOW_WORDS))
    item = " ".join(["word"] * WINDOW_WORDS) + " as follows:"
    for kind, body in (("table", header), ("list", item)):
        text, passage = structured([("heading", "Parameters"), (kind, body)], "Copy > Parameters")
        [unit] = [c for c in candidate_sentences([passage]) if c.kind == kind]
        assert unit.text == body == text[unit.start : unit.end]
