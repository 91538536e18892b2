"""reStructuredText read from real .rst files (rag/loaders/rst.py through load_document): a
source docutils itself fails on is read as its text, not skipped.

Tests written for deliberate bugs a review planted in rag/loaders/rst.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import load_document


def test_a_source_docutils_fails_on_is_read_as_text(tmp_path: Path) -> None:
    """Two hundred bullets on one line nest a list per bullet: docutils' parser recurses past
    Python's limit (RecursionError) on it. The file still holds words worth finding."""
    source = "Pumps\n=====\n\nThe relief valve opens at 4 bar.\n\n" + "- " * 200 + "deep\n"
    (tmp_path / "deep.rst").write_text(source, encoding="utf-8")
    document = load_document(tmp_path / "deep.rst")
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
    (tmp_path / "pumps.rst").write_text(source, encoding="utf-8")
    document = load_document(tmp_path / "pumps.rst")
    tables = [document.text[b.start : b.end] for b in document.blocks if b.kind == "table"]
    assert len(tables) == 240
    assert tables[7] == "Pump P-7 opens at 7 bar"
    assert document.title == "Pumps"
