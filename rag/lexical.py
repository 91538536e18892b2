"""BM25 over folded, stemmed terms (bm25s), persisted beside the vector store."""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.text import terms

log = logging.getLogger(__name__)


class LexicalIndex:
    """A BM25 index whose rows are chunk ids; rebuilt from the store after each change."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._retriever: object | None = None
        self._ids: list[str] = []
        self._doc_freq: dict[str, int] = {}
        self._loaded = False

    def build(self, rows: Iterable[tuple[str, str]]) -> None:
        """Index ``(chunk_id, text)`` rows and save them, replacing the old index atomically."""
        import bm25s

        ids: list[str] = []
        corpus: list[list[str]] = []
        for chunk_id, text in rows:
            ids.append(chunk_id)
            corpus.append(terms(text))
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        doc_freq: dict[str, int] = {}
        for row in corpus:
            for term in set(row):
                doc_freq[term] = doc_freq.get(term, 0) + 1
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            retriever.save(str(tmp / "bm25"), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps({"ids": ids, "doc_freq": doc_freq}))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self._retriever, self._ids, self._doc_freq, self._loaded = retriever, ids, doc_freq, True

    def _load(self) -> None:
        if self._loaded:
            return
        import bm25s

        meta_path = self.directory / "ids.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            self._ids, self._doc_freq = meta["ids"], meta["doc_freq"]
            if self._ids:
                self._retriever = bm25s.BM25.load(str(self.directory / "bm25"), show_progress=False)
        self._loaded = True

    def __len__(self) -> int:
        self._load()
        return len(self._ids)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the highest weight."""
        self._load()
        n = max(len(self._ids), 1)
        df = self._doc_freq.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(self, question: str, n: int) -> list[tuple[str, float]]:
        self._load()
        query = terms(question)
        if self._retriever is None or not query or n <= 0:
            return []
        scores: np.ndarray = self._retriever.get_scores(query)  # type: ignore[attr-defined]
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]
