"""A folder of documents written by a test and indexed for real (a real Chroma, the real
embedding model), for tests that ask questions of pages of their own."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.config import Settings


def indexed(base: Path, pages: dict[str, str]) -> Settings:
    """``pages`` (file name -> text) in ``base``/docs, indexed into ``base``/store."""
    docs = base / "docs"
    docs.mkdir(parents=True)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings
