"""Embedding backends, the recorded embedding id, incremental BM25 and the manifest cache."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import Embedder, embedding_id, model_dir, native_bf16, onnx_model_path
from rag.errors import StoreError
from rag.lexical import LexicalIndex
from rag.manifest import FileEntry, Manifest
from rag.reader import cores
from rag.store import VectorStore
from rag.sync import Syncer

FP32_ID = embedding_id("onnx")

TEXTS = [
    "Aleksandar Vučić is the president of Serbia.",
    "The Danube flows through Belgrade. Its length is about 2,850 kilometres.",
    "A sapper is a combat engineer.",
    "short",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(backend="torch").embed_documents(TEXTS)


@pytest.mark.slow
def test_onnx_matches_sentence_transformers(torch_vectors: np.ndarray) -> None:
    onnx = Embedder(backend="onnx").embed_documents(TEXTS)
    assert onnx.shape == (len(TEXTS), 384) and onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert (onnx * torch_vectors).sum(axis=1).min() > 0.9999
    assert embedding_id("onnx") == embedding_id("torch") == "all-MiniLM-L6-v2/fp32"


@pytest.mark.slow
def test_int8_is_close_but_has_its_own_id(torch_vectors: np.ndarray) -> None:
    int8 = Embedder(backend="onnx-int8").embed_documents(TEXTS)
    assert (int8 * torch_vectors).sum(axis=1).min() > 0.95
    assert embedding_id("onnx-int8") == "all-MiniLM-L6-v2/int8"


@pytest.mark.slow
def test_onnx_export_goes_to_the_cache_dir(tmp_path: Path) -> None:
    path = onnx_model_path(tmp_path / "cache", quantized=False)
    assert path.is_file() and tmp_path in path.parents
    assert not list(model_dir().rglob("*.onnx"))
    assert onnx_model_path(tmp_path / "cache", quantized=False) == path  # built once


def test_unknown_backend_is_a_config_error() -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_EMBED_BACKEND"):
        Embedder(backend="gpu").embed_query("x")


@pytest.mark.slow
def test_backend_change_re_embeds_and_queries_refuse_a_mismatch(
    settings: Settings, docs_dir: Path
) -> None:
    int8_settings = settings.with_(embed_backend="onnx-int8")
    store = VectorStore(int8_settings)
    lexical = LexicalIndex(settings.store_dir / "bm25")
    first = Syncer(int8_settings, store, lexical, Embedder(backend="onnx-int8")).sync(docs_dir)
    assert store.embedding() == "all-MiniLM-L6-v2/int8"

    fp32_store = VectorStore(settings)
    with pytest.raises(StoreError, match="rag ingest"):
        fp32_store.query(np.ones(384, dtype=np.float32) / np.sqrt(384), 3, FP32_ID)

    again = Syncer(settings, fp32_store, lexical, Embedder(backend="onnx")).sync(docs_dir)
    assert again.embedded_chunks == again.total_chunks == first.total_chunks
    assert fp32_store.embedding() == "all-MiniLM-L6-v2/fp32"
    assert Manifest.load(settings.store_dir / "manifest.json").embedding == fp32_store.embedding()
    assert len(fp32_store.query(np.ones(384, dtype=np.float32) / np.sqrt(384), 3, FP32_ID)) == 3


ROWS = [
    ("a", "The Danube flows through Belgrade and Novi Sad."),
    ("b", "Belgrade is the capital of Serbia."),
    ("c", "A sapper is a combat engineer in the army."),
    ("d", "Engineers build bridges over the Danube."),
]


def test_lexical_scores_equal_bm25s(tmp_path: Path) -> None:
    import bm25s

    from rag.text import terms

    rows = [
        *ROWS,
        # Terms repeated within a chunk: its length is its count of terms, not of distinct ones.
        ("e", "Bridges, bridges and more bridges: the engineers of Novi Sad build bridges again."),
        ("f", "It is."),  # a last chunk with no term still counts in the mean length
    ]
    assert terms(rows[-1][1]) == []
    index = LexicalIndex(tmp_path / "bm25")
    index.build(rows)
    reference = bm25s.BM25()
    reference.index([terms(text) for _, text in rows], show_progress=False)
    for question in ("danube belgrade", "army engineer bridges", "capital", "novi sad bridges"):
        scores = reference.get_scores(terms(question))
        expected = {rows[i][0]: float(s) for i, s in enumerate(scores) if s > 0}
        got = dict(index.search(question, 10))
        assert got.keys() == expected.keys()
        assert all(abs(got[k] - expected[k]) < 1e-5 for k in got)


def test_lexical_update_equals_a_rebuild(tmp_path: Path) -> None:
    updated = LexicalIndex(tmp_path / "one")
    updated.build(ROWS)
    new_row = ("e", "Novi Sad lies on the Danube in Serbia.")
    assert LexicalIndex(tmp_path / "one").update([new_row, ("b", ROWS[1][1])], ["c"])
    rebuilt = LexicalIndex(tmp_path / "two")
    rebuilt.build([ROWS[0], ROWS[1], ROWS[3], new_row])
    reloaded = LexicalIndex(tmp_path / "one")
    assert len(reloaded) == 4
    for question in ("danube serbia", "sapper", "novi sad capital"):
        got, expected = dict(reloaded.search(question, 10)), dict(rebuilt.search(question, 10))
        assert got.keys() == expected.keys()
        assert all(abs(got[k] - expected[k]) < 1e-6 for k in got)
    assert reloaded.idf("danub") == rebuilt.idf("danub")


def test_lexical_update_without_counts_asks_for_a_rebuild(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build(ROWS)
    (tmp_path / "bm25" / "counts.npz").unlink()
    assert not LexicalIndex(tmp_path / "bm25").update([("e", "text")], [])


def test_manifest_load_returns_independent_copies(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest = Manifest(root="/docs", embedding="m/fp32")
    manifest.files["a.txt"] = FileEntry("h", 1, 1.0, ["c1"], "now")
    manifest.save(path)
    first = Manifest.load(path)
    first.files.pop("a.txt")
    second = Manifest.load(path)
    assert list(second.files) == ["a.txt"] and second.embedding == "m/fp32"
    second.files["b.txt"] = FileEntry("h2", 2, 2.0, ["c2"], "now")
    second.save(path)
    assert sorted(Manifest.load(path).files) == ["a.txt", "b.txt"]


needs_bf16 = pytest.mark.skipif(not native_bf16(), reason="this CPU has no native bfloat16")


@pytest.mark.slow
@needs_bf16
def test_bulk_bf16_vectors_match_fp32_and_keep_its_id() -> None:
    embedder = Embedder(backend="onnx")
    fp32 = embedder.embed_documents(TEXTS)
    bulk = embedder.embed_documents(TEXTS, bulk=True)
    assert embedder.runtime_name(bulk=True) == "torch-bf16"
    assert embedder.runtime_name() == "onnx" and embedder.id == FP32_ID
    assert bulk.shape == fp32.shape and bulk.dtype == np.float32
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-5)
    assert (bulk * fp32).sum(axis=1).min() > 0.9999


@pytest.mark.slow
@needs_bf16
def test_only_a_sync_with_many_texts_to_embed_loads_the_bulk_runtime(
    settings: Settings, docs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.sync.BULK_MIN_CHUNKS", 5)
    store, lexical = VectorStore(settings), LexicalIndex(settings.store_dir / "bm25")
    sentences = [
        f"Sentence number {i} is about topic {i * 7} and nothing else." for i in range(120)
    ]
    (docs_dir / "long.txt").write_text(" ".join(sentences), encoding="utf-8")

    off = Embedder(backend="onnx")
    first = Syncer(settings.with_(embed_bulk="off"), store, lexical, off).sync(docs_dir)
    assert first.embedded_chunks >= 10 and "_bulk_runtime" not in off.__dict__

    # One sentence edited in a long file (same length: chunk boundaries stay): every chunk of the
    # file is rewritten, one or two have new text to embed.
    sentences[30] = sentences[30].replace("topic 210", "topic 999")
    (docs_dir / "long.txt").write_text(" ".join(sentences), encoding="utf-8")
    edit = Embedder(backend="onnx")
    report = Syncer(settings, store, lexical, edit).sync(docs_dir)
    assert 1 <= report.embedded_chunks <= 2 and "_bulk_runtime" not in edit.__dict__

    # A new file with many new chunks: embedded on the bulk runtime, under the fp32 id.
    new = [f"Another text {i}, with words of its own: {i * 13} apples." for i in range(120)]
    (docs_dir / "new.txt").write_text(" ".join(new), encoding="utf-8")
    large = Embedder(backend="onnx")
    report = Syncer(settings, store, lexical, large).sync(docs_dir)
    assert report.embedded_chunks >= 10 and large.bulk_loaded
    assert store.embedding() == FP32_ID

    # Loaded once, the bulk runtime also serves smaller syncs of this process.
    monkeypatch.setattr("rag.sync.BULK_MIN_CHUNKS", 1000)
    monkeypatch.setattr("rag.sync.BULK_LOADED_MIN_CHUNKS", 5)
    runtime = large._bulk_runtime
    calls: list[int] = []
    real_encode = runtime.encode
    monkeypatch.setattr(runtime, "encode", lambda t, b: calls.append(len(t)) or real_encode(t, b))
    few = [f"Third file, sentence {i}: {i * 17} pears and {i * 3} plums." for i in range(60)]
    (docs_dir / "third.txt").write_text(" ".join(few), encoding="utf-8")
    report = Syncer(settings, store, lexical, large).sync(docs_dir)
    assert report.embedded_chunks >= 5 and sum(calls) == report.embedded_chunks


def test_unknown_bulk_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.errors import ConfigError

    monkeypatch.setenv("RAG_EMBED_BULK", "always")
    with pytest.raises(ConfigError, match="RAG_EMBED_BULK"):
        Settings.from_env()


@pytest.mark.slow
def test_a_bulk_runtime_that_cannot_load_falls_back_to_fp32(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class _NoTorch:
        def __init__(self) -> None:
            raise ImportError("No module named 'torch'")

    monkeypatch.setattr("rag.embeddings.native_bf16", lambda: True)
    monkeypatch.setattr("rag.embeddings._TorchBf16Model", _NoTorch)
    embedder = Embedder(backend="onnx")
    vectors = embedder.embed_documents(TEXTS, bulk=True)
    assert "bfloat16 runtime failed" in caplog.text and "RAG_EMBED_BULK=off" in caplog.text
    assert np.allclose(vectors, embedder.embed_documents(TEXTS), atol=1e-6)
    assert embedder.runtime_name(bulk=True) == "onnx"


def test_without_native_bf16_bulk_work_stays_on_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag.embeddings.Path.read_text", lambda *a, **k: "flags : fpu avx2 fma")
    embedder = Embedder(backend="onnx")
    assert not embedder.bulk_available and embedder.runtime_name(bulk=True) == "onnx"
    assert Embedder(backend="onnx-int8").runtime_name(bulk=True) == "onnx-int8"


@pytest.mark.skipif(cores() < 2, reason="one core: the session has no thread pool to spin")
def test_the_query_embedders_threads_stop_spinning_when_a_run_ends() -> None:
    # ONNX Runtime's pool threads spin on after a run by default: after a question's embedding
    # they took the cores from the reader's runs that follow (about 24 ms of CPU in the 0.1 s
    # after a query here, measured with the option off).
    # Each question is asked three times and the least CPU counts: spinning threads spend it
    # after every run, while a busy machine's stray work (another test's thread waking up)
    # lands on one 0.1 s at most (a CI run on a loaded machine once saw 5.4 ms).
    embedder = Embedder(backend="onnx")
    embedder.embed_query("warm the model up")
    for question in ("Who designed the lighthouse?", "What is a find module?"):
        spent = []
        for _ in range(3):
            embedder.embed_query(question)
            start = time.process_time()
            time.sleep(0.1)
            spent.append(time.process_time() - start)
        assert min(spent) < 0.005, spent
