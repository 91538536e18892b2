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
        if style.lower() == "title":
            builder.heading(1, item.text)
        elif heading:
            builder.heading(int(heading.group(1)) + 1, item.text)
        elif style.lower().startswith("list"):
            if item.text.strip():
                items.append(item.text)
        else:
            builder.add(item.text, "caption" if style.lower() == "caption" else "paragraph")
    if items:
        builder.add("\n".join(items), "list")
    return builder.build()


def _style_name(paragraph: Any) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError):  # a style the document names but does not define
        return ""
    return str(style.name or "") if style is not None else ""


def table_rows(table: Any) -> list[str]:
    """One line per table row, its cells separated by `` | ``."""
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
