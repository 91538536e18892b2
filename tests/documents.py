"""Documents a test writes for itself: one file loaded as the sync loads it (``loaded``), or a
folder indexed for real, with a real Chroma and the real embedding model (``indexed``)."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.config import Settings
from rag.loaders import LoadedDocument, load_document


def loaded(tmp_path: Path, source: str, name: str) -> LoadedDocument:
    """``source`` written to ``name`` in ``tmp_path`` and loaded as the sync loads it."""
    (tmp_path / name).write_text(source, encoding="utf-8")
    return load_document(tmp_path / name)


def indexed(base: Path, pages: dict[str, str]) -> Settings:
    """``pages`` (file name -> text) in ``base``/docs, indexed into ``base``/store."""
    docs = base / "docs"
    docs.mkdir(parents=True)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings
