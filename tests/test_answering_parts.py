"""rag/answering.py's parts on hand-made sentences and scores: no reader call, no index. Written
for the holes mutation testing found (tests/README.md); each was seen failing on its mutant."""

from __future__ import annotations

from rag.answering import Judged, rerank
from rag.chunking import chunk_document
from rag.models import Passage


def passage(source: str, text: str = "One sentence here. Another one there.") -> Passage:
    (chunk,) = chunk_document(source, text, size=2000, overlap=0)
    return Passage(chunk=chunk, score=1.0, dense_score=0.5, lexical_score=1.0)


def judged(p: Passage, logit: float, probability: float = 0.5, start: int = 0) -> Judged:
    end = p.chunk.text.index(".", start) + 1
    return Judged(p, start, end, p.chunk.text[start:end], logit, probability)


def test_passages_are_reranked_by_their_best_sentence_unjudged_last() -> None:
    a, b, c = passage("a.txt"), passage("b.txt"), passage("c.txt")
    # Best first, as judge() returns them: b's best sentence beats a's, its second does not.
    scores = [judged(b, 3.0), judged(a, 1.0), judged(b, 0.5, start=19)]
    assert [p.chunk.source for p in rerank([a, c, b], scores)] == ["b.txt", "a.txt", "c.txt"]
    assert [p.chunk.source for p in rerank([c, a], [judged(a, -2.0)])] == ["a.txt", "c.txt"]
