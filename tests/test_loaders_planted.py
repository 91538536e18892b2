"""The loaders' entry point (rag/loaders/__init__.py) on real files: .htm and upper-case
suffixes are read by their format, what cannot be read or holds no text is refused with its
reason, the PDF deadline is the one asked, and every Markdown and HTML suffix has the markup
size cap.

Tests written for deliberate bugs a review planted in rag/loaders/__init__.py that the suite
let through."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.loaders import UnreadableFile, is_supported, load_document

PAGE = (
    "<html><head><title>Pumps</title></head>"
    "<body><h1>Pumps</h1><p>The valve opens.</p></body></html>"
)


@pytest.mark.parametrize("name", ["pumps.htm", "PUMPS.HTML", "Pumps.Htm"])
def test_every_html_suffix_is_read_as_html(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(PAGE, encoding="utf-8")
    assert is_supported(path)
    document = load_document(path)
    assert document.text == "Pumps\n\nThe valve opens."
    assert document.title == "Pumps"


@pytest.mark.parametrize("name", ["REPORT.PDF", "Notes.TXT", "guide.Md", "a.RST", "m.DOCX"])
def test_upper_case_suffixes_are_supported(name: str) -> None:
    assert is_supported(Path(name))


def test_a_file_of_white_space_is_empty(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text(" \n\t\n  \n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"^empty file$"):
        load_document(tmp_path / "blank.txt")


def test_a_file_of_invisible_characters_has_no_text(tmp_path: Path) -> None:
    (tmp_path / "zw.txt").write_text("\u200b\u200b  ", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"^no text found$"):
        load_document(tmp_path / "zw.txt")


def test_a_folder_named_like_a_file_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").mkdir()
    with pytest.raises(UnreadableFile, match=r"^cannot read: Is a directory$"):
        load_document(tmp_path / "notes.txt")


def test_the_pdf_deadline_is_the_one_asked(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, "The relief valve opens at 4 bar.")
    pdf.output(str(tmp_path / "p.pdf"))
    assert load_document(tmp_path / "p.pdf").text == "The relief valve opens at 4 bar."
    with pytest.raises(UnreadableFile, match=r"^reading it took over 1e-09 s"):
        load_document(tmp_path / "p.pdf", max_seconds=1e-9)


def test_every_markup_suffix_has_the_markup_size_cap(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "markup"
    folder.mkdir()
    (folder / "a.txt").write_text("The relief valve opens at 4 bar.", encoding="utf-8")
    (folder / "notes.markdown").write_text("A note. " * 20_000, encoding="utf-8")  # 0.15 MB
    (folder / "page.htm").write_text("<p>A line.</p>" * 12_000, encoding="utf-8")  # 0.17 MB
    report = rag.ingest(folder, settings=settings.with_(max_html_mb=0.1))
    assert {s.path: s.reason for s in report.skipped} == {
        "notes.markdown": "0.2 MB is over the 0.1 MB limit for a Markdown file "
        "(raise RAG_MAX_HTML_MB to index it)",
        "page.htm": "0.2 MB is over the 0.1 MB limit for an HTML file "
        "(raise RAG_MAX_HTML_MB to index it)",
    }


def test_a_file_of_no_break_spaces_has_no_text(tmp_path: Path) -> None:
    """No-break spaces are white space to a reader: a file of them holds no text to index."""
    (tmp_path / "nbsp.txt").write_text("\u00a0\u00a0\n\u00a0\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"^no text found$"):
        load_document(tmp_path / "nbsp.txt")


def test_a_folder_named_through_a_link_holds_its_own_files(tmp_path: Path) -> None:
    """``within`` may be a link to the documents folder: its files are inside it."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The relief valve opens at 4 bar.", encoding="utf-8")
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    document = load_document(tmp_path / "link" / "a.txt", within=tmp_path / "link")
    assert document.text == "The relief valve opens at 4 bar."


def test_a_file_without_a_suffix_is_refused_as_of_no_type(tmp_path: Path) -> None:
    """The reason names a missing suffix as "(none)", not as an empty word."""
    (tmp_path / "README").write_text("The relief valve opens at 4 bar.", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"^unsupported type \(none\)$"):
        load_document(tmp_path / "README")
