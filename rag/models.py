"""Typed results of the public API: frozen dataclasses, never LangChain or Chroma objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A piece of one document, with its exact character span in the document's text."""

    id: str
    source: str
    start: int
    end: int
    text: str
    page: int | None = None
    # Sentence spans relative to ``start`` (document offsets = start + s).
    sentences: tuple[tuple[int, int], ...] = ()
    # The document's heading line, if it has one: the reader sees each sentence with it.
    title: str = ""
    # The section path "Document title > Section > Subsection" from the document's headings;
    # "" when the document has none.
    section: str = ""
    # One per sentence span: "text", "heading", "code", "list", "table" or "caption". A code
    # block, a list or a table is one span. () means every span is "text" (older stores).
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` marker of an answer: an exact span of a source document."""

    index: int
    source: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    verified: bool = True
    # What the span ends with: "text", or the unit that completes it ("code", "list", "table").
    kind: str = "text"


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, or a refusal (``refused=True``, no citations)."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    confidence: float = 0.0
    unsupported: list[str] = field(default_factory=list)
    # With a refusal: the sentences that came closest, shown as "not an answer" (never cited).
    closest: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What a sync of the documents folder changed."""

    added_files: int = 0
    updated_files: int = 0
    removed_files: int = 0
    renamed_files: int = 0
    unchanged_files: int = 0
    added_chunks: int = 0
    removed_chunks: int = 0
    unchanged_chunks: int = 0
    embedded_chunks: int = 0
    total_files: int = 0
    total_chunks: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(
            self.added_files or self.updated_files or self.removed_files or self.renamed_files
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndexedDocument:
    """One file of the index, as `rag docs` and the UI list it."""

    source: str
    chunks: int
    size: int
    synced_at: str


@dataclass(frozen=True)
class IndexStatus:
    documents: list[IndexedDocument]
    total_chunks: int
    last_sync: str | None
