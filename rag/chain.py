"""LangChain faces of the pipeline: a ``BaseRetriever`` and a retrieve-then-answer Runnable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.errors import QuestionError
from rag.models import Answer, Passage

Retrieved = TypeVar("Retrieved")


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

    # The query to passages step (rag.api passes its own: this module sits below it).
    search: Callable[[str], list[Passage]]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [passage_document(p) for p in self.search(query)]


def build_chain(
    retrieve: Callable[[str, Sequence[Any]], Retrieved],
    answer: Callable[[Retrieved], Answer],
) -> Runnable[Any, Answer]:
    """``{"question": ..., "history": [...]}`` (or a plain string) to an ``Answer``.

    Two steps, each a Runnable that can be swapped: ``retrieve`` (question and history to the
    passages) then ``answer``; rag.api passes its own.
    """

    def retrieve_step(inputs: str | dict[str, Any]) -> Retrieved:
        if isinstance(inputs, str):
            inputs = {"question": inputs}
        if not isinstance(inputs, dict):
            raise QuestionError(
                f"The chain takes a question (a str) or {{'question': ..., 'history': [...]}}, "
                f"not {type(inputs).__name__}."
            )
        return retrieve(inputs.get("question", ""), inputs.get("history") or ())

    return RunnableLambda(retrieve_step, name="retrieve") | RunnableLambda(answer, name="answer")
