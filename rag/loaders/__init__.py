"""Files on disk to text and structure. The text returned here is the reference for every offset.

One module per format (text, markdown, html, rst, pdf, docx) behind ``load_document``; each
returns a ``LoadedDocument``: the text, its pages, its title and its blocks (headings with their
path, paragraphs, code, lists, tables, captions) as offsets into the text.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from pathlib import Path

from rag.loaders.base import (
    MAX_HTML_ELEMENTS,
    MAX_SECONDS,
    MAX_UNPACKED_BYTES,
    MAX_XML_BYTES,
    MAX_ZIP_ENTRIES,
    Block,
    Budget,
    LoadedDocument,
    UnreadableFile,
    decode,
)
from rag.loaders.html import html_to_text
from rag.loaders.markdown import markdown_to_text
from rag.loaders.pdf import unwrap_lines
from rag.text import brief

log = logging.getLogger(__name__)

__all__ = [
    "MARKUP",
    "MAX_HTML_ELEMENTS",
    "MAX_SECONDS",
    "MAX_UNPACKED_BYTES",
    "MAX_XML_BYTES",
    "MAX_ZIP_ENTRIES",
    "NOT_A_FILE",
    "OUTSIDE",
    "SUPPORTED_SUFFIXES",
    "Block",
    "Budget",
    "LoadedDocument",
    "UnreadableFile",
    "html_to_text",
    "is_supported",
    "load_document",
    "markdown_to_text",
    "opened_path",
    "unwrap_lines",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".rst", ".pdf", ".docx")
# Markup read into a tree (HTML, the HTML Markdown renders to, docutils' tree of
# reStructuredText), by what a message calls it: about 100 times its size in memory, so it has
# the smaller size cap (rag/sync.py, RAG_MAX_HTML_MB).
MARKUP = {
    ".html": "an HTML file",
    ".htm": "an HTML file",
    ".md": "a Markdown file",
    ".markdown": "a Markdown file",
    ".rst": "a reStructuredText file",
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


OUTSIDE = "a link to a file outside the folder"
NOT_A_FILE = "not a regular file (a named pipe, socket or device): only files are read"


def load_document(
    path: Path,
    max_seconds: float = MAX_SECONDS,
    *,
    within: Path | None = None,
    max_bytes: int | None = None,
) -> LoadedDocument:
    """Extract the text and structure of one file, or raise ``UnreadableFile`` with the reason.

    Reading a PDF, DOCX, HTML or Markdown file stops after ``max_seconds``
    (``RAG_MAX_PARSE_SECONDS``). ``within``: the documents folder; the file as opened (not its
    name, which may be swapped for a link after any check of it) must be inside it.
    ``max_bytes``: the size cap, held as the file is read (it may grow, or be swapped for a
    larger one, after its size was checked): no more than one byte past it is read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported type {suffix or '(none)'}")
    try:
        with open(path, "rb", opener=_without_waiting) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise UnreadableFile(NOT_A_FILE)  # swapped for one after the folder's listing
            if within is not None and not _opened_inside(handle.fileno(), path, within):
                raise UnreadableFile(OUTSIDE)
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableFile(
            f"it grew past the size limit ({max_bytes:,} bytes) while it was read: sync again "
            "once it stops changing"
        )
    if not data.strip():
        raise UnreadableFile("empty file")
    try:
        document = _load(suffix, data, max_seconds)
    except UnreadableFile:
        raise
    except Exception as exc:  # a reader's bug on one file must not stop a whole sync
        log.debug("Reading %s failed", path, exc_info=True)
        raise UnreadableFile(
            f"reading it failed ({brief(f'{type(exc).__name__}: {exc}')}): please report this"
        ) from exc
    if not document.text.strip():
        raise UnreadableFile("no text found")
    return document


def _load(suffix: str, data: bytes, max_seconds: float) -> LoadedDocument:
    # PDF and DOCX are parsed from the bytes read once, never from a second open of the name.
    if suffix == ".pdf":
        from rag.loaders.pdf import load_pdf

        return load_pdf(io.BytesIO(data), max_seconds)
    if suffix == ".docx":
        from rag.loaders.docx import load_docx

        return load_docx(io.BytesIO(data), max_seconds)
    return _load_source(suffix, decode(data), max_seconds)


def _without_waiting(name: str, flags: int) -> int:
    """Open without waiting: a named pipe's open for reading waits for a writer (for good)."""
    return os.open(name, flags | getattr(os, "O_NONBLOCK", 0))


def opened_path(fd: int, path: Path) -> Path | None:
    """Where the open ``fd`` (opened as ``path``) is: its path as the kernel opened it
    (``/proc/self/fd``); without ``/proc``, ``path``'s real path if the same file is there now,
    else None. A name checked before it is opened may be swapped for a link meanwhile."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        real = path.resolve()
        here, read = os.stat(real), os.fstat(fd)
        return real if (here.st_dev, here.st_ino) == (read.st_dev, read.st_ino) else None


def _opened_inside(fd: int, path: Path, root: Path) -> bool:
    """Whether the open file ``fd`` is inside ``root`` (``opened_path``)."""
    opened = opened_path(fd, path)
    return opened is not None and root.resolve() in opened.parents


def _load_source(suffix: str, text: str, max_seconds: float) -> LoadedDocument:
    if suffix in (".html", ".htm"):
        from rag.loaders.html import load_html

        return load_html(text, Budget(max_seconds))
    if suffix in (".md", ".markdown"):
        from rag.loaders.markdown import load_markdown

        return load_markdown(text, Budget(max_seconds))
    if suffix == ".rst":
        from rag.loaders.rst import load_rst

        return load_rst(text, Budget(max_seconds))
    from rag.loaders.text import load_text

    return load_text(text)
