"""PDF: each page's text with the layout's line wrapping undone; the outline (bookmarks), where
the file has one, gives each page's heading path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

from rag.loaders.base import (
    MAX_SECONDS,
    Block,
    Budget,
    LoadedDocument,
    UnreadableFile,
    normalise,
)
from rag.text import brief

_HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")
# Lines at least this share of a page's longest line were wrapped by the layout, not the author.
_FULL_LINE = 0.6
_MAX_OUTLINE_DEPTH = 12
_PARAGRAPH = re.compile(r"[^\n](?:.|\n(?!\n))*")


def load_pdf(path: Path | BinaryIO, max_seconds: float = MAX_SECONDS) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf itself refuses streams that decompress past its limits (the PDF bomb case). One
    # page can still take hours: a 2 KB file whose page draws a form of 20,000 text operators
    # 5,000 times (pypdf's cap on such calls). The deadline is checked before each operator.
    budget = Budget(max_seconds)
    page_texts: list[str] = []
    try:
        reader = PdfReader(path if not isinstance(path, Path) else str(path))
        for page in reader.pages:
            budget.check()
            text = page.extract_text(visitor_operand_before=lambda *_: budget.check())
            page_texts.append(normalise(unwrap_lines(text or "")))
        budget.check()  # pypdf logs and passes over a form the check stopped inside
        paths = _outline_paths(reader, len(page_texts))
    except UnreadableFile:  # the deadline
        raise
    except Exception as exc:  # pypdf raises several unrelated types on a damaged or odd file
        # (PdfReadError, KeyError, NotImplementedError for a filter it lacks, ...): one file's
        # problem, never the whole sync's.
        reason = (
            str(exc) if isinstance(exc, (PyPdfError, OSError)) else f"{type(exc).__name__}: {exc}"
        )
        raise UnreadableFile(f"not a readable PDF ({brief(reason)})") from exc
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    blocks: list[Block] = []
    offset = 0
    for number, page_text in enumerate(page_texts, start=1):
        if parts:
            parts.append("\n\n")
            offset += 2
        parts.append(page_text)
        pages.append((offset, offset + len(page_text), number))
        blocks.extend(
            Block(offset + m.start(), offset + m.end(), "paragraph", paths[number - 1])
            for m in _PARAGRAPH.finditer(page_text)
        )
        offset += len(page_text)
    # Without an outline, the pages are the only structure (chunking reads them as paragraphs).
    structured = tuple(blocks) if any(paths) else ()
    return LoadedDocument("".join(parts), tuple(pages), blocks=structured)


def _outline_paths(reader: Any, page_count: int) -> list[tuple[str, ...]]:
    """The heading path in force at the top of each page, from the PDF's outline; () for pages
    before the first entry, or every page of a file without an outline."""
    try:
        entries = _outline_entries(reader, reader.outline, (), 0)
    except Exception:  # a damaged outline must not lose the text
        return [()] * page_count
    entries.sort(key=lambda e: e[0])
    paths: list[tuple[str, ...]] = []
    current: tuple[str, ...] = ()
    i = 0
    for page in range(page_count):
        while i < len(entries) and entries[i][0] <= page:
            current = entries[i][1]
            i += 1
        paths.append(current)
    return paths


def _outline_entries(
    reader: Any, items: list[Any], parent: tuple[str, ...], depth: int
) -> list[tuple[int, tuple[str, ...]]]:
    """(page index, heading path) of each outline entry, in outline order; a nested list holds
    the children of the entry before it."""
    entries: list[tuple[int, tuple[str, ...]]] = []
    last = parent
    for item in items:
        if isinstance(item, list):
            if depth < _MAX_OUTLINE_DEPTH:
                entries.extend(_outline_entries(reader, item, last, depth + 1))
            continue
        page = reader.get_destination_page_number(item)
        title = " ".join(str(getattr(item, "title", "") or "").split())
        if title and page is not None and page >= 0:
            last = (*parent, title)
            entries.append((page, last))
    return entries


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
