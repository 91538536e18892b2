"""PDF read from real files made with fpdf2 (rag/loaders/pdf.py through load_document): a
nested outline entry's heading path holds its parent's heading, a file without an outline has
no blocks (its pages are its structure), and a line of exactly the wrapping share of the page's
longest line was wrapped by the layout.

Tests written for deliberate bugs a review planted in rag/loaders/pdf.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import load_document, unwrap_lines


def test_a_nested_outline_entry_keeps_its_parents_heading(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    sections = [
        ("Pumps", 0, "Pumps move the water."),
        ("Relief valve", 1, "The relief valve opens at 4 bar."),
        ("Seals", 1, "The seals last two years."),
        ("Tanks", 0, "Tanks hold the water."),
    ]
    for title, level, body in sections:
        pdf.add_page()
        pdf.start_section(title, level=level)
        pdf.multi_cell(0, 10, body)
    pdf.output(str(tmp_path / "m.pdf"))
    document = load_document(tmp_path / "m.pdf")
    assert [(b.path, document.text[b.start : b.end]) for b in document.blocks] == [
        (("Pumps",), "Pumps move the water."),
        (("Pumps", "Relief valve"), "The relief valve opens at 4 bar."),
        (("Pumps", "Seals"), "The seals last two years."),
        (("Tanks",), "Tanks hold the water."),
    ]


def test_a_pdf_without_an_outline_has_pages_and_no_blocks(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for body in ("Pumps move the water.", "Tanks hold the water."):
        pdf.add_page()
        pdf.multi_cell(0, 10, body)
    pdf.output(str(tmp_path / "p.pdf"))
    document = load_document(tmp_path / "p.pdf")
    assert document.text == "Pumps move the water.\n\nTanks hold the water."
    assert document.pages == ((0, 21, 1), (23, 44, 2))
    assert document.blocks == ()


def test_a_line_of_exactly_the_wrapping_share_of_the_widest_is_joined() -> None:
    # The widest line has 20 characters: a line of 12 (0.6 of it) ran to the layout's margin,
    # so the next line continues its sentence even though it starts in upper case.
    lines = ["Tanks.", "Open valve 7", "Before it runs.", "", "Pump P-20 opens fast"]
    assert len(lines[1]) == 0.6 * max(len(line) for line in lines)
    assert unwrap_lines("\n".join(lines)) == (
        "Tanks.\nOpen valve 7 Before it runs.\n\nPump P-20 opens fast"
    )


def test_a_hyphen_that_breaks_no_word_is_kept() -> None:
    """Only a lower-case word broken after a letter is joined ("exam-/ple"): a hyphen before
    a capital ("Anglo-/Saxon") or after a number ("3-/way") is the author's and stays."""
    assert unwrap_lines("The valve is exam-\nple of a part.") == "The valve is example of a part."
    for text, kept in (
        ("The Anglo-\nSaxon chronicle.", "Anglo-"),
        ("Use the 3-\nway valve.", "3-"),
    ):
        assert kept in unwrap_lines(text)


def test_an_outline_out_of_page_order_still_heads_each_page(tmp_path: Path) -> None:
    """An outline need not list its entries in page order: each page gets the entry that
    points at it, whatever the outline's order."""
    outlined(tmp_path / "o.pdf", [("Tanks", 1, None), ("Pumps", 0, None)])  # page 2 first
    document = load_document(tmp_path / "o.pdf")
    assert [(b.path, document.text[b.start : b.end]) for b in document.blocks] == [
        (("Pumps",), "Pumps move the water."),
        (("Tanks",), "Tanks hold the water."),
    ]


def outlined(path: Path, entries: list[tuple[str, int, int | None]]) -> None:
    """Two pages with an outline of ``(title, page, parent index)`` entries, made by pypdf."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import IndirectObject

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for body in ("Pumps move the water.", "Tanks hold the water."):
        pdf.add_page()
        pdf.multi_cell(0, 10, body)
    pdf.output(str(path.with_suffix(".plain.pdf")))
    writer = PdfWriter()
    writer.append(PdfReader(path.with_suffix(".plain.pdf")))
    made: list[IndirectObject] = []
    for title, page, parent in entries:
        above = made[parent] if parent is not None else None
        made.append(writer.add_outline_item(title=title, page_number=page, parent=above))
    writer.write(path)


def test_outline_titles_are_read_as_one_line_each(tmp_path: Path) -> None:
    """A title's line breaks and runs of spaces are one space in the heading path."""
    outlined(tmp_path / "t.pdf", [("Pumps  and\nvalves", 0, None), ("Tanks", 1, None)])
    document = load_document(tmp_path / "t.pdf")
    assert [b.path for b in document.blocks] == [("Pumps and valves",), ("Tanks",)]


def test_an_outline_three_levels_deep_keeps_every_level(tmp_path: Path) -> None:
    outlined(
        tmp_path / "d.pdf",
        [("Plant", 0, None), ("Pumps", 0, 0), ("Relief valve", 1, 1)],
    )
    document = load_document(tmp_path / "d.pdf")
    assert [b.path for b in document.blocks] == [
        ("Plant", "Pumps"),
        ("Plant", "Pumps", "Relief valve"),
    ]


def test_an_outline_entry_pointing_at_no_page_heads_none(tmp_path: Path) -> None:
    """An entry whose destination is not a page of the file (a damaged outline) is left out,
    not taken as the heading of the first page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.set_compression(False)
    for title in ("Pumps", "Tanks"):
        pdf.add_page()
        pdf.start_section(title)
        pdf.multi_cell(0, 10, f"{title} hold the water.")
    data = bytes(pdf.output())
    dest = b"/Dest [3 0 R /XYZ 0 813.54 null]"
    assert data.count(dest) == 1  # the first entry's: page 1 is object 3
    (tmp_path / "x.pdf").write_bytes(data.replace(dest, b"/Dest [9 9 R /XYZ 0 813.54 null]"))
    document = load_document(tmp_path / "x.pdf")
    assert [b.path for b in document.blocks] == [(), ("Tanks",)]


def test_lines_ended_by_a_lone_carriage_return_are_unwrapped_too() -> None:
    assert unwrap_lines("The valve is exam-\rple of a part.\rIt opens.") == (
        "The valve is example of a part. It opens."
    )


def test_a_short_line_followed_by_lower_case_continues_its_sentence() -> None:
    """A line the layout broke early (before a long word) goes on in lower case: joined."""
    text = "Tanks.\nThe valve\nopens at 4 bar when the pump starts up."
    assert unwrap_lines(text) == "Tanks.\nThe valve opens at 4 bar when the pump starts up."


def test_each_paragraph_of_a_page_is_a_block_of_its_own(tmp_path: Path) -> None:
    """Blocks are paragraphs, as in every other format: a blank line on a page ends one (the
    paragraph pattern ran to the page's end, its dot matching the blank line too)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.start_section("Pumps")
    pdf.multi_cell(0, 10, "Pumps move the water.")
    pdf.cell(0, 10, " ", new_x="LMARGIN", new_y="NEXT")  # a line of white space: a blank line
    pdf.multi_cell(0, 10, "They run on power.")
    pdf.output(str(tmp_path / "p.pdf"))
    document = load_document(tmp_path / "p.pdf")
    assert document.text == "Pumps move the water.\n\nThey run on power."
    assert [(b.path, document.text[b.start : b.end]) for b in document.blocks] == [
        (("Pumps",), "Pumps move the water."),
        (("Pumps",), "They run on power."),
    ]
