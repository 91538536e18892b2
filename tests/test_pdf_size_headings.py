"""A PDF without an outline takes its headings from the lines set larger than its body text
(rag/loaders/pdf_headings.py ``size_headings``), one level per size, the largest outermost.

Before, such a PDF had no structure at all: its pages were read as paragraphs, and no chunk
had a section path. Real files made with fpdf2, read by pypdf."""

from __future__ import annotations

from pathlib import Path

from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.loaders.pdf_headings import size_headings

BODY = 11


def make(path: Path, pages: list[list[tuple[float, str]]], outline: bool = False) -> None:
    """Each page: (font size, text) lines; ``outline``: an outline entry for each line set
    larger than the body."""
    from fpdf import FPDF

    pdf = FPDF()
    for page in pages:
        pdf.add_page()
        for size, text in page:
            if outline and size > BODY:
                pdf.start_section(text)
            pdf.set_font("helvetica", size=size)
            pdf.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def blocks(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
    document = load_document(path)
    return [(b.kind, b.path, document.text[b.start : b.end]) for b in document.blocks]


def test_larger_lines_are_headings_one_level_per_size(tmp_path: Path) -> None:
    make(
        tmp_path / "a.pdf",
        [
            [
                (20, "Atlas Manual"),
                (16, "1 Overview"),
                (BODY, "Atlas maps the world."),
                (13, "1.1 Goals"),
                (BODY, "It aims to be exact."),
            ],
            [(BODY, "It also aims to be fast."), (16, "2 Usage"), (BODY, "Run atlas.")],
        ],
    )
    top = ("Atlas Manual",)
    assert blocks(tmp_path / "a.pdf") == [
        ("heading", top, "Atlas Manual"),
        ("heading", (*top, "1 Overview"), "1 Overview"),
        ("paragraph", (*top, "1 Overview"), "Atlas maps the world."),
        ("heading", (*top, "1 Overview", "1.1 Goals"), "1.1 Goals"),
        ("paragraph", (*top, "1 Overview", "1.1 Goals"), "It aims to be exact."),
        ("paragraph", (*top, "1 Overview", "1.1 Goals"), "It also aims to be fast."),
        ("heading", (*top, "2 Usage"), "2 Usage"),  # closes 1 and 1.1
        ("paragraph", (*top, "2 Usage"), "Run atlas."),
    ]
    document = load_document(tmp_path / "a.pdf")
    chunks = chunk_document(
        "a.pdf", document.text, size=700, overlap=0, pages=document.pages, blocks=document.blocks
    )
    assert [(c.page, c.section) for c in chunks] == [
        (1, "Atlas Manual > 1 Overview"),
        (1, "Atlas Manual > 1 Overview > 1.1 Goals"),
        (2, "Atlas Manual > 1 Overview > 1.1 Goals"),
        (2, "Atlas Manual > 2 Usage"),
    ]


def test_a_pdf_with_an_outline_takes_its_headings_from_it_alone(tmp_path: Path) -> None:
    make(tmp_path / "a.pdf", [[(16, "Usage"), (BODY, "Run atlas."), (13, "Large print.")]], True)
    kinds = blocks(tmp_path / "a.pdf")
    assert ("paragraph", ("Usage", "Large print."), "Large print.") not in kinds
    assert kinds[0] == ("heading", ("Usage",), "Usage")


def test_a_pdf_in_one_size_has_no_headings(tmp_path: Path) -> None:
    make(tmp_path / "a.pdf", [[(BODY, "Atlas Manual"), (BODY, "Atlas maps the world.")]])
    assert load_document(tmp_path / "a.pdf").blocks == ()


def test_wrapped_headings_long_lines_and_code_lines() -> None:
    lines = [
        "A heading the layout",  # 0: 14 pt, wrapped over two lines
        "wrapped in two",  # 1
        "Body text, " * 20,  # 2: the most characters: the body's size
        " ".join(["word"] * 21),  # 3: large, but too many words for a heading
        "make install",  # 4: large, but code
        "2024",  # 5: large, no letter
        "Body again.",  # 6
        "Smaller heading",  # 7: 12 pt, one level down
    ]
    sizes = [14.0, 14.0, 10.0, 14.0, 14.0, 14.0, 10.0, 12.0]
    code = [False] * 8
    code[4] = True
    (heads,) = size_headings([lines], [code], [sizes])
    whole = "A heading the layout wrapped in two"
    assert heads == {0: (2, (whole,)), 7: (1, (whole, "Smaller heading"))}
    assert size_headings([lines], [code], [[0.0] * 8]) == [{}]  # sizes unknown: none
    assert size_headings([], [], []) == []


def test_a_line_that_starts_with_a_bullet_starts_an_item() -> None:
    """CamlIDL's manual, 4.1: two items of a list ran into one line when the first item's last
    line ran to the margin ("... the f.mli file. • A C source file f_stubs.c ...")."""
    from rag.loaders.pdf import unwrap_lines

    text = "\n".join(
        [
            "camlidl generates the following files, from the IDL file given to it on the",
            "command line:",
            "• A Caml implementation file f.ml that implements the f.mli file, which runs",
            "to the margin.",
            "• A C source file f_stubs.c that contains the stub functions.",
            "◦ Nested, from a second level, written to the margin as the lines above are.",
            "• wrapped items go on over a line that starts in lower case, as any sentence",
            "does, up to where they end.",
        ]
    )
    assert unwrap_lines(text).split("\n") == [
        "camlidl generates the following files, from the IDL file given to it on the command line:",
        "• A Caml implementation file f.ml that implements the f.mli file, which runs to the "
        "margin.",
        "• A C source file f_stubs.c that contains the stub functions.",
        "◦ Nested, from a second level, written to the margin as the lines above are.",
        "• wrapped items go on over a line that starts in lower case, as any sentence does, up to "
        "where they end.",
    ]


def test_only_the_six_largest_heading_sizes_are_levels() -> None:
    """A file drawn in a thousand sizes made paths a thousand headings deep."""
    lines = [f"Heading {i}" for i in range(10)] + ["Body text, " * 40]
    sizes = [float(30 - i) for i in range(10)] + [10.0]
    (heads,) = size_headings([lines], [[False] * 11], [sizes])
    assert sorted(heads) == [0, 1, 2, 3, 4, 5]
    assert heads[5] == (1, tuple(f"Heading {i}" for i in range(6)))
