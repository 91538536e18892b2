"""Where one ``rag.answer()`` spends its time, step by step (issue 21).

    python -m bench.profile_answer                 # the seeds and the 2,000-chunk synthetic folder
    python -m bench.profile_answer --chunks 0      # the seeds only
    python -m bench.profile_answer --cprofile 25   # also cProfile's top functions
    python -m bench.profile_answer --shipped-graph # the reader as shipped, not rewritten (before)

Each step of the answer path is wrapped in a timer (the wrappers call the real functions) and
the same ClapNQ questions are asked in turn, the models loaded first. The table gives each step's
median milliseconds per question and its share of ``answer()``; the reader's line is split into
tokenizing and the ONNX runs, with the pairs read, their token lengths and the padding the
batches carried. Steps nest (``judge`` holds the reader), so shares do not add up to 100%; the
ONNX runs are summed over the threads that run them side by side, so they can pass 100%.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.corpus import CACHE, SEEDS, questions, synthetic

STORES = CACHE / "stores"


class Timers:
    """Per-question milliseconds of each wrapped step (summed over calls within a question)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.rows: list[dict[str, float]] = []
        self.reader: list[dict[str, int]] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.current[label] += (time.perf_counter() - t) * 1000

        setattr(owner, name, timed)

    def close_question(self) -> None:
        self.rows.append(dict(self.current))
        self.current = defaultdict(float)


def instrument(timers: Timers) -> None:
    """Wrap each step of the answer path where the caller looks it up."""
    import rag.answering as answering
    import rag.api as api
    import rag.reader as reader_module
    import rag.retrieval as retrieval

    timers.wrap(api, "prepare_question", "retrieve: prepare question")
    timers.wrap(api, "ensure_index", "retrieve: ensure_index (manifest, count, lock)")
    timers.wrap(retrieval.Retriever, "search_follow_up", "retrieve: search (embed, Chroma, BM25)")
    timers.wrap(api, "question_names", "retrieve: question names (entities)")
    timers.wrap(api, "dense_baseline", "answer: calibration baseline lookup")
    timers.wrap(answering, "candidate_sentences", "answer: candidate sentences (spans)")
    timers.wrap(answering, "reader_pair", "answer: reader pairs (text)")
    timers.wrap(answering, "answer_spans", "answer: answer spans (section lead)")
    timers.wrap(api, "check_names", "answer: check names")
    timers.wrap(api, "answer_from_passages", "answer: answer_from_passages")
    timers.wrap(answering, "judge", "answer: judge (reader + bookkeeping)")
    for name in ("_embed_query", "embed_query"):
        for cls in _embedder_classes():
            if hasattr(cls, name):
                timers.wrap(cls, name, "retrieve: query embedding")
    # The reader's inside: tokenizing and the ONNX runs, with lengths and padding.
    real_logits = reader_module.Reader.logits

    def logits(self: Any, pairs: Sequence[tuple[str, str]]) -> Any:
        t = time.perf_counter()
        out = real_logits(self, pairs)
        timers.current["answer: reader.logits (tokenize + ONNX)"] += (
            time.perf_counter() - t
        ) * 1000
        return out

    reader_module.Reader.logits = logits  # type: ignore[method-assign]


def _embedder_classes() -> list[type]:
    import rag.embeddings as embeddings

    return [getattr(embeddings, n) for n in ("Embedder",) if hasattr(embeddings, n)]


def instrument_session(timers: Timers, reader: Any) -> None:
    """Time the ONNX runs and the tokenizer of ``reader`` (a loaded Reader)."""
    session, tokenizer = reader._session, reader._tokenizer

    class Session:
        def run(self, names: Any, feed: dict[str, Any]) -> Any:
            ids = feed["input_ids"]
            mask = feed["attention_mask"]
            timers.reader.append(
                {"rows": int(ids.shape[0]), "width": int(ids.shape[1]), "real": int(mask.sum())}
            )
            t = time.perf_counter()
            try:
                return session.run(names, feed)
            finally:
                label = "answer: reader ONNX runs (summed over threads)"
                timers.current[label] += (time.perf_counter() - t) * 1000

        def __getattr__(self, name: str) -> Any:
            return getattr(session, name)

    class Tokenizer:
        def encode_batch(self, pairs: Any) -> Any:
            t = time.perf_counter()
            try:
                return tokenizer.encode_batch(pairs)
            finally:
                timers.current["answer: reader tokenize"] += (time.perf_counter() - t) * 1000

        def __getattr__(self, name: str) -> Any:
            return getattr(tokenizer, name)

    reader.__dict__["_session"] = Session()
    reader.__dict__["_tokenizer"] = Tokenizer()


def profile(folder: Path, store: Path, qs: list[str], cprofile: int) -> str:
    import rag
    import rag.reader
    from rag.batching import shared_reader
    from rag.config import Settings

    settings = Settings.from_env(docs_dir=folder, store_dir=store, llm="extractive")
    rag.ingest(settings=settings)
    chunks = rag.documents(settings).total_chunks
    for question in qs[:3]:
        rag.answer(question, settings=settings)  # models loaded, baseline measured
    timers = Timers()
    reader = shared_reader()
    instrument_session(timers, reader)
    instrument(timers)
    whole: list[float] = []
    retrieve: list[float] = []
    for question in qs:  # answer() then retrieve(), question by question: the same load
        t = time.perf_counter()
        rag.answer(question, settings=settings)
        whole.append((time.perf_counter() - t) * 1000)
        timers.close_question()
        t = time.perf_counter()
        rag.retrieve(question, settings=settings)
        retrieve.append((time.perf_counter() - t) * 1000)
        timers.current = defaultdict(float)
    answer_p50 = statistics.median(whole)
    lines = [
        f"{folder.name}: {chunks} chunks, {len(qs)} questions, load average "
        f"{os.getloadavg()[0]:.1f}; reader graph rewrites: {', '.join(reader.rewrites) or 'none'}"
        f"; fusions left out: {', '.join(rag.reader.UNFUSED) or 'none'}",
        f"answer() p50 / retrieve() p50: {answer_p50 / statistics.median(retrieve):.2f}x",
        f"{'step':52} {'p50 ms':>8} {'mean ms':>8} {'share':>6}",
        f"{'answer() (whole)':52} {answer_p50:8.2f} {statistics.mean(whole):8.2f} {1:6.0%}",
        f"{'retrieve() (whole, asked right after)':52} {statistics.median(retrieve):8.2f} "
        f"{statistics.mean(retrieve):8.2f} {statistics.median(retrieve) / answer_p50:6.0%}",
    ]
    labels = sorted({label for row in timers.rows for label in row})
    for label in labels:
        values = [row.get(label, 0.0) for row in timers.rows]
        p50 = statistics.median(values)
        lines.append(
            f"{label:52} {p50:8.2f} {statistics.mean(values):8.2f} "
            f"{statistics.mean(values) / statistics.mean(whole):6.0%}"
        )
    runs = timers.reader
    if runs:
        rows = sum(r["rows"] for r in runs)
        padded = sum(r["rows"] * r["width"] for r in runs)
        real = sum(r["real"] for r in runs)
        lines.append(
            f"reader: {rows / len(qs):.1f} pairs and {len(runs) / len(qs):.2f} ONNX runs per "
            f"question; mean tokens per pair {real / rows:.1f}, padded width "
            f"{padded / rows:.1f} (padding {1 - real / padded:.0%} of the tokens run)"
        )
    if cprofile:
        prof = cProfile.Profile()
        prof.enable()
        for question in qs[:cprofile]:
            rag.answer(question, settings=settings)
        prof.disable()
        stream = io.StringIO()
        pstats.Stats(prof, stream=stream).sort_stats("tottime").print_stats(25)
        lines.append(stream.getvalue())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_answer")
    parser.add_argument("--chunks", type=int, default=2000, help="synthetic folder; 0: none")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--cprofile", type=int, default=0, help="questions under cProfile")
    parser.add_argument("--docs", type=Path, default=None, help="profile this folder only")
    parser.add_argument(
        "--shipped-graph",
        action="store_true",
        help="run the reader as before bench/README.md's 'The reader's graph': its graph as "
        "shipped (no load-time rewrite) and ONNX Runtime's fusions all on",
    )
    args = parser.parse_args(argv)
    if args.shipped_graph:
        import rag.reader

        def shipped(data: bytes, fused_norms: bool, cache: object) -> tuple[bytes, tuple[str, ...]]:
            return data, ()

        vars(rag.reader)["rewritten"] = shipped  # the graph as shipped, not rewritten
        rag.reader.UNFUSED = []
    from rag.config import apply_offline_env

    apply_offline_env()
    if args.docs:  # one folder, in this process (the wrappers are installed once)
        store = STORES / ("profile-seeds" if args.docs == SEEDS else f"profile-{args.docs.name}")
        if args.docs.name.startswith("corpus-"):
            store = STORES / f"load-{args.chunks}"
        print(profile(args.docs, store, questions(args.questions), args.cprofile), flush=True)
        return 0
    folders = [SEEDS] + ([synthetic(args.chunks)] if args.chunks else [])
    for folder in folders:  # each in its own process
        command = [sys.executable, "-m", "bench.profile_answer", "--docs", str(folder)]
        command += ["--chunks", str(args.chunks), "--questions", str(args.questions)]
        command += ["--cprofile", str(args.cprofile)]
        command += ["--shipped-graph"] if args.shipped_graph else []
        subprocess.run(command, check=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
