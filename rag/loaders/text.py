"""Plain text: the file's text, normalised; no structure (every paragraph is text)."""

from __future__ import annotations

from rag.loaders.base import LoadedDocument, normalise


def load_text(text: str) -> LoadedDocument:
    return LoadedDocument(normalise(text))
