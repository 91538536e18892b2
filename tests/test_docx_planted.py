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


def test_a_paragraph_whose_style_word_cannot_read_is_read_as_a_paragraph(tmp_path: Path) -> None:
    """A style of a type python-docx does not know (a damaged or foreign file) is no style:
    the paragraph is still read, and the document is not refused."""
    import docx

    document = docx.Document()
    style = document.styles.add_style("Odd", 1)  # a paragraph style, then its type damaged
    word = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    style.element.set(f"{word}type", "bogus")
    paragraph = document.add_paragraph("The relief valve opens at 4 bar.")
    paragraph._p.get_or_add_pPr().get_or_add_pStyle().val = style.element.get(f"{word}styleId")
    assert blocks(saved(document, tmp_path / "odd.docx")) == [
        ("paragraph", "The relief valve opens at 4 bar."),
    ]


def test_a_docx_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    """A zip of more parts than any document has (10,000) is refused before it is unpacked,
    however small each part is."""
    import zipfile

    import docx
    import pytest

    from rag.loaders import UnreadableFile

    path = tmp_path / "parts.docx"
    document = docx.Document()
    document.add_paragraph("The relief valve opens at 4 bar.")
    document.save(str(path))
    with zipfile.ZipFile(path, "a") as archive:
        count = len(archive.infolist())
        for i in range(10_001 - count):
            archive.writestr(f"customXml/part{i}.bin", b"")
    with pytest.raises(UnreadableFile, match=r"^unpacks to \d+ MB in 10,001 parts .*zip bomb"):
        load_document(path)


def test_the_words_of_a_link_are_read(tmp_path: Path) -> None:
    """A hyperlink's words are part of its sentence."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    paragraph = document.add_paragraph("See the ")
    rid = paragraph.part.relate_to(
        "https://example.com/valves", RELATIONSHIP_TYPE.HYPERLINK, is_external=True
    )
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "relief valve guide"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    paragraph.add_run(" before you open it.")
    assert blocks(saved(document, tmp_path / "link.docx")) == [
        ("paragraph", "See the relief valve guide before you open it."),
    ]


def test_a_zip_that_is_no_word_document_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A zip without a document in it: the reason says so and names what python-docx raised."""
    import zipfile

    import pytest

    from rag.loaders import UnreadableFile

    with zipfile.ZipFile(tmp_path / "notes.docx", "w") as archive:
        archive.writestr("notes.txt", "The relief valve opens at 4 bar.")
    with pytest.raises(UnreadableFile, match=r"^not a readable \.docx file \(\w+\)$"):
        load_document(tmp_path / "notes.docx")


def test_a_heading_style_named_in_capitals_is_a_heading(tmp_path: Path) -> None:
    """Style names are matched without regard to case ("HEADING 2" from another editor)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    document.styles.add_style("HEADING 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Pumps", style="Title")
    document.add_paragraph("Relief valve", style="HEADING 2")
    document.add_paragraph("It opens at 4 bar.")
    loaded = saved(document, tmp_path / "h.docx")
    assert [(b.kind, b.path) for b in loaded.blocks] == [
        ("heading", ("Pumps",)),
        ("heading", ("Pumps", "Relief valve")),
        ("paragraph", ("Pumps", "Relief valve")),
    ]
