"""reStructuredText read from real .rst files (rag/loaders/rst.py through load_document): a
source docutils itself fails on is read as its text, not skipped.

Tests written for deliberate bugs a review planted in rag/loaders/rst.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.loaders.base import LoadedDocument
from tests import documents


def loaded(tmp_path: Path, source: str, name: str = "pumps.rst") -> LoadedDocument:
    """``source`` written to ``name`` (an rst file unless named) and loaded."""
    return documents.loaded(tmp_path, source, name)


def test_a_source_docutils_fails_on_is_read_as_text(tmp_path: Path) -> None:
    """Two hundred bullets on one line nest a list per bullet: docutils' parser recurses past
    Python's limit (RecursionError) on it. The file still holds words worth finding."""
    source = "Pumps\n=====\n\nThe relief valve opens at 4 bar.\n\n" + "- " * 200 + "deep\n"
    document = loaded(tmp_path, source, "deep.rst")
    assert document.text == source.strip()
    assert document.blocks == () and document.title == ""


def test_many_small_grid_tables_are_read_as_tables(tmp_path: Path) -> None:
    """The grid-table cap (128 KB) is on one table's lines: a long page of small tables, over
    the cap in all, keeps its structure."""
    rule = "+" + "-" * 190 + "+"

    def table(i: int) -> str:
        return f"{rule}\n" + f"| Pump P-{i} opens at {i} bar".ljust(191) + f"|\n{rule}\n"

    parts = [f"Pump {i} is in room {i}.\n\n{table(i)}" for i in range(240)]
    source = "Pumps\n=====\n\n" + "\n".join(parts)
    assert len(source) > 128 * 1024
    document = loaded(tmp_path, source)
    tables = [document.text[b.start : b.end] for b in document.blocks if b.kind == "table"]
    assert len(tables) == 240
    assert tables[7] == "Pump P-7 opens at 7 bar"
    assert document.title == "Pumps"


def test_a_line_block_keeps_its_lines(tmp_path: Path) -> None:
    """A line block (an address, a verse, a command's output) keeps one line per line."""
    source = "Contact\n=======\n\n| Pump Works Ltd\n| 4 Valve Street\n| Barville\n"
    document = loaded(tmp_path, source, "contact.rst")
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Contact"),
        ("paragraph", "Pump Works Ltd\n4 Valve Street\nBarville"),
    ]


def test_sphinx_roles_and_version_notes_read_as_the_page_shows_them(tmp_path: Path) -> None:
    """A role's "~" or "!" prefix is markup, not a word of the name; a versionchanged note
    says "Changed in", not "New in" (a question about what changed in 2.0 must find it)."""
    source = (
        "Pumps\n=====\n\nCall :func:`~pumps.valve.open` or :meth:`!close` to move it.\n\n"
        ".. versionchanged:: 2.0\n   The valve opens at 4 bar.\n\n.. deprecated:: 3.1\n"
    )
    assert loaded(tmp_path, source).text == (
        "Pumps\n\nCall pumps.valve.open or close to move it.\n\n"
        "Changed in version 2.0: The valve opens at 4 bar.\n\nDeprecated since version 3.1."
    )


def test_a_table_reads_a_row_per_line_with_its_cells_apart(tmp_path: Path) -> None:
    """Cells are separated by " | ", as in every other format: "P-20 4 bar" would run the
    model into its pressure."""
    source = (
        "Pumps\n=====\n\n=====  ======\nModel  Opens\n=====  ======\n"
        "P-20   4 bar\nP-30   6 bar\n=====  ======\n"
    )
    document = loaded(tmp_path, source)
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Pumps"),
        ("table", "Model | Opens\nP-20 | 4 bar\nP-30 | 6 bar"),
    ]


def test_a_generated_table_of_contents_is_not_read(tmp_path: Path) -> None:
    """``.. contents::`` lists the section titles again: indexed, it would be found for every
    question about them and answer none."""
    source = "Pumps\n=====\n\n.. contents::\n\nValves\n------\n\nThe valve opens at 4 bar.\n"
    assert loaded(tmp_path, source).text == ("Pumps\n\nValves\n\nThe valve opens at 4 bar.")


def test_raw_output_stays_off(tmp_path: Path) -> None:
    """Raw output is off: a role derived from ``raw`` is not passed through as HTML, and a raw
    block's content is not read."""
    source = (
        "Pumps\n=====\n\n.. role:: raw-html(raw)\n   :format: html\n\n"
        "The valve :raw-html:`<b>really</b>` opens at 4 bar.\n\n"
        ".. raw:: html\n\n   <p>Raw block text.</p>\n"
    )
    assert loaded(tmp_path, source).text == (
        "Pumps\n\nThe valve :raw-html:`<b>really</b>` opens at 4 bar."
    )


def test_a_documents_subtitle_is_a_paragraph_under_its_title(tmp_path: Path) -> None:
    """A subtitle says what the document is; it opens no section of its own."""
    source = (
        "=====\nPumps\n=====\n\n--------------\nService manual\n--------------\n\n"
        "The valve opens at 4 bar.\n"
    )
    document = loaded(tmp_path, source)
    assert [(b.kind, b.path, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", ("Pumps",), "Pumps"),
        ("paragraph", ("Pumps",), "Service manual"),
        ("paragraph", ("Pumps",), "The valve opens at 4 bar."),
    ]


def test_a_source_docutils_reads_as_nothing_is_kept_as_text(tmp_path: Path) -> None:
    """A file docutils reads no words from (here all one comment) is kept as its text, not
    skipped as empty."""
    source = ".. The relief valve opens at 4 bar: see the pump manual.\n"
    document = loaded(tmp_path, source, "note.rst")
    assert document.text == source.strip()
    assert document.blocks == ()


def test_a_one_line_code_directive_keeps_its_argument_as_code(tmp_path: Path) -> None:
    """A grammar or a prompt given on the directive's line, with no content below it, is the
    code itself."""
    source = (
        "Pumps\n=====\n\n"
        '.. productionlist:: valve: "open" | "close"\n\n.. prompt:: bash $ pumpctl open\n'
    )
    document = loaded(tmp_path, source)
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "Pumps"),
        ("code", 'valve: "open" | "close"'),
        ("code", "bash $ pumpctl open"),
    ]


def test_a_list_nested_a_few_levels_deep_is_still_a_list(tmp_path: Path) -> None:
    """Only nesting past any real document's (60 levels) is flattened to its text: a list in a
    quote six deep is a list."""
    source = (
        "Pumps\n=====\n\nValves\n------\n\n"
        + "".join(f"{'  ' * i}Quoted {i} times.\n\n" for i in range(1, 7))
        + "            - Open the inlet valve.\n            - Check the gauge.\n"
    )
    document = loaded(tmp_path, source)
    last = document.blocks[-1]
    assert (last.kind, document.text[last.start : last.end]) == (
        "list",
        "Open the inlet valve.\nCheck the gauge.",
    )
