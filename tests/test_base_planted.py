"""What every loader shares (rag/loaders/base.py), through real files and load_document where
a file shows it: a UTF-8 Markdown file with a byte-order mark keeps its heading, runs of blank
lines become one paragraph break, and the HTML element cap allows exactly its number.

Tests written for deliberate bugs a review planted in rag/loaders/base.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loaders import Budget, UnreadableFile, load_document
from tests.documents import loaded


def paths_and_texts(tmp_path: Path, html: str) -> list[tuple[tuple[str, ...], str]]:
    """Each block of ``html``, loaded from a real file: its section path and its text."""
    document = loaded(tmp_path, html, "tools.html")
    return [(b.path, document.text[b.start : b.end]) for b in document.blocks]


def test_a_utf8_markdown_file_with_a_byte_order_mark_keeps_its_heading(tmp_path: Path) -> None:
    """Notepad saves UTF-8 with a byte-order mark: left in, it stands before the "#" and the
    heading becomes a paragraph."""
    path = tmp_path / "pumps.md"
    path.write_bytes("# Pumps\n\nThe relief valve opens at 4 bar.\n".encode("utf-8-sig"))
    document = load_document(path)
    assert document.title == "Pumps"
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Pumps"),
        ("paragraph", "The relief valve opens at 4 bar."),
    ]


def test_runs_of_blank_lines_become_one_paragraph_break(tmp_path: Path) -> None:
    source = "Pumps.\n\n\nValves.\n\n\n\n\nTanks.\r\n\r\n\r\nSeals.\n"
    assert loaded(tmp_path, source, "pumps.txt").text == "Pumps.\n\nValves.\n\nTanks.\n\nSeals."


def test_the_element_cap_allows_exactly_its_number() -> None:
    budget = Budget(seconds=60, elements=3)
    for _ in range(3):
        budget.element()
    with pytest.raises(UnreadableFile, match="over 3 HTML elements"):
        budget.element()


def test_a_code_blocks_indented_first_line_starts_at_its_first_character(tmp_path: Path) -> None:
    document = loaded(tmp_path, "# Setup\n\n```\n    indented = 1\nplain = 2\n```\n", "setup.md")
    assert document.text == "Setup\n\n    indented = 1\nplain = 2"
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Setup"),
        ("code", "indented = 1\nplain = 2"),
    ]


def test_a_heading_inside_a_description_stays_open_after_its_term(tmp_path: Path) -> None:
    """The heading met inside a ``<dd>`` closed the term already: closing the term must not
    close that heading too."""
    blocks = paths_and_texts(
        tmp_path,
        "<html><body><h1>Tools</h1><h2>Options</h2><dl><dt>--fast</dt><dd><h2>Speed</h2>"
        "<p>Runs fast.</p></dd></dl><p>After.</p></body></html>",
    )
    assert blocks[-3:] == [
        (("Tools", "Speed"), "Speed"),
        (("Tools", "Speed"), "Runs fast."),
        (("Tools", "Speed"), "After."),
    ]


def test_trailing_spaces_go_from_the_last_line_too() -> None:
    """normalise said it drops trailing spaces, but kept those of a last line without a newline
    (a helper's probe): a text that ends in spaces and tabs ends at its last word."""
    from rag.loaders.base import normalise

    assert normalise("The valve opens.  \r\n\r\n  \t") == "The valve opens."
    assert normalise("First line \t\nlast line  \t") == "First line\nlast line"
    assert normalise(" " * 100_000) == ""  # linear: no regex over the run of spaces


def test_a_subheading_inside_a_description_stays_under_its_term(tmp_path: Path) -> None:
    """A term sits half a level below the open heading: a smaller heading in its description
    is part of the description, so its blocks keep the term in their path."""
    blocks = paths_and_texts(
        tmp_path,
        "<html><body><h1>Tools</h1><h2>Options</h2><dl><dt>--fast</dt><dd><h3>Speed</h3>"
        "<p>Runs fast.</p></dd></dl></body></html>",
    )
    assert blocks[-2:] == [
        (("Tools", "Options", "--fast", "Speed"), "Speed"),
        (("Tools", "Options", "--fast", "Speed"), "Runs fast."),
    ]


def test_a_soft_hyphen_in_a_heading_leaves_its_title_and_path(tmp_path: Path) -> None:
    """Invisible characters go from headings too: the title and the section path a search and
    a citation show read "Pumproom", not "Pump\\u00adroom"."""
    document = loaded(
        tmp_path,
        "<html><body><h1>Pump&shy;room</h1><p>The relief valve opens at 4 bar.</p></body></html>",
        "pumps.html",
    )
    assert document.title == "Pumproom"
    assert [b.path for b in document.blocks] == [("Pumproom",), ("Pumproom",)]


def test_a_nul_byte_past_the_first_few_bytes_still_marks_a_binary_file(tmp_path: Path) -> None:
    """Any NUL in the first 8 KB makes a file binary, not only one at its start: a text header
    followed by binary data is skipped, not indexed with its NUL bytes."""
    path = tmp_path / "dump.txt"
    path.write_bytes(b"Pump log exported on 2026-12-01 by the controller.\n" + b"\x00\x01" * 50)
    with pytest.raises(UnreadableFile, match=r"^binary file \(not text\)$"):
        load_document(path)


def test_text_that_is_not_utf8_names_the_first_bad_byte(tmp_path: Path) -> None:
    """The reason points at the first byte that is not UTF-8, so the user can find it."""
    path = tmp_path / "menu.txt"
    path.write_bytes("Caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(UnreadableFile, match=r"^not UTF-8 text \(byte 3\): save it as UTF-8$"):
        load_document(path)


def test_a_paragraph_naming_an_example_is_its_caption(tmp_path: Path) -> None:
    document = loaded(tmp_path, "# Valves\n\nExample 3: Opening the relief valve.\n", "valves.md")
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Valves"),
        ("caption", "Example 3: Opening the relief valve."),
    ]


def test_code_indented_as_a_whole_loses_the_common_indent(tmp_path: Path) -> None:
    """An HTML page's <pre> indented with its markup keeps its lines' own indentation only."""
    document = loaded(
        tmp_path,
        "<html><body><h1>Setup</h1><pre>    if ready:\n        start()\n</pre></body></html>",
        "setup.html",
    )
    assert document.text == "Setup\n\nif ready:\n    start()"
