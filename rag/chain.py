"""LangChain faces of the pipeline: a ``BaseRetriever`` and a retrieve-then-answer Runnable."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag import api
from rag.config import Settings
from rag.models import Answer, Passage


def passage_document(passage: Passage) -> Document:
    chunk = passage.chunk
    return Document(
        id=chunk.id,
        page_content=chunk.text,
        metadata={
            "source": chunk.source,
            "start": chunk.start,
            "end": chunk.end,
            "page": chunk.page,
            "score": passage.score,
            "dense_score": passage.dense_score,
            "lexical_score": passage.lexical_score,
        },
    )


class RagRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over the index, for use in any LangChain chain."""

    settings: Settings
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [passage_document(p) for p in api.retrieve(query, k=self.k, settings=self.settings)]


def build_chain(settings: Settings, k: int | None = None) -> Runnable[Any, Answer]:
    """``{"question": ..., "history": [...]}`` (or a plain string) to an ``Answer``.

    Two steps, each a Runnable that can be swapped: ``retrieve`` then ``answer``.
    """

    def retrieve_step(inputs: str | dict[str, Any]) -> api.Retrieved:
        if isinstance(inputs, str):
            inputs = {"question": inputs}
        history = inputs.get("history") or ()
        return api.retrieve_for_answer(inputs.get("question", ""), history, k, settings)

    def answer_step(retrieved: api.Retrieved) -> Answer:
        return api.answer_retrieved(retrieved, settings)

    return RunnableLambda(retrieve_step, name="retrieve") | RunnableLambda(
        answer_step, name="answer"
    )
