"""Files on disk to text. The text returned here is the reference for every offset."""

from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
# Bounds on the work one file may cause. Zip-based formats (.docx) are checked on the sizes their
# entries unpack to before anything is unpacked: zipfile never returns more than an entry declares.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_XML_BYTES = 48 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_SECONDS = 60.0

# HTML elements that start a new block (a paragraph break) or a new line; every other element is
# inline (a, b, i, em, strong, span, code, ...) and must not break the sentence it is in.
_PARAGRAPH_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dialog", "dir", "div", "dl",
     "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
     "hgroup", "hr", "html", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "title",
     "ul"}
)  # fmt: skip
_LINE_TAGS = frozenset(
    {"br", "caption", "dd", "details", "dt", "figcaption", "legend", "li", "option", "summary",
     "tbody", "td", "tfoot", "th", "thead", "tr"}
)  # fmt: skip
_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "meta", "link", "iframe", "object", "svg"}
)
_PRESERVE_TAGS = frozenset(("pre", "textarea", "listing", "plaintext"))


class UnreadableFile(Exception):
    """A file we skip; the message is the reason shown to the user."""


@dataclass(frozen=True)
class LoadedDocument:
    text: str
    # (start, end, page number from 1) for paged formats; empty otherwise.
    pages: tuple[tuple[int, int, int], ...] = ()


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_document(path: Path) -> LoadedDocument:
    """Extract the text of one file, or raise ``UnreadableFile`` with the reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise UnreadableFile("empty file")
    if suffix == ".pdf":
        document = _load_pdf(path)
    elif suffix == ".docx":
        document = LoadedDocument(_normalise(_load_docx(path)))
    else:
        text = _decode(data)
        if suffix in (".html", ".htm"):
            text = html_to_text(text)
        elif suffix in (".md", ".markdown"):
            text = markdown_to_text(text)
        document = LoadedDocument(_normalise(text))
    if not document.text.strip():
        raise UnreadableFile("no text found")
    return document


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (not text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc


def _normalise(text: str) -> str:
    """Unify line endings and drop trailing spaces; offsets refer to this form."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(html: str) -> str:
    """The text a browser shows: block elements break lines, inline elements do not.

    Runs of white space collapse to one space, as a browser renders them (except in ``<pre>``),
    so a sentence wrapped in the source or split by a link stays one sentence.
    """
    from bs4 import BeautifulSoup, Tag
    from bs4.element import CData, NavigableString, PreformattedString

    soup = BeautifulSoup(html, "html.parser")
    pieces: list[str | int] = []  # text, or a break: 1 a new line, 2 a new paragraph
    # An explicit stack, not recursion: deeply nested markup must not overflow Python's stack.
    stack: list[tuple[object, bool, bool]] = [(soup, False, False)]
    while stack:
        node, closing, preserve = stack.pop()
        if isinstance(node, Tag):
            name = node.name.lower()
            level = 2 if name in _PARAGRAPH_TAGS else 1 if name in _LINE_TAGS else 0
            if closing:
                if level:
                    pieces.append(level)
                continue
            if name in _SKIPPED_TAGS:
                continue
            if level:
                pieces.append(level)
            inner = preserve or name in _PRESERVE_TAGS
            stack.append((node, True, preserve))
            stack.extend((child, False, inner) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and (
            isinstance(node, CData) or not isinstance(node, PreformattedString)
        ):  # text; not a comment, doctype or processing instruction
            text = str(node)
            pieces.append(text if preserve else re.sub(r"\s+", " ", text))
    return _join_pieces(pieces)


def _join_pieces(pieces: list[str | int]) -> str:
    """Join text and breaks: no spaces around a break, at most one paragraph break in a row."""
    out: list[str] = []
    pending = 0
    for piece in pieces:
        if isinstance(piece, int):
            pending = max(pending, piece)
            continue
        if pending:
            piece = piece.lstrip(" ")
            if not piece:
                continue
            if out:
                out[-1] = out[-1].rstrip(" ")
                out.append("\n" * pending)
            pending = 0
        elif out and out[-1].endswith(" ") and piece.startswith(" "):
            piece = piece.lstrip(" ")
        if piece:
            out.append(piece)
    return "".join(out).strip()


def markdown_to_text(markdown: str) -> str:
    """Markdown as its reader sees it: emphasis, code marks and link targets dropped, link text
    kept, soft-wrapped lines of a paragraph joined, headings and list items on lines of their own.
    """
    from markdown_it import MarkdownIt

    return html_to_text(MarkdownIt("commonmark").enable("table").render(markdown))


def _load_docx(path: Path) -> str:
    import docx
    from docx.table import Table

    _check_archive(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types
        raise UnreadableFile(f"not a readable .docx file ({type(exc).__name__})") from exc
    deadline = time.monotonic() + MAX_SECONDS
    blocks: list[str] = []
    # Paragraphs and tables in document order; a paragraph's text joins its runs and links.
    for item in document.iter_inner_content():
        if time.monotonic() > deadline:
            raise UnreadableFile(_too_slow())
        if isinstance(item, Table):
            blocks.extend(_table_rows(item))
        else:
            blocks.append(item.text)
    return "\n\n".join(blocks)


def _table_rows(table: object) -> list[str]:
    """One line per table row, its cells separated by `` | ``."""
    from docx.table import Table

    assert isinstance(table, Table)
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _check_archive(path: Path) -> None:
    """Refuse a zip whose entries would unpack to more than we are willing to read."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(f"not a readable .docx file ({type(exc).__name__})") from exc
    total = sum(entry.file_size for entry in entries)
    xml = sum(entry.file_size for entry in entries if entry.filename.endswith((".xml", ".rels")))
    if len(entries) > MAX_ZIP_ENTRIES or total > MAX_UNPACKED_BYTES or xml > MAX_XML_BYTES:
        raise UnreadableFile(
            f"unpacks to {total / 1024 / 1024:,.0f} MB in {len(entries):,} parts "
            f"({xml / 1024 / 1024:,.0f} MB of XML; the limits are "
            f"{MAX_UNPACKED_BYTES // 1024 // 1024} MB, {MAX_ZIP_ENTRIES:,} parts and "
            f"{MAX_XML_BYTES // 1024 // 1024} MB of XML): a damaged file or a zip bomb; "
            "save it again from its editor, or split it"
        )


def _too_slow() -> str:
    return (
        f"reading it took over {MAX_SECONDS:.0f} s: a damaged or hostile file; split or re-save it"
    )


def _load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf itself refuses streams that decompress past its limits (the PDF bomb case).
    deadline = time.monotonic() + MAX_SECONDS
    page_texts: list[str] = []
    try:
        reader = PdfReader(str(path))
        for page in reader.pages:
            if time.monotonic() > deadline:
                raise UnreadableFile(_too_slow())
            page_texts.append(_normalise(unwrap_lines(page.extract_text() or "")))
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise UnreadableFile(f"not a readable PDF ({exc})") from exc
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, page_text in enumerate(page_texts, start=1):
        if parts:
            parts.append("\n\n")
            offset += 2
        parts.append(page_text)
        pages.append((offset, offset + len(page_text), number))
        offset += len(page_text)
    return LoadedDocument("".join(parts), tuple(pages))


_HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")
# Lines at least this share of a page's longest line were wrapped by the layout, not the author.
_FULL_LINE = 0.6


def unwrap_lines(text: str) -> str:
    """Undo a PDF's line wrapping: a word hyphenated at a line end is joined ("exam-\\nple" ->
    "example"); a line that runs (nearly) to the margin, or a next line that starts in lower case,
    continues the sentence; short lines (headings, list items, a paragraph's end) keep their break.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    widest = max((len(line) for line in lines), default=0)
    out: list[str] = []
    for line in lines:
        if not out:
            out.append(line)
            continue
        previous = out[-1]
        if not previous or not line:
            out.append(line)
            continue
        starts_lower = line[0].islower()
        if _HYPHENATED.search(previous) and starts_lower:
            out[-1] = previous[:-1] + line
        elif starts_lower or len(previous) >= _FULL_LINE * widest:
            out[-1] = previous + " " + line
        else:
            out.append(line)
    return "\n".join(out)
