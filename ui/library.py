"""The indexed documents as the page lists them: titles and headings read from each document,
filter, sort and pages for the Documents table, and example questions from the headings.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import PurePosixPath

import rag
from rag import IndexedDocument, Settings

log = logging.getLogger("ui")

PAGE_SIZE = 25
MAX_TITLE_CHARS = 90
MAX_EXAMPLES = 3
MAX_HEADING_CHARS = 80
COLUMNS = ("Title", "File", "Type", "Chunks", "Size", "Last sync")
SORTS = {
    "File (A-Z)": ("source", False),
    "Title (A-Z)": ("title", False),
    "Chunks (most first)": ("chunks", True),
    "Size (largest first)": ("size", True),
    "Last sync (newest first)": ("synced_at", True),
}
DEFAULT_SORT = "File (A-Z)"
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Outline:
    """What a document says it is about: its title and its headings (title excluded)."""

    title: str
    headings: tuple[str, ...] = ()
    titled: bool = True  # False: no heading or short first line, the title is cut from the text


@dataclass(frozen=True)
class View:
    """The Documents table as its page last asked for it: filter, sort and page number.

    The server keeps it for each open page (a ``gr.State``, read when an event runs), so a
    refresh shows the filter typed last, not the one the page held when the refresh was sent.
    """

    query: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1


@dataclass(frozen=True)
class Row:
    source: str
    title: str
    kind: str
    chunks: int
    size: int
    synced_at: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int  # 1-based
    pages: int
    matching: int
    total: int


def _clean(text: str) -> str:
    """One line, at most ``MAX_TITLE_CHARS`` (cut at a word, with an ellipsis)."""
    text = " ".join(text.replace("*", "").replace("`", "").split())
    if len(text) <= MAX_TITLE_CHARS:
        return text
    cut = text[: MAX_TITLE_CHARS - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",;: ") + "…"


def _plain_heading(lines: list[str], i: int) -> str:
    """``lines[i]`` if it reads as a heading of extracted text: a short line of its own (blank
    lines around it), with no sentence punctuation at its end."""
    line = lines[i].strip()
    alone = (i == 0 or not lines[i - 1].strip()) and (
        i + 1 >= len(lines) or not lines[i + 1].strip()
    )
    if not alone or not line or len(line) > MAX_HEADING_CHARS or len(line.split()) > 12:
        return ""
    if line[-1] in ".!?:;,\"'”)" or not line[0].isalnum() or not _WORD.search(line):
        return ""
    return line


def outline(text: str, source: str) -> Outline:
    """The title (a heading on the first line, else the first line) and the other headings of
    ``text`` (Markdown ``#`` lines, or the short lines of their own that extracted text keeps)."""
    headings: list[str] = []
    first_line = ""
    title_heading = ""
    lines = text.splitlines()[:2000]
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        heading = _clean(match.group(2)) if match else _plain_heading(lines, i)
        if not first_line and line.strip():
            first_line = line.strip()
            title_heading = heading
        if heading and heading not in headings:
            headings.append(heading)
    if title_heading:
        return Outline(title_heading, tuple(h for h in headings if h != title_heading))
    title = _clean(first_line.lstrip("#").strip())
    if not title or not _WORD.search(title):
        return Outline(PurePosixPath(source).stem, tuple(headings), titled=False)
    return Outline(title, tuple(headings), titled=not title.endswith("…"))


class Library:
    """The documents of one index with their outlines, read once per file version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._outlines: dict[tuple[str, str, int], Outline] = {}
        self._lock = threading.Lock()

    def documents(self) -> list[IndexedDocument]:
        try:
            return rag.documents(self.settings).documents
        except Exception:
            log.exception("listing the documents failed")
            return []

    def outline(self, doc: IndexedDocument) -> Outline:
        key = (doc.source, doc.synced_at, doc.size)
        with self._lock:
            known = self._outlines.get(key)
        if known is not None:
            return known
        try:
            found = outline(rag.document_text(doc.source, self.settings), doc.source)
        except Exception:  # removed or unreadable since: the file name stands in
            found = Outline(PurePosixPath(doc.source).stem)
        with self._lock:
            self._outlines[key] = found
        return found

    def rows(self) -> list[Row]:
        return [
            Row(
                source=d.source,
                title=self.outline(d).title,
                kind=PurePosixPath(d.source).suffix.lstrip(".").lower() or "?",
                chunks=d.chunks,
                size=d.size,
                synced_at=d.synced_at,
            )
            for d in self.documents()
        ]

    def page(self, query: str = "", sort: str = DEFAULT_SORT, page: float | None = 1) -> Page:
        """Rows whose title, file or type contain every word of ``query``, sorted, one page."""
        rows = self.rows()
        words = (query or "").lower().split()
        matching = [
            r for r in rows if all(w in f"{r.title} {r.source} {r.kind}".lower() for w in words)
        ]
        key, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
        matching.sort(key=lambda r: (str(getattr(r, key)).lower(), r.source))
        if key in ("chunks", "size"):
            matching.sort(key=lambda r: (-int(getattr(r, key)), r.source))
        elif descending:
            matching.reverse()
        pages = max(1, -(-len(matching) // PAGE_SIZE))
        try:
            number = int(page or 1)
        except (TypeError, ValueError, OverflowError):
            number = 1
        number = max(1, min(pages, number))
        start = (number - 1) * PAGE_SIZE
        return Page(matching[start : start + PAGE_SIZE], number, pages, len(matching), len(rows))

    def examples(self, count: int = MAX_EXAMPLES) -> list[str]:
        """Questions about the user's own documents, from their titles and first headings (a
        heading alone, "Opening hours", can belong to every document), taken from documents
        spread over the list; none when nothing is indexed."""
        docs = self.documents()
        if not docs:
            return []
        step = max(1, len(docs) // count)
        spread = [docs[i] for i in range(0, len(docs), step)] + docs
        titled = [d for d in spread if self.outline(d).titled]
        questions: list[str] = []
        for doc in titled or spread:
            found = self.outline(doc)
            if found.headings:
                question = f"What does {found.title} say about {found.headings[0]}?"
            elif found.titled:
                question = f"What is {found.title} about?"
            else:
                question = f"What is {doc.source} about?"
            if question not in questions:
                questions.append(question)
            if len(questions) == count:
                break
        return questions

    def warm(self) -> None:
        """Read every document's outline now (after a sync), so the table is quick."""
        for doc in self.documents():
            self.outline(doc)
