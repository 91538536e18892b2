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

    def retrieve_step(inputs: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(inputs, str):
            inputs = {"question": inputs}
        question = api.prepare_question(inputs.get("question", ""), settings)
        eng = api.ensure_index(settings)
        query = api.standalone_question(question, inputs.get("history") or (), settings)
        passages = eng.retriever(settings).search(query, k or settings.k)
        return {"question": question, "query": query, "passages": passages}

    def answer_step(inputs: dict[str, Any]) -> Answer:
        result = api.answer_from_passages(inputs["query"], inputs["passages"], settings)
        return api._with_question(result, inputs["question"])

    return RunnableLambda(retrieve_step, name="retrieve") | RunnableLambda(
        answer_step, name="answer"
    )
