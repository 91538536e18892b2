"""The packaged embedding model (rag/embeddings.py) on its real ONNX runtime: a passage is read up
to the model's 256 tokens (as sentence-transformers reads it), a cache folder that cannot be
written says how to fix it, a failed preparation leaves no temporary file behind, and the
bfloat16 runtime is only for bulk work of an fp32 backend.

Tests written for deliberate bugs a review planted in rag/embeddings.py that the suite let
through:

- the tokenizer's truncation at 256 tokens dropped: the packaged tokenizer.json then cuts at
  128, so a passage's words after its 128th token are not read (sentence-transformers reads
  256);
- ``_atomic`` no longer removing its temporary file when the writing fails;
- ``runtime_name`` naming the bfloat16 runtime for work that is not bulk;
- ``bulk_available`` without the fp32 check (int8 vectors computed in bf16 under the int8 id).

(The ConfigError of an unusable RAG_CACHE_DIR without its fix was caught already, by
tests/test_faults_store.py under ``unshare``; the test here needs no mount namespace.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import Embedder, onnx_model_path
from rag.errors import ConfigError

WORDS = " ".join(f"word{i} river{i % 7} stone" for i in range(200))  # about 900 tokens


def test_a_passage_is_read_up_to_the_models_256_tokens() -> None:
    """The packaged tokenizer.json cuts at 128 tokens by itself: the model reads 256."""
    embedder = Embedder(backend="onnx")
    words = WORDS.split()
    # 132 and 152 tokens: both past the file's 128, within the model's 256.
    fewer, more = embedder.embed_documents([" ".join(words[:78]), " ".join(words[:90])])
    assert float(fewer @ more) < 0.999  # the words after token 128 are read
    long, longer = embedder.embed_documents([WORDS, WORDS + " and a tail about the sea"])
    assert np.allclose(np.linalg.norm(long), 1.0, atol=1e-5)
    assert np.allclose(long, longer, atol=1e-6)  # past token 256: not read


def test_a_cache_folder_that_cannot_be_written_says_how_to_fix_it(tmp_path: Path) -> None:
    cache = tmp_path / "not-a-folder"
    cache.write_text("a file", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        onnx_model_path(cache, quantized=False)
    assert str(caught.value) == (
        f"The embedding model cannot be prepared in RAG_CACHE_DIR={cache} (Not a directory; "
        "it needs about 160 MB once): set RAG_CACHE_DIR to a folder you can write, with room."
    )


def test_a_failed_quantisation_leaves_no_temporary_file(tmp_path: Path) -> None:
    fp32 = onnx_model_path(tmp_path / "cache", quantized=False)
    fp32.write_bytes(b"not an ONNX graph")  # damaged: quantising it fails
    with pytest.raises(Exception):  # noqa: B017 (onnx's own decode error)
        onnx_model_path(tmp_path / "cache", quantized=True)
    assert sorted(p.name for p in fp32.parent.iterdir()) == ["model.onnx", "source.json"]


def test_only_bulk_work_of_an_fp32_backend_uses_the_bfloat16_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a CPU that multiplies bfloat16 (its flags faked here, as in test_embeddings.py)."""
    monkeypatch.setattr(
        "rag.embeddings.Path.read_text", lambda *a, **k: "flags : fpu avx2 avx512_bf16 amx_bf16"
    )
    onnx = Embedder(backend="onnx")
    assert onnx.bulk_available
    assert (onnx.runtime_name(), onnx.runtime_name(bulk=True)) == ("onnx", "torch-bf16")
    assert Embedder(backend="torch").runtime_name(bulk=True) == "torch-bf16"  # same fp32 id
    int8 = Embedder(backend="onnx-int8")
    assert not int8.bulk_available
    assert int8.runtime_name(bulk=True) == "onnx-int8"
