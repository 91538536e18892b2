"""Word documents read from real .docx files (rag/loaders/docx.py through load_document): a
list that ends the document is kept, empty list paragraphs make no gap in the list, merged
table cells are read once, and the Caption style makes a caption.

Tests written for deliberate bugs a review planted in rag/loaders/docx.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.loaders import LoadedDocument, load_document


def blocks(loaded: LoadedDocument) -> list[tuple[str, str]]:
    return [(b.kind, loaded.text[b.start : b.end]) for b in loaded.blocks]


def saved(document: Any, path: Path) -> LoadedDocument:
    document.save(str(path))
    return load_document(path)


def test_a_list_that_ends_the_document_is_kept(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Checklist", level=1)
    document.add_paragraph("Before you start the pump:")
    document.add_paragraph("Open the inlet valve", style="List Bullet")
    document.add_paragraph("", style="List Bullet")  # an empty item, as Word leaves them
    document.add_paragraph("Check the pressure gauge", style="List Number")
    assert blocks(saved(document, tmp_path / "c.docx")) == [
        ("heading", "Checklist"),
        ("paragraph", "Before you start the pump:"),
        ("list", "Open the inlet valve\nCheck the pressure gauge"),
    ]


def test_merged_cells_are_read_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Pump P-20"
    table.cell(0, 2).text = "Valve"
    for c, value in enumerate(("Opens", "4 bar", "Yes")):
        table.cell(1, c).text = value
    assert blocks(saved(document, tmp_path / "t.docx")) == [
        ("table", "Pump P-20 | Valve\n\nOpens | 4 bar | Yes"),
    ]


def test_the_caption_style_makes_a_caption(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("The pump room is under the north stairs.")
    document.add_paragraph("The pump room in winter", style="Caption")
    assert blocks(saved(document, tmp_path / "p.docx")) == [
        ("paragraph", "The pump room is under the north stairs."),
        ("caption", "The pump room in winter"),
    ]
