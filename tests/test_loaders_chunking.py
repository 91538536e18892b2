"""Loaders for every supported format, and chunking with exact offsets."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

import rag
from rag.chunking import chunk_document, split_sentences
from rag.config import Settings
from rag.loaders import UnreadableFile, load_document
from rag.text import fold, matched_terms, one_edit_apart, terms, words
from tests.conftest import SEED_FILE, SEEDS

ROOT = Path(__file__).resolve().parents[1]


def make_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))


def make_docx(path: Path, paragraphs: list[str]) -> None:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


def test_sentences_are_exact_and_trimmed() -> None:
    text = "First sentence here.  Second one?\nThird line without stop\n\nLast one."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "First sentence here.",
        "Second one?",
        "Third line without stop",
        "Last one.",
    ]


@pytest.mark.parametrize(("size", "overlap"), [(700, 200), (300, 100), (120, 0)])
def test_chunk_offsets_hold_for_the_seed(size: int, overlap: int) -> None:
    text = (SEEDS / SEED_FILE).read_text(encoding="utf-8")
    chunks = chunk_document("seed.txt", text, size=size, overlap=overlap)
    assert chunks
    covered = set()
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= size
        for s, e in chunk.sentences:
            assert chunk.text[s:e].strip() == chunk.text[s:e]
            covered.update(range(chunk.start + s, chunk.start + e))
    # Every non-space character of the document is in some chunk.
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert len({c.id for c in chunks}) == len(chunks)
    # Stable ids: chunking again gives the same ids.
    assert [c.id for c in chunk_document("seed.txt", text, size=size, overlap=overlap)] == [
        c.id for c in chunks
    ]


def test_consecutive_chunks_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    chunks = chunk_document("a.txt", text, size=200, overlap=60)
    for left, right in pairwise(chunks):
        assert right.start < left.end  # shares at least one sentence
        assert right.start > left.start  # always moves forward


def test_markdown_and_html(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome *markdown* text.\r\n", encoding="utf-8")
    assert load_document(tmp_path / "a.md").text == "Title\n\nSome markdown text."
    (tmp_path / "b.html").write_text(
        "<html><head><style>p{}</style><script>var x=1;</script></head>"
        "<body><h1>Head</h1><p>Body &amp; soul.</p></body></html>",
        encoding="utf-8",
    )
    text = load_document(tmp_path / "b.html").text
    assert "Head" in text and "Body & soul." in text
    assert "var x" not in text and "p{}" not in text


def test_pdf_pages_and_offsets(settings: Settings, docs_dir: Path) -> None:
    make_pdf(
        docs_dir / "report.pdf",
        [
            "The annual report covers the year 2024. Revenue grew by twelve percent.",
            "The Zagreb office opened in March. It employs forty engineers.",
        ],
    )
    document = load_document(docs_dir / "report.pdf")
    assert [page for _, _, page in document.pages] == [1, 2]
    rag.ingest(settings=settings)
    answer = rag.answer("How many engineers work in the Zagreb office?", settings=settings)
    assert not answer.refused
    citation = answer.citations[0]
    assert citation.source == "report.pdf"
    assert citation.page == 2
    assert "forty engineers" in rag.document_text("report.pdf", settings)[citation.start :]
    assert rag.document_text("report.pdf", settings)[citation.start : citation.end] == (
        citation.text
    )


def test_docx(tmp_path: Path) -> None:
    make_docx(tmp_path / "memo.docx", ["Memo to staff.", "The cafeteria closes at noon."])
    assert load_document(tmp_path / "memo.docx").text == (
        "Memo to staff.\n\nThe cafeteria closes at noon."
    )
    (tmp_path / "fake.docx").write_bytes(b"not a zip")
    with pytest.raises(UnreadableFile, match=r"not a readable \.docx"):
        load_document(tmp_path / "fake.docx")


# ---------------------------------------------------------------- text normalisation (rag/text.py)


def test_folding_words_and_terms() -> None:
    assert fold("ﬁnal Vučić ŠKODA") == "final vucic skoda"  # compatibility forms, accents, case
    assert words("Vučić, it's 2024!") == ["vucic", "it", "s", "2024"]
    assert terms("What is the Kosovo delegation asking about?") == ["kosovo", "deleg", "ask"]


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("kosovo", "kosovo", True),
        ("vucik", "vucic", True),  # a substitution
        ("form", "from", True),  # a swap of neighbours
        ("kosvo", "kosovo", True),  # an insertion, shorter word first
        ("kosovo", "kosvo", True),  # a deletion, longer word first
        ("cat", "cats", True),  # at the end
        ("xbc", "bc", True),  # at the start
        ("abcd", "cbad", False),  # two changes that are not a swap of neighbours
        ("abcd", "axyd", False),  # two neighbouring substitutions
        ("abc", "xyz", False),
        ("ab", "xyb", False),  # an insertion and a substitution
        ("abcd", "axcdy", False),
        ("lead", "leader", False),
    ],
)
def test_one_edit_apart(a: str, b: str, close: bool) -> None:
    assert one_edit_apart(a, b) is close


def test_matched_terms_allow_one_typo_in_longer_terms() -> None:
    vocabulary = {"kosovo", "from", "cat", "elephant"}
    assert matched_terms({"kosvo", "frm", "form", "cot", "zebra", "cat"}, vocabulary) == {
        "kosvo",  # one insertion
        "form",  # a swap; 4 letters is long enough
        "cat",  # exact
    }
    assert matched_terms({"form"}, vocabulary, min_fuzzy_len=5) == set()


def test_invisible_characters_are_dropped_so_they_never_answer_or_split_words(
    settings: Settings, docs_dir: Path
) -> None:
    (docs_dir / "zw.txt").write_text(
        "\u200b" * 100_000 + "The lighthouse at Varn was built in 1872.\n", encoding="utf-8"
    )
    (docs_dir / "shy.html").write_text(
        "<html><body><h1>Keeper</h1><p>The keep\u00aders lo&shy;g every ship.</p></body></html>",
        encoding="utf-8",
    )
    assert load_document(docs_dir / "zw.txt").text == "The lighthouse at Varn was built in 1872."
    assert "The keepers log every ship." in load_document(docs_dir / "shy.html").text
    rag.ingest(settings=settings)
    answer = rag.answer("When was the lighthouse at Varn built?", settings=settings)
    assert not answer.refused and "1872" in answer.text
    assert answer.citations[0].text.startswith("The lighthouse")
    assert rag.retrieve("keepers log ships", k=1, settings=settings)[0].chunk.source == "shy.html"


def nested_list(depth: int) -> str:
    return "".join("  " * i + f"- step {i}\n" for i in range(depth))


@pytest.mark.parametrize("depth", [10, 49])
def test_deeply_nested_markdown_keeps_the_text_after_it(tmp_path: Path, depth: int) -> None:
    """markdown-it's default depth (20 levels: a list nested 10 deep) dropped the rest of the
    file without a word; a reviewer's setup guide lost its FAQ that way."""
    path = tmp_path / "setup.md"
    quote = "> " * (depth // 2) + "Quoted deep down.\n"
    path.write_text(
        f"# Setup guide\n\n{nested_list(depth)}\n{quote}\n## FAQ\n\nThe default port is 8765.\n",
        encoding="utf-8",
    )
    text = load_document(path).text
    assert f"step {depth - 1}" in text and "Quoted deep down." in text
    assert text.rstrip().endswith("The default port is 8765.")


def test_markdown_nested_past_what_is_read_is_skipped_with_the_reason(
    settings: Settings, docs_dir: Path
) -> None:
    path = docs_dir / "deep.md"
    path.write_text(f"# Deep\n\n{nested_list(50)}\nThe end.\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="nested too deeply"):
        load_document(path)
    quoted = docs_dir / "quoted.md"
    quoted.write_text("> " * 99 + "Deep.\n\nThe end.\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="nested too deeply"):
        load_document(quoted)
    report = rag.ingest(settings=settings)
    skipped = {s.path: s.reason for s in report.skipped}
    assert "nested too deeply" in skipped["deep.md"] and "nested too deeply" in skipped["quoted.md"]


XHTML_PAGE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Finding packages by name</title></head>
<body><div class="navheader"><table><tr><td><a href="prev.html">Prev</a></td>
<td><a href="next.html">Next</a></td></tr></table></div>
<div class="section"><h3 class="title">Finding packages by name</h3>
<p>To quickly find a package whose name you know, press / to open a search dialog.</p></div>
</body></html>
"""


def test_an_xhtml_page_is_read_without_a_warning_on_the_terminal(tmp_path: Path) -> None:
    """DocBook's pages (and many generated manuals') are XHTML that opens with <?xml ...?>:
    each `rag ingest` that read one printed bs4's twelve-line advice to use an XML parser."""
    import subprocess
    import sys

    page = tmp_path / "ch01s01s03.html"
    page.write_text(XHTML_PAGE, encoding="utf-8")
    code = (
        "import pathlib, sys; from rag.loaders import load_document; "
        "print(load_document(pathlib.Path(sys.argv[1])).text)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(page)], capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout.startswith("Finding packages by name\n\nTo quickly find a package")
