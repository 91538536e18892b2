"""Question to scored passages: dense (Chroma), lexical (BM25) and their fusion."""

from __future__ import annotations

from rag.config import Mode, Settings
from rag.embeddings import Embedder
from rag.lexical import LexicalIndex
from rag.models import Chunk, Passage
from rag.store import VectorStore


def fuse_ranks(rankings: list[list[str]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: sum of 1 / (rrf_k + rank) over the rankings."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (rrf_k + rank)
    return fused


class Retriever:
    def __init__(
        self, settings: Settings, store: VectorStore, lexical: LexicalIndex, embedder: Embedder
    ) -> None:
        self.settings = settings
        self.store = store
        self.lexical = lexical
        self.embedder = embedder

    def search(self, question: str, k: int, mode: Mode | None = None) -> list[Passage]:
        """The ``k`` best passages, each with its dense similarity and BM25 score."""
        mode = mode or self.settings.mode
        n = max(self.settings.candidates, k)
        query_vector = self.embedder.embed_query(question)
        dense = self.store.query(query_vector, n, self.embedder.id) if mode != "bm25" else []
        lexical = self.lexical.search(question, n) if mode != "dense" else []
        dense_scores = {chunk.id: score for chunk, score in dense}
        lexical_scores = dict(lexical)
        chunks: dict[str, Chunk] = {chunk.id: chunk for chunk, _ in dense}

        if mode == "dense":
            fused = {cid: s for cid, s in dense_scores.items()}
        elif mode == "bm25":
            fused = {cid: s for cid, s in lexical_scores.items()}
        else:
            fused = fuse_ranks(
                [list(dense_scores), [cid for cid, _ in lexical]], self.settings.rrf_k
            )
        top = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]

        # Lexical-only hits: fetch their text and compute their dense similarity too.
        missing = [cid for cid in top if cid not in chunks]
        if missing:
            fetched, vectors = self.store.get(missing, with_embeddings=True)
            for chunk, vector in zip(fetched, vectors):
                chunks[chunk.id] = chunk
                dense_scores[chunk.id] = float(vector @ query_vector)
        return [
            Passage(
                chunk=chunks[cid],
                score=fused[cid],
                dense_score=dense_scores.get(cid),
                lexical_score=lexical_scores.get(cid, 0.0),
            )
            for cid in top
            if cid in chunks
        ]
