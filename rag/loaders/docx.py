"""Word .docx: paragraphs and tables in document order; "Heading N" and "Title" styles give the
heading path, list styles make one list block, each table one table block (a row per line)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from rag.loaders.base import (
    MAX_SECONDS,
    MAX_UNPACKED_BYTES,
    MAX_XML_BYTES,
    MAX_ZIP_ENTRIES,
    Budget,
    DocumentBuilder,
    LoadedDocument,
    UnreadableFile,
)

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.IGNORECASE)


def load_docx(path: Path | BinaryIO, max_seconds: float = MAX_SECONDS) -> LoadedDocument:
    import docx
    from docx.table import Table

    check_archive(path)
    try:
        document = docx.Document(path if not isinstance(path, Path) else str(path))
    except Exception as exc:  # python-docx raises several unrelated types
        raise UnreadableFile(f"not a readable .docx file ({type(exc).__name__})") from exc
    budget = Budget(max_seconds)
    builder = DocumentBuilder()
    items: list[str] = []  # the list being read
    for item in document.iter_inner_content():
        budget.check()
        style = "" if isinstance(item, Table) else _style_name(item)
        if items and not style.lower().startswith("list"):
            builder.add("\n".join(items), "list")
            items = []
        if isinstance(item, Table):
            builder.add("\n\n".join(table_rows(item)), "table")
            continue
        heading = _HEADING_STYLE.match(style)
        text = visible_text(item)
        if style.lower() == "title":
            builder.heading(1, text)
        elif heading:
            builder.heading(int(heading.group(1)) + 1, text)
        elif style.lower().startswith("list"):
            if text.strip():
                items.append(text)
        else:
            builder.add(text, "caption" if style.lower() == "caption" else "paragraph")
    if items:
        builder.add("\n".join(items), "list")
    return builder.build()


def visible_text(paragraph: Any) -> str:
    """The paragraph's text without its hidden runs (Word's "Hidden" font effect, set on the
    run, its character style or the paragraph's style): text a reader of the document never
    sees is not indexed, and hidden text is a common carrier of planted instructions."""
    from docx.text.hyperlink import Hyperlink

    by_paragraph = _style_hides(_style(paragraph))
    parts: list[str] = []
    for inner in paragraph.iter_inner_content():
        for run in inner.runs if isinstance(inner, Hyperlink) else [inner]:
            hidden = run.font.hidden
            if hidden is None:
                hidden = _style_hides(_style(run))
            if not (by_paragraph if hidden is None else hidden):
                parts.append(run.text)
    return "".join(parts)


def _style(item: Any) -> Any:
    try:
        return item.style
    except (KeyError, ValueError):  # a style the document names but does not define
        return None


def _style_hides(style: Any) -> bool | None:
    """The style's own or inherited ``hidden`` (None when no style in the chain sets it)."""
    seen = 0
    while style is not None and seen < 32:  # a chain of based-on styles, never a loop
        font = getattr(style, "font", None)
        hidden = getattr(font, "hidden", None) if font is not None else None
        if hidden is not None:
            return bool(hidden)
        style, seen = getattr(style, "base_style", None), seen + 1
    return None


def _style_name(paragraph: Any) -> str:
    style = _style(paragraph)
    return str(style.name or "") if style is not None else ""


def table_rows(table: Any) -> list[str]:
    """One line per table row, its cells separated by `` | ``."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(
                "\n".join(visible_text(paragraph) for paragraph in cell.paragraphs).split()
            )
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def check_archive(path: Path | BinaryIO) -> None:
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
