"""A PDF's code is the lines set in a monospaced font (rag/loaders/pdf.py): a code block, as in
HTML and Markdown, never unwrapped into the prose around it, never an answer alone, and cited
with the sentence that introduces it. Before, a listing's comment line ("# update-mime-database
command. DO NOT EDIT!", shared-mime-info-spec.pdf) was read as prose and cited as an answer.

Real files made with fpdf2 (Courier for code, Helvetica for prose) and read by pypdf."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

import rag
from rag.loaders import load_document
from rag.loaders.pdf import _monospace, code_lines

PROSE = [
    "The pump controller is started from the shell of the control unit once the tank is full.",
    "It reads its settings from the configuration file and checks the pressure sensor first.",
    "To start the pump controller in the background, run:",
]
CODE = [
    "# start the controller and detach it from the terminal so that it keeps running",
    "pumpctl start --detach --config /etc/pump/pump.conf --log /var/log/pump.log",
]
AFTER = ["The controller then writes its process id to the run directory of the unit."]


def write(path: Path, pages: list[list[tuple[str, bool]]]) -> None:
    """A PDF of ``pages``, each a list of (line, is code): code in Courier, prose in Helvetica."""
    from fpdf import FPDF

    pdf = FPDF()
    for lines in pages:
        pdf.add_page()
        for line, code in lines:
            pdf.set_font("courier" if code else "helvetica", size=9)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def manual(path: Path) -> None:
    write(path, [[(line, False) for line in PROSE] + [(line, True) for line in CODE]
                 + [(line, False) for line in AFTER]])  # fmt: skip


def test_lines_in_a_monospaced_font_are_one_code_block(tmp_path: Path) -> None:
    manual(tmp_path / "m.pdf")
    document = load_document(tmp_path / "m.pdf")
    kinds = [(b.kind, document.text[b.start : b.end]) for b in document.blocks]
    assert ("code", "\n".join(CODE)) in kinds
    # The prose is unwrapped as before, and never joined with the code.
    assert ("paragraph", " ".join(PROSE[:2]) + "\n" + PROSE[2]) in kinds or (
        "paragraph",
        " ".join(PROSE),
    ) in kinds
    assert ("paragraph", AFTER[0]) in kinds
    assert all(kind != "code" or text == "\n".join(CODE) for kind, text in kinds)


def test_a_pdf_without_code_or_outline_still_has_no_blocks(tmp_path: Path) -> None:
    write(tmp_path / "m.pdf", [[(line, False) for line in PROSE + AFTER]])
    assert load_document(tmp_path / "m.pdf").blocks == ()


def test_a_line_that_mixes_code_into_prose_is_prose() -> None:
    text = "Run pumpctl start to begin.\npumpctl start"
    pieces = [("Run ", False), ("pumpctl start", True), (" to begin.\n", False)]
    pieces.append(("pumpctl start", True))
    assert code_lines(text, pieces) == (
        ["Run pumpctl start to begin.", "pumpctl start"],
        [False, True],
    )


def test_pieces_that_do_not_make_up_the_text_mark_no_code() -> None:
    """Another pypdf could write the text otherwise than its visitor sees it: no guessing."""
    text = "pumpctl start\npumpctl stop"
    assert code_lines(text, [("pumpctl start", True)]) == (text.split("\n"), [False, False])
    assert code_lines(text, [("pumpctl start\n", True), ("pumpctl stop", True)])[1] == [True, True]


def font(name: str, flags: int | None = None, descendant: bool = False) -> DictionaryObject:
    descriptor = DictionaryObject()
    if flags is not None:
        descriptor[NameObject("/Flags")] = NumberObject(flags)
    result = DictionaryObject({NameObject("/BaseFont"): NameObject(name)})
    if descendant:
        child = DictionaryObject({NameObject("/FontDescriptor"): descriptor})
        result[NameObject("/DescendantFonts")] = ArrayObject([child])
    else:
        result[NameObject("/FontDescriptor")] = descriptor
    return result


@pytest.mark.parametrize(
    ("name", "flags", "descendant", "mono"),
    [
        ("/JNNPWA+NimbusMonL-Regu", 4, False, True),  # subset prefix, flag not set
        ("/AKEQKS+CMTT10", 4, False, True),  # TeX's typewriter
        ("/SMDJOQ+CMSLTT10", 4, False, True),
        ("/Courier", None, False, True),
        ("/ABCDEF+DejaVuSansMono", 4, False, True),
        ("/ABCDEF+SomeFace", 1, False, True),  # the fixed-pitch flag
        ("/ABCDEF+SomeFace", 1, True, True),  # the flag on a Type0 font's descendant
        ("/OLMHVN+NimbusRomNo9L-Regu", 4, False, False),
        ("/PWNLKT+CMR10", 4, False, False),
        ("/Helvetica", None, False, False),
        ("/ABCDEF+SomeFace", 4, True, False),
    ],
)
def test_a_monospaced_font_by_its_flag_or_its_name(
    name: str, flags: int | None, descendant: bool, mono: bool
) -> None:
    assert _monospace(font(name, flags, descendant)) is mono


def test_no_font_or_a_damaged_one_is_not_monospaced() -> None:
    assert not _monospace(None)
    broken = DictionaryObject({NameObject("/BaseFont"): NameObject("/X+Face")})
    broken[NameObject("/DescendantFonts")] = ArrayObject([])  # no descendant to read
    assert not _monospace(broken)


@pytest.mark.parametrize("side", ["code-ends-the-page", "code-starts-the-next"])
def test_code_across_a_page_break_is_not_joined_to_prose(tmp_path: Path, side: str) -> None:
    """A page that ends in code, or a next one that starts with it, is no sentence going on
    (each would be, in prose: a full line without a full stop, a next line in lower case)."""
    ends_in_code = side == "code-ends-the-page"
    first = [(line, False) for line in PROSE[:2]] + [(CODE[1] + " and", ends_in_code)]
    second = [("then the controller writes its process id to the run directory.", not ends_in_code)]
    write(tmp_path / "m.pdf", [first, [*second, (AFTER[0], False)]])
    document = load_document(tmp_path / "m.pdf")
    assert "log and\n\nthen the controller" in document.text
    # In prose, the same pages are one sentence going on.
    write(tmp_path / "p.pdf", [[(t, False) for t, _ in first], [(t, False) for t, _ in second]])
    assert "log and then the controller" in load_document(tmp_path / "p.pdf").text


def test_a_blank_line_inside_a_listing_is_the_listings() -> None:
    from rag.loaders.pdf import _Page

    lines = ["To start it, run:", "pumpctl start", "", "pumpctl status", "", "It then runs."]
    page = _Page.of(lines, [False, True, False, True, False, False])
    kinds = [(kind, page.text[start:end]) for start, end, kind, _ in page.blocks]
    assert kinds == [
        ("paragraph", "To start it, run:"),
        ("code", "pumpctl start\n\npumpctl status"),
        ("paragraph", "It then runs."),
    ]


def test_the_answer_carries_the_code_its_sentence_introduces(tmp_path: Path) -> None:
    """Through a real index (Chroma, the packaged embedder, BM25) and the reader."""
    from rag.config import Settings

    folder = tmp_path / "docs"
    folder.mkdir()
    manual(folder / "pump.pdf")
    (folder / "tanks.md").write_text("# Tanks\n\nTanks hold the water of the unit.\n")
    settings = Settings(docs_dir=folder, store_dir=tmp_path / "store")
    rag.ingest(settings=settings)
    answer = rag.answer("How do I start the pump controller in the background?", settings=settings)
    assert not answer.refused
    assert CODE[1] in answer.text  # the command, not only the sentence before it
    # One span: the sentence that introduces the command, and the command.
    assert any(c.text.startswith(PROSE[2]) and CODE[1] in c.text for c in answer.citations)
