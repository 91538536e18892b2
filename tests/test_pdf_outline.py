"""A PDF's outline entries start their sections at their heading lines (rag/loaders/pdf.py).

Before, every page took the path of the last entry that starts on it: on libtasn1's manual
"The header file of this library is libtasn1.h" (section 2.4) was labelled "2.5 Future
developments", the section that starts below it. Real files made with fpdf2, read by pypdf."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.loaders.pdf_headings import _heading_keys, heading_lines


def make(path: Path, pages: list[list[tuple[str, str]]]) -> None:
    """Each page: ("line", text) printed, ("section", title) an outline entry there (fpdf2
    prints nothing for it), ("heading", title) both."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for page in pages:
        pdf.add_page()
        for kind, text in page:
            if kind in ("section", "heading"):
                pdf.start_section(text.split(" ", 1)[1] if kind == "heading" else text)
            if kind in ("line", "heading"):
                pdf.multi_cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_sections_start_at_their_heading_lines_on_a_page(tmp_path: Path) -> None:
    make(
        tmp_path / "a.pdf",
        [
            [
                ("line", "Atlas Manual"),
                ("heading", "1 Introduction"),
                ("line", "Atlas maps the world."),
                ("heading", "2. Usage"),
                ("line", "Run atlas."),
            ],
            [("line", "Atlas also runs daily.")],
            [("section", "Licence"), ("line", "Atlas is free.")],
        ],
    )
    document = load_document(tmp_path / "a.pdf")
    blocks = [(b.kind, b.path, document.text[b.start : b.end]) for b in document.blocks]
    assert blocks == [
        ("paragraph", (), "Atlas Manual"),  # above the first entry: no section
        ("heading", ("Introduction",), "1 Introduction"),
        ("paragraph", ("Introduction",), "Atlas maps the world."),
        ("heading", ("Usage",), "2. Usage"),
        ("paragraph", ("Usage",), "Run atlas."),
        ("paragraph", ("Usage",), "Atlas also runs daily."),  # the page before's last section
        ("paragraph", ("Licence",), "Atlas is free."),  # no heading line: from the page's top
    ]
    chunks = chunk_document(
        "a.pdf", document.text, size=700, overlap=0, pages=document.pages, blocks=document.blocks
    )
    assert [(c.page, c.section, c.text) for c in chunks] == [
        (1, "", "Atlas Manual"),
        (1, "Atlas Manual > Introduction", "1 Introduction\n\nAtlas maps the world."),
        (1, "Atlas Manual > Usage", "2. Usage\n\nRun atlas."),
        (2, "Atlas Manual > Usage", "Atlas also runs daily."),
        (3, "Atlas Manual > Licence", "Atlas is free."),
    ]


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("2.13. Non-regular files", "2.13. Nonregular files"),
        ("3.1 Invoking asn1Parser", "Invoking asn1Parser"),
        ("Appendix A Copying Information", "A Copying Information"),
        ("Chapter 2: Getting Started", "Getting started"),
        ("A.1 GNU Free Documentation License", "GNU Free Documentation License"),
    ],
)
def test_a_heading_line_and_its_outline_title_agree_but_for_numbering(
    line: str, title: str
) -> None:
    assert _heading_keys(line) & _heading_keys(title)


def test_numbering_is_not_taken_from_a_title_that_starts_with_a_word() -> None:
    assert _heading_keys("Introduction") == {"introduction"}
    assert _heading_keys("I/O functions") == {"iofunctions"}
    assert _heading_keys("2to3 tool") == {"2to3tool"}
    assert _heading_keys("A note") == {"anote", "note"}  # "A" may be an appendix's letter
    assert not _heading_keys("2.1 Usage") & _heading_keys("2.1 Options")
    assert not _heading_keys("...") and not _heading_keys("1 Usage") & _heading_keys("Usage.x")


def test_heading_lines_in_order_on_two_lines_and_not_in_code_or_inside_a_line() -> None:
    lines = [
        "Text of the section before.",  # 0
        "Usage is explained below.",  # 1: holds the title, is not it
        "2 Usage",  # 2
        "usage",  # 3: the same words again, after the heading was found
        "3 A very long heading that the",  # 4
        "layout wrapped",  # 5
        "4 Options",  # 6: set in a monospaced font: code, not the heading
        "Body.",  # 7
    ]
    code = [False] * 8
    code[6] = True
    wanted = [("Usage",), ("A very long heading that the layout wrapped",), ("Options",)]
    assert heading_lines(lines, code, wanted) == {
        2: (1, ("Usage",)),
        4: (2, ("A very long heading that the layout wrapped",)),
        6: (0, ("Options",)),  # not found: it starts where the last heading found ended
    }
    # Not found at all: each starts at the page's top, the last one in force (as before).
    assert heading_lines(["Body."], [False], [("A",), ("B",)]) == {0: (0, ("B",))}


def test_headings_are_looked_for_once_per_line_not_once_per_line_and_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crafted page of 3,000 lines with 3,000 outline entries none of which is written there
    took 157 s when each entry looked along the page; the page's lines are read once."""
    import rag.loaders.pdf_headings as pdf

    calls = 0
    keys = pdf._heading_keys

    def counted(text: str) -> set[str]:
        nonlocal calls
        calls += 1
        return keys(text)

    monkeypatch.setattr(pdf, "_heading_keys", counted)
    lines = [f"Line {i} of a page." for i in range(3000)]
    starting = [(f"Entry {i}",) for i in range(3000)]
    assert heading_lines(lines, [False] * 3000, starting) == {0: (0, ("Entry 2999",))}
    assert calls <= 2 * len(lines) + len(starting)
