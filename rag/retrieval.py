"""Question to scored passages: dense (Chroma), lexical (BM25) and their fusion."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from rag.config import Mode, Settings
from rag.embeddings import Embedder
from rag.lexical import LexicalIndex
from rag.models import Chunk, Passage
from rag.store import VectorStore
from rag.text import terms


def fuse_ranks(rankings: list[list[str]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion scores: sum of 1 / (rrf_k + rank) over the rankings."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (rrf_k + rank)
    return fused


def fuse(rankings: list[list[str]], rrf_k: int, keep_firsts_within: int) -> list[str]:
    """Every id in fused order: reciprocal rank fusion, except that each ranking's first hit
    stays within the first ``keep_firsts_within`` places.

    RRF rewards agreement so strongly that, with rrf_k=60 and 30 candidates a side, a passage
    both rankings return anywhere beats one that only one ranking returns, even first
    (2/90 > 1/61). A passage only exact rare terms find (a code or name pasted into the
    question: BM25's first hit, unknown to the embedding) could then never be read. So when a
    ranking's first hit falls outside the window, it takes the window's last place that no
    first hit holds; the fused winner always keeps first place, so hit@1 never changes.
    """
    scores = fuse_ranks(rankings, rrf_k)
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    window = max(keep_firsts_within, 1)
    firsts = {ranking[0] for ranking in rankings if ranking}
    late = [cid for cid in order[window:] if cid in firsts]
    head = order[:window]
    movable = [cid for cid in head[1:] if cid not in firsts]
    moved = min(len(late), len(movable))
    if not moved:
        return order
    bumped = movable[len(movable) - moved :]
    promoted = late[:moved]
    rest = [cid for cid in order[window:] if cid not in promoted]
    return [cid for cid in head if cid not in bumped] + promoted + bumped + rest


# A passage whose sentences are mostly (this share or more) those of one passage ranked above it
# repeats it: a page that includes another (SQLite's capi3ref holds every c3ref page, git-config
# every command's configuration), a file copied under two names, a link to a page. The copy would
# take a place of the k read and be shown twice; the next candidate takes its place.
REPEATED_SHARE = 0.8


def sentences_of(chunk: Chunk) -> set[str]:
    """The chunk's sentences, white space normalised (the whole text when it has none)."""
    spans = chunk.sentences or ((0, len(chunk.text)),)
    return {" ".join(chunk.text[start:end].split()) for start, end in spans}


def repeats(said: set[str], kept: list[set[str]]) -> bool:
    """Whether a passage saying ``said`` repeats one of the ``kept`` passages."""
    return any(len(said & other) >= REPEATED_SHARE * len(said) for other in kept)


def distinct(chunks: Iterable[Chunk], k: int) -> list[str]:
    """The ids of the first ``k`` of ``chunks`` that repeat none kept before them (``repeats``);
    ``chunks`` is read no further than that."""
    top: list[str] = []
    kept: list[set[str]] = []
    if k <= 0:
        return top
    for chunk in chunks:
        said = sentences_of(chunk)
        if repeats(said, kept):
            continue
        top.append(chunk.id)
        kept.append(said)
        if len(top) == k:
            break
    return top


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
            fused = dict(dense_scores)
        elif mode == "bm25":
            fused = dict(lexical_scores)
        if mode != "hybrid":
            order = sorted(fused, key=lambda cid: (-fused[cid], cid))
        else:
            # The window is the configured k, not this call's: a deeper retrieval (the evals
            # read 10) starts with the same passages as the answer's.
            rankings = [list(dense_scores), [cid for cid, _ in lexical]]
            fused = fuse_ranks(rankings, self.settings.rrf_k)
            order = fuse(rankings, self.settings.rrf_k, self.settings.k)

        top = self._distinct(order, k, chunks, dense_scores, query_vector)
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

    def _distinct(
        self,
        order: list[str],
        k: int,
        chunks: dict[str, Chunk],
        dense_scores: dict[str, float],
        query_vector: np.ndarray,
    ) -> list[str]:
        """The first ``k`` ids of ``order`` whose passage repeats none before it (``distinct``).
        Lexical-only hits are fetched a batch at a time into ``chunks``, with their dense
        similarity into ``dense_scores``."""
        if k <= 0:
            return []

        def fetched() -> Iterator[Chunk]:
            for start in range(0, len(order), k):
                batch = order[start : start + k]
                missing = [cid for cid in batch if cid not in chunks]
                if missing:
                    found, vectors = self.store.get(missing, with_embeddings=True)
                    for chunk, vector in zip(found, vectors):
                        chunks[chunk.id] = chunk
                        dense_scores[chunk.id] = float(vector @ query_vector)
                # An id gone from the store since the search is passed over.
                yield from (chunks[cid] for cid in batch if cid in chunks)

        return distinct(fetched(), k)

    def search_follow_up(self, question: str, query: str, k: int) -> list[Passage]:
        """Passages for a follow-up: ``query`` (merged with the previous question) and the
        follow-up's own words, fused, so that the new subject of "and what about X?" leads and
        the previous question only adds context. Each search skips repeats of its own kept
        passages, but one may keep a page and the other a page that includes it: fused, a
        passage that repeats one above it is skipped too (``repeats``)."""
        merged = self.search(query, k)
        if query == question or not terms(question):
            return merged
        alone = self.search(question, k)
        found = {p.chunk.id: p for p in merged + alone}
        fused = fuse_ranks(
            [[p.chunk.id for p in merged], [p.chunk.id for p in alone]], self.settings.rrf_k
        )
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))
        top = distinct((found[cid].chunk for cid in order), k)
        return [replace(found[cid], score=fused[cid]) for cid in top]
