"""The reader: our own small cross-encoder that judges whether a sentence answers a question.

Trained by ``python -m train`` (see train/ and rag/reader_model/CARD.md) from public QA data,
shipped inside the package as an ONNX graph with its tokenizer and a ``reader.json`` that holds
the file's sha256, the calibration (logit -> probability) and the refusal threshold chosen on the
validation split. Loaded offline on first use; never downloaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.reader_graph import rewritten
from rag.reader_input import MAX_TOKENS, REBUILD, open_tokenizer

MODEL_DIR = Path(__file__).parent / "reader_model"
log = logging.getLogger(__name__)
SKIP_NORM_FUSION = "SkipLayerNormFusion"
# ONNX Runtime's fusions the reader's session leaves out (a choice, measured; [] undoes it).
# Fused, each residual add and its layer norm runs as SkipLayerNormalization, whose CPU kernel
# is a scalar loop: 6x the plain norm's time at 62 tokens of 384, 15% of a pair's run. Unfused,
# logits move by 0.004 on average, 0.35 at most, over the validation runs' 10,501 pairs: no
# refusal moved there and answered right held in every corpus (7 of 614 answer texts changed);
# the held-out gate lost one answer of 37 (bench/README.md, "The reader's graph").
UNFUSED = [SKIP_NORM_FUSION]


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ReaderCard:
    """What ``reader.json`` says about the shipped model."""

    model_file: str
    sha256: str
    # Calibrated probability = sigmoid(scale * logit + dense_weight * (dense - baseline) + bias),
    # fitted leave-one-corpus-out (train/loco.py); ``dense`` is the question's cosine with its
    # best retrieved passage and ``baseline`` the corpus's own (rag/calibration.py: how close
    # off-topic questions come to this corpus).
    scale: float
    bias: float
    # The refusal threshold on that probability, chosen on the validation corpora.
    threshold: float
    dense_weight: float = 0.0
    # The baseline used when the corpus's is not known (the fitting corpora's mean); None for a
    # card fitted on raw dense (no centring: a corpus baseline is then ignored).
    dense_baseline: float | None = None
    # The lowest and highest corpus baselines the calibration was fitted on: a corpus's own
    # baseline is held inside them, so the rule is never extrapolated (a one-article folder's
    # baseline, 0.08, lies far below every fitted corpus's). A product choice: on the small
    # validation folders (train/loco.py) clamped and measured baselines score alike.
    baseline_range: tuple[float, float] | None = None

    def probability(self, logit: float, dense: float = 0.0, baseline: float | None = None) -> float:
        centre = 0.0
        if self.dense_baseline is not None:
            centre = self.dense_baseline if baseline is None else baseline
            if self.baseline_range is not None:
                low, high = self.baseline_range
                centre = min(max(centre, low), high)
        z = self.scale * logit + self.dense_weight * (dense - centre) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


def load_card(folder: Path = MODEL_DIR) -> ReaderCard:
    """``reader.json``, read and checked: a value no refusal can be decided with (a threshold of
    NaN or -5, a scale of 0) is a ConfigError naming the field, never a silent "answer all"."""
    path = folder / "reader.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        calibration = raw["calibration"]
        card = ReaderCard(
            model_file=str(raw["model_file"]),
            sha256=str(raw["sha256"]),
            scale=float(calibration["scale"]),
            bias=float(calibration["bias"]),
            threshold=float(raw["threshold"]),
            dense_weight=float(calibration.get("dense", 0.0)),
            dense_baseline=(
                float(calibration["dense_baseline"]) if "dense_baseline" in calibration else None
            ),
            baseline_range=(
                (float(calibration["baseline_range"][0]), float(calibration["baseline_range"][1]))
                if "baseline_range" in calibration
                else None
            ),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"The reader's description {path} is missing or damaged: {REBUILD}."
        ) from exc
    problem = card_problem(card)
    if problem:
        raise ConfigError(f"The reader's description {path} is wrong: {problem}; {REBUILD}.")
    return card


def card_problem(card: ReaderCard) -> str:
    """What makes a card unusable, or "" when every value is one a refusal can be decided by."""
    name = card.model_file
    if not name or name != Path(name).name or name.startswith("."):
        return f"model_file {name!r} must be a file name in the reader's folder"
    if len(card.sha256) != 64 or any(c not in "0123456789abcdef" for c in card.sha256):
        return f"sha256 {card.sha256!r} must be 64 lower-case hex digits"
    for field, value in (
        ("calibration.scale", card.scale),
        ("calibration.bias", card.bias),
        ("calibration.dense", card.dense_weight),
        ("threshold", card.threshold),
    ):
        if not math.isfinite(value):
            return f"{field} is {value}, it must be a finite number"
    baseline = card.dense_baseline
    if baseline is not None and not -1.0 <= baseline <= 1.0:  # NaN fails the comparison too
        return f"calibration.dense_baseline is {baseline}, it must be a cosine from -1 to 1"
    if card.baseline_range is not None:
        low, high = card.baseline_range
        if not -1.0 <= low <= high <= 1.0:  # NaN fails the comparison too
            return (
                f"calibration.baseline_range is [{low}, {high}], it must be two cosines from -1"
                " to 1, the lower first"
            )
    if card.scale <= 0:
        return f"calibration.scale is {card.scale}, it must be above 0 (a higher logit is surer)"
    if not 0.0 <= card.threshold <= 1.0:
        return f"threshold is {card.threshold}, it must be a probability from 0 to 1"
    return ""


class Reader:
    """Scores (question, sentence-in-context) pairs: one logit each, higher = answers.

    Each pair runs alone, unpadded, on a one-thread ONNX session; ``threads`` pairs run at once
    (one per core). The int8 graph quantises its activations per run, over every token of the
    run, so a pair read in a padded batch got a logit that moved with its company (up to 1.0,
    measured: the same question could be answered or refused depending on what else was read
    with it, by another user's question too). Alone, a pair's logit is its own; and with no
    padding and no spinning thread pool it is also the fastest way on a shared 2-core machine
    (bench/README.md, "How the reader runs"). The graph is rewritten at load for that way of
    running it, every logit unchanged (rag/reader_graph.py).
    """

    def __init__(
        self, folder: Path = MODEL_DIR, threads: int | None = None, cache: Path | None = None
    ) -> None:
        self.folder = folder
        self.threads = threads if threads is not None else cores()
        self._cache = cache
        self._lock = threading.Lock()
        # The rewrites applied to the shipped graph at load (rag/reader_graph.py).
        self.rewrites: tuple[str, ...] = ()

    @cached_property
    def cache(self) -> Path:
        """Where the rewritten graph is kept (rag/reader_graph.py ``rewritten``)."""
        if self._cache is not None:
            return self._cache
        from rag.config import Settings

        return Settings.from_env().cache_dir / "models"

    @cached_property
    def card(self) -> ReaderCard:
        return load_card(self.folder)

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        path = self.folder / self.card.model_file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"The reader model {path} is missing: {REBUILD}.") from exc
        if hashlib.sha256(data).hexdigest() != self.card.sha256:
            raise ConfigError(
                f"The reader model {path} is damaged (its sha256 does not match reader.json): "
                f"{REBUILD}."
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread per run: the pairs run side by side instead (``logits``). An intra-op pool
        # would spin between the small matrix products, which on a loaded machine halves the
        # rate (measured: 2 threads 540 ms a question, 1 thread 240 ms, at load average 14).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        fused_norms = SKIP_NORM_FUSION not in UNFUSED

        def open_session(graph: bytes) -> Any:
            providers = ["CPUExecutionProvider"]
            return ort.InferenceSession(graph, options, providers, disabled_optimizers=UNFUSED)

        # Each pair runs alone and unpadded: the graph drops work that never needs (the
        # attention mask, computed shapes, the last layer's tokens after the first), every
        # logit unchanged (rag/reader_graph.py; bench/README.md, "The reader's graph"). The
        # rewrite only saves time: if it fails, or its copy in the cache will not open twice
        # (damaged: rewritten and kept again), the shipped graph runs, giving the same logits.
        def shipped() -> tuple[bytes, tuple[str, ...]]:
            return data, ()

        attempts: list[Callable[[], tuple[bytes, tuple[str, ...]]]] = [
            partial(rewritten, data, fused_norms, self.cache),
            partial(rewritten, data, fused_norms, self.cache, refresh=True),
            shipped,
        ]
        failures: list[str] = []
        for attempt in attempts:
            try:
                graph, rewrites = attempt()
                found = open_session(graph)
            except Exception as exc:  # onnx and onnxruntime raise their own untyped errors
                failures.append(str(exc))
                continue
            if failures:
                log.warning(
                    "The reader's graph: %s; loaded %s.", failures[0], rewrites or "as shipped"
                )
            self.rewrites = rewrites
            return found
        raise ConfigError(f"The reader model {path} cannot be loaded ({failures[-1]}): {REBUILD}.")

    @cached_property
    def _tokenizer(self) -> Any:
        tokenizer = open_tokenizer(self.folder / "tokenizer.json")
        tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        return tokenizer  # not padded: each pair runs alone (logits())

    def load(self) -> None:
        """Load (and check) the model now rather than on the first question."""
        _ = self._session, self._tokenizer

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """One logit per pair, each pair run alone (its logit does not depend on the others),
        ``threads`` at a time, longest first so that the runs end together."""
        out = np.zeros(len(pairs), dtype=np.float32)
        if not pairs:
            return out
        with self._lock:
            session = self._session
            encodings = self._tokenizer.encode_batch(list(pairs))
            todo = iter(sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids)))
            taking = threading.Lock()
            errors: list[BaseException] = []

            def work() -> None:
                while not errors:
                    with taking:
                        i = next(todo, None)
                    if i is None:
                        return
                    try:
                        out[i] = _run_one(session, encodings[i])
                    except BaseException as exc:  # re-raised by the caller below
                        errors.append(exc)

            helpers = [
                threading.Thread(target=work, daemon=True)
                for _ in range(min(self.threads, len(encodings)) - 1)
            ]
            for helper in helpers:
                helper.start()
            work()
            for helper in helpers:
                helper.join()
        if errors:
            raise errors[0]
        return out

    def probability(self, logit: float, dense: float = 0.0, baseline: float | None = None) -> float:
        """The calibrated probability; ``baseline`` is the corpus's (rag/calibration.py)."""
        return self.card.probability(logit, dense, baseline)


def _run_one(session: Any, encoding: Any) -> float:
    ids = np.asarray([encoding.ids], dtype=np.int64)
    types = np.asarray([encoding.type_ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
    return float(np.asarray(session.run(None, feed)[0]).reshape(-1)[0])


_shared: dict[Path, Reader] = {}
_shared_lock = threading.Lock()


def shared_reader(folder: Path = MODEL_DIR) -> Reader:
    """One reader per process: loading it takes a fraction of a second."""
    with _shared_lock:
        if folder not in _shared:
            _shared[folder] = Reader(folder)
        return _shared[folder]
