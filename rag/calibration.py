"""A corpus's own baseline for refusals: the decision must hold on corpora it was not fit on.

The confidence is sigmoid(scale * logit + dense_weight * (dense - baseline) + bias): ``dense`` is
the question's cosine with its closest passage, and ``baseline`` how close questions about other
topics come to this corpus (the median, over a shipped bank of off-topic questions, of each
one's closest passage). A dense cosine that means "on topic" in Wikipedia paragraphs (0.31 for
off-topic questions on SelQA's sentences) means little in a technical manual (0.17 on CMake's
reference): measured leave-one-corpus-out over four corpora (train/loco.py, rag/reader_model/
CARD.md), centring dense on the corpus's baseline is what carries the threshold over.

Measuring costs the bank's query embeddings and one nearest-neighbour query each (no reader
call, about 0.4 s of CPU on this machine, a quarter of a fresh ``rag ask``). ``corpus_baseline``
keeps one per index generation in the process and, given a file, on disk next to the index: the
next process (each ``rag ask``) reads it instead of measuring again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.durable import write_atomic
from rag.errors import ConfigError, RagError
from rag.reader import MODEL_DIR
from rag.reader_input import REBUILD


class _Embedder(Protocol):
    @property
    def id(self) -> str: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...


class _Store(Protocol):
    def query(
        self, vector: np.ndarray, n: int, embedding: str
    ) -> Sequence[tuple[object, float]]: ...


@dataclass(frozen=True)
class CorpusBaseline:
    """How close questions this corpus cannot answer come to it: the median top cosine."""

    dense: float
    questions: int


@lru_cache(maxsize=4)
def _bank(folder: Path) -> tuple[str, ...]:
    path = folder / "offtopic.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The reader's off-topic questions {path} are missing: {REBUILD}."
        ) from exc
    questions = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not questions:
        raise ConfigError(f"The reader's off-topic questions {path} are empty: {REBUILD}.")
    return questions


def offtopic_bank(folder: Path = MODEL_DIR) -> list[str]:
    """The shipped bank of off-topic questions (rag/reader_model/offtopic.txt)."""
    return list(_bank(folder))


def baseline_from_scores(dense: Sequence[float]) -> CorpusBaseline | None:
    """The baseline from the bank questions' top cosines (None when nothing was found)."""
    if not dense:
        return None
    return CorpusBaseline(dense=round(float(statistics.median(dense)), 4), questions=len(dense))


def measure_baseline(embedder: _Embedder, store: _Store) -> CorpusBaseline | None:
    """Ask the index the off-topic bank (dense search only); None for an empty index."""
    tops = []
    for vector in embedder.embed_documents(offtopic_bank()):  # one batch: a query is a document
        hits = store.query(vector, 1, embedder.id)
        if hits:
            tops.append(float(hits[0][1]))
    return baseline_from_scores(tops)


log = logging.getLogger(__name__)

_cache: dict[Hashable, tuple[Hashable, CorpusBaseline | None]] = {}
_cache_lock = threading.Lock()


def corpus_baseline(
    index: Hashable,
    generation: Hashable,
    measure: Callable[[], CorpusBaseline | None],
    path: Path | None = None,
) -> CorpusBaseline | None:
    """The baseline of ``index`` at ``generation``: measured once per generation (a sync that
    changes the documents moves the generation on), kept in the process and, with ``path``, in
    that file for the next process. A file that is missing, damaged or of another generation
    or bank is measured again and replaced; one that cannot be written is only logged."""
    with _cache_lock:
        known = _cache.get(index)
        if known is not None and known[0] == generation:
            return known[1]
        stamp = {"index": repr(index), "generation": repr(generation), "bank": _bank_digest()}
        baseline = _read(path, stamp) if path else None
        if baseline is None:
            baseline = measure()
            if path and baseline is not None:
                _write(path, stamp, baseline)
        _cache[index] = (generation, baseline)
        return baseline


def _bank_digest() -> str:
    return hashlib.sha256("\n".join(offtopic_bank()).encode()).hexdigest()[:16]


def _read(path: Path, stamp: dict[str, str]) -> CorpusBaseline | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or {key: record.get(key) for key in stamp} != stamp:
            return None
        dense, questions = record["dense"], record["questions"]
        if not (isinstance(dense, float) and -1.0 <= dense <= 1.0 and isinstance(questions, int)):
            return None
        return CorpusBaseline(dense=dense, questions=questions)
    except (OSError, ValueError, TypeError, KeyError):  # missing or damaged: measure again
        return None


def _write(path: Path, stamp: dict[str, str], baseline: CorpusBaseline) -> None:
    record = {**stamp, "dense": baseline.dense, "questions": baseline.questions}
    try:
        write_atomic(path, json.dumps(record).encode())
    except (RagError, OSError) as exc:  # a read-only store still answers: measured per process
        log.warning("The corpus baseline was not saved (%s): measured again next time.", exc)
