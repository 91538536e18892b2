"""Offline-first question answering over a folder of documents, with exact citations."""

from rag.config import apply_offline_env

apply_offline_env()

from rag.api import (  # noqa: E402
    answer,
    as_retriever,
    build_chain,
    check_document,
    document_text,
    documents,
    index_source,
    ingest,
    remove_document,
    retrieve,
    stream_answer,
)
from rag.config import Settings  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.models import (  # noqa: E402
    Answer,
    Citation,
    IndexedDocument,
    IndexStatus,
    IngestReport,
    Passage,
    SkippedFile,
)
from rag.source import IndexSource  # noqa: E402

__all__ = [
    "Answer",
    "Citation",
    "IndexSource",
    "IndexStatus",
    "IndexedDocument",
    "IngestReport",
    "Passage",
    "RagError",
    "Settings",
    "SkippedFile",
    "answer",
    "as_retriever",
    "build_chain",
    "check_document",
    "document_text",
    "documents",
    "index_source",
    "ingest",
    "remove_document",
    "retrieve",
    "stream_answer",
]
