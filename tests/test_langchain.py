"""The LangChain faces: a BaseRetriever and a Runnable chain with invoke, batch and stream."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda

import rag
from rag.config import Settings


def test_retriever_returns_documents_with_offsets(seeded: Settings) -> None:
    retriever = rag.as_retriever(k=2, settings=seeded)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Vucic Putin phone call")
    assert len(docs) == 2
    assert all(isinstance(d, Document) for d in docs)
    first = docs[0]
    text = rag.document_text(first.metadata["source"], seeded)
    assert text[first.metadata["start"] : first.metadata["end"]] == first.page_content


def test_chain_invoke_batch_and_stream(seeded: Settings) -> None:
    chain = rag.build_chain(settings=seeded)
    direct = rag.answer("Who is the president of Serbia?", settings=seeded)
    assert chain.invoke("Who is the president of Serbia?") == direct
    batch = chain.batch(
        [{"question": "Who is the president of Serbia?"}, "What is the capital of Australia?"]
    )
    assert batch[0] == direct
    assert batch[1].refused
    streamed = list(chain.stream({"question": "Who is the president of Serbia?"}))
    assert streamed[-1] == direct


def test_chain_steps_can_be_swapped(seeded: Settings) -> None:
    chain = rag.build_chain(settings=seeded)
    first_step = chain.first  # type: ignore[attr-defined]
    shout = RunnableLambda(
        lambda r: rag.Answer(question=r.question, text=r.text.upper(), citations=r.citations)
    )
    custom = first_step | chain.last | shout  # type: ignore[attr-defined]
    result = custom.invoke("Who is the president of Serbia?")
    assert "VUČIĆ" in result.text
