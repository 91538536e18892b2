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
