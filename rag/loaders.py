"""Files on disk to text. The text returned here is the reference for every offset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


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
            text = _html_to_text(text)
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


def _html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return soup.get_text("\n")


def _load_docx(path: Path) -> str:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types
        raise UnreadableFile(f"not a readable .docx file ({type(exc).__name__})") from exc
    return "\n\n".join(paragraph.text for paragraph in document.paragraphs)


def _load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        page_texts = [_normalise(page.extract_text() or "") for page in reader.pages]
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
