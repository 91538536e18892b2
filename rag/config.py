"""Settings, read once from the environment. No other module reads ``os.environ``."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rag.errors import ConfigError

Mode = Literal["hybrid", "dense", "bm25"]
Backend = Literal["extractive", "openai"]
Bulk = Literal["auto", "off"]
UnknownUsers = Literal["reader", "refuse"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
BACKENDS: tuple[Backend, ...] = ("extractive", "openai")
BULK: tuple[Bulk, ...] = ("auto", "off")
UNKNOWN_USERS: tuple[UnknownUsers, ...] = ("reader", "refuse")
# The documents folder when none is named: the demo documents. A folder named on purpose
# (RAG_DOCS_DIR) is checked against the folder the index holds (rag/source.py).
DEFAULT_DOCS_DIR = Path("seeds")

# Everything that could phone home or download weights is switched off before any import.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "LANGSMITH_TRACING": "false",
    "TOKENIZERS_PARALLELISM": "false",
    # OpenMP threads (torch) that busy-wait collapse throughput when another process, or ONNX
    # Runtime's threads, want the same cores: measured 85 -> 5 chunks/s for bulk embedding.
    # OpenMP reads it once, when torch loads, so it is set before anything imports torch.
    "OMP_WAIT_POLICY": "PASSIVE",
}


# The collection of an index made without RAG_COLLECTION: its files in the store folder keep the
# plain names (``Settings.own``).
DEFAULT_COLLECTION = "documents"
# Chroma's rule for collection names (3-512 characters), with room for our companion
# collections' suffixes ("__documents", "__lease").
_COLLECTION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,480})[a-zA-Z0-9]")

# A token an HTTP header can carry after "Bearer ": printable ASCII, no spaces.
_TOKEN = re.compile(r"[!-~]+")


def apply_offline_env() -> None:
    """Set the offline/telemetry variables unless the user set them already."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Limits:
    """The range a numeric setting must be in; ``whole`` for integers."""

    low: float
    high: float
    whole: bool = True
    low_open: bool = False  # True: the value must be above ``low``, not equal to it


# Every numeric setting and its range, checked whenever Settings is built (from the environment,
# the command line or the Python API): a value outside would loop, exhaust memory or misbehave.
LIMITS: dict[str, Limits] = {
    "chunk_size": Limits(50, 100_000),
    "chunk_overlap": Limits(0, 100_000),
    "k": Limits(1, 50),
    "candidates": Limits(1, 1000),
    "rrf_k": Limits(0, 10_000),
    "refusal_threshold": Limits(0.0, 1.0, whole=False),
    "max_answer_sentences": Limits(1, 50),
    "max_question_chars": Limits(1, 1_000_000),
    "llm_timeout": Limits(0.0, 3600.0, whole=False, low_open=True),
    "llm_max_retries": Limits(0, 20),
    "llm_max_tokens": Limits(16, 100_000),
    "max_upload_mb": Limits(0.0, 100_000.0, whole=False, low_open=True),
    "max_file_mb": Limits(0.0, 100_000.0, whole=False, low_open=True),
    "max_html_mb": Limits(0.0, 100_000.0, whole=False, low_open=True),
    "max_parse_seconds": Limits(0.0, 86_400.0, whole=False, low_open=True),
    "embed_batch_size": Limits(1, 4096),
    "queue_size": Limits(1, 100_000),
    "chat_concurrency": Limits(1, 64),
}
ENV_NAMES = {
    "chunk_size": "RAG_CHUNK_SIZE",
    "chunk_overlap": "RAG_CHUNK_OVERLAP",
    "k": "RAG_K",
    "refusal_threshold": "RAG_REFUSAL_THRESHOLD",
    "llm_timeout": "RAG_LLM_TIMEOUT",
    "llm_max_retries": "RAG_LLM_MAX_RETRIES",
    "llm_max_tokens": "RAG_LLM_MAX_TOKENS",
    "max_upload_mb": "RAG_MAX_UPLOAD_MB",
    "max_file_mb": "RAG_MAX_FILE_MB",
    "max_html_mb": "RAG_MAX_HTML_MB",
    "max_parse_seconds": "RAG_MAX_PARSE_SECONDS",
    "queue_size": "RAG_QUEUE_SIZE",
    "chat_concurrency": "RAG_CHAT_CONCURRENCY",
}


def _check(name: str, value: object, limits: Limits) -> None:
    """Raise ``ConfigError`` unless ``value`` is a number of the right kind inside ``limits``."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = is_number and (not limits.whole or isinstance(value, int))
    if ok:
        assert isinstance(value, int | float)
        ok = math.isfinite(value) and limits.low <= value <= limits.high
        ok = ok and not (limits.low_open and value == limits.low)
    if ok:
        return
    low = f"{limits.low:g}"
    kind = f"a whole number from {low}" if limits.whole else f"a number from {low}"
    if limits.low_open:
        kind = f"a number above {low} up"
    var = ENV_NAMES.get(name)
    fix = f"set {var} (or pass {name}=) to a value in range" if var else f"pass {name}= in range"
    raise ConfigError(f"{name} must be {kind} to {limits.high:g} (got {value!r}): {fix}.")


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Build with ``Settings.from_env()`` or directly."""

    docs_dir: Path = DEFAULT_DOCS_DIR
    store_dir: Path = Path("vectorstore")
    chroma_url: str | None = None
    # Sent as "Authorization: Bearer <token>" to the Chroma server (a token-checking proxy in
    # front of `chroma run`, whose 1.x server has no authentication of its own).
    chroma_token: str | None = field(default=None, repr=False)
    collection: str = DEFAULT_COLLECTION
    # Chunking: characters per chunk (whole sentences) and overlap in characters.
    chunk_size: int = 700
    chunk_overlap: int = 150
    # Retrieval.
    k: int = 5
    mode: Mode = "hybrid"
    candidates: int = 30
    rrf_k: int = 60
    # Answering.
    # None: the reader's own threshold, chosen on its validation split (rag/reader_model/).
    refusal_threshold: float | None = None
    max_answer_sentences: int = 2
    max_question_chars: int = 2000
    # Generative backend (OpenAI or any OpenAI-compatible server).
    llm: Backend = "extractive"
    model: str = "gpt-4.1-mini"
    openai_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 60.0
    llm_max_retries: int = 2
    # Longest reply in tokens: a cited answer of one to three sentences needs far fewer.
    llm_max_tokens: int = 400
    # Uploads through the UI.
    max_upload_mb: float = 20.0
    # The page's right/wrong feedback, one eval question per line (rag eval --questions FILE).
    feedback_file: Path = Path("evals/feedback.jsonl")
    # A folder sync skips larger files, with the reason (a product choice: a 50 MB text file
    # held the writer for half an hour; manuals with pictures stay under it).
    max_file_mb: float = 40.0
    # HTML parsing time and memory grow with the markup (10 MB of nested tags: 22 s, 704 MB),
    # so HTML has its own, lower cap (a long single-page manual is 1-3 MB); Markdown (read as
    # the HTML it renders to) and reStructuredText (docutils: about 100 times the size) too.
    max_html_mb: float = 4.0
    # Reading one PDF, DOCX, HTML or Markdown file stops after this many seconds (the file is
    # skipped with the reason): a damaged or hostile file must not hold the writer.
    max_parse_seconds: float = 60.0
    # The page's queue: questions that may wait (beyond it: "Queue is full") and questions
    # answered at once (they share the reader's calls: rag/batching.py).
    queue_size: int = 256
    chat_concurrency: int = 16
    embed_batch_size: int = 32
    # Embedding runtime: "onnx", "onnx-int8" or "torch" (see rag/embeddings.py).
    embed_backend: str = "onnx"
    # Bulk embedding (a sync of many chunks) on the bfloat16 runtime where the CPU has it: "auto"
    # or "off" (see rag/embeddings.py).
    embed_bulk: Bulk = "auto"
    # Where models built locally (the ONNX export) are kept; never inside site-packages.
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "rag-offline")
    # A shared page (ui/auth.py): the users file (None: users.json in the store folder), the
    # audit log of changes (None: audit.jsonl in the store folder), and the header a trusted
    # reverse proxy names the signed-in user in; a name the users file lacks is a reader, or
    # refused; the proxy's addresses (or networks) whose header is believed.
    users_file: Path | None = None
    audit_log: Path | None = None
    proxy_user_header: str | None = None
    proxy_unknown_users: UnknownUsers = "reader"
    trusted_proxies: tuple[str, ...] = ()  # none: with proxy_user_header, loopback (ui/auth.py)

    def __post_init__(self) -> None:
        if self.proxy_unknown_users not in UNKNOWN_USERS:
            raise ConfigError(
                f"Unknown RAG_PROXY_UNKNOWN_USERS {self.proxy_unknown_users!r}: use one of "
                f"{', '.join(UNKNOWN_USERS)}."
            )
        if self.mode not in MODES:
            raise ConfigError(
                f"Unknown retrieval mode {self.mode!r}: use one of {', '.join(MODES)}."
            )
        if self.llm not in BACKENDS:
            raise ConfigError(
                f"Unknown answer backend {self.llm!r}: set RAG_LLM to one of {', '.join(BACKENDS)}."
            )
        if self.embed_bulk not in BULK:
            raise ConfigError(
                f"Unknown RAG_EMBED_BULK {self.embed_bulk!r}: use one of {', '.join(BULK)}."
            )
        for name, limits in LIMITS.items():
            if name == "refusal_threshold" and self.refusal_threshold is None:
                continue  # the reader's own threshold (rag/reader_model/reader.json)
            _check(name, getattr(self, name), limits)
        if not _COLLECTION.fullmatch(self.collection) or ".." in self.collection:
            raise ConfigError(
                f"RAG_COLLECTION={self.collection!r} is not a collection name Chroma accepts: use "
                "3 to 480 letters, digits, '.', '_' or '-', starting and ending with a letter or "
                "digit."
            )
        if self.chroma_token is not None and not _TOKEN.fullmatch(self.chroma_token):
            raise ConfigError(
                "RAG_CHROMA_TOKEN must be printable ASCII without spaces (an HTTP header carries "
                "it): set it to the token the Chroma server's proxy expects."
            )
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than RAG_CHUNK_SIZE "
                f"({self.chunk_size}): lower the overlap or raise the size."
            )

    def own(self, name: str) -> Path:
        """A file or folder of this collection's in the store folder (its manifest, its BM25
        index): the default collection's keeps the plain name, as every index made before
        collections had their own files; another's carries the collection's name
        (``manifest-team.json``, ``bm25-team``), so that two collections in one folder never
        share one."""
        if self.collection == DEFAULT_COLLECTION:
            return self.store_dir / name
        stem, dot, suffix = name.partition(".")
        return self.store_dir / f"{stem}-{self.collection}{dot}{suffix}"

    @property
    def users_path(self) -> Path:
        """The users file of a shared page (``rag users add`` writes it)."""
        return self.users_file if self.users_file is not None else self.store_dir / "users.json"

    @property
    def audit_path(self) -> Path:
        """The page's append-only log of changes (JSON lines)."""
        return self.audit_log if self.audit_log is not None else self.store_dir / "audit.jsonl"

    def resolve_k(self, k: object = None) -> int:
        """The number of passages for one call: ``k`` checked like ``RAG_K``, else the setting."""
        if k is None:
            return self.k
        _check("k", k, LIMITS["k"])
        assert isinstance(k, int)
        return k

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``RAG_*`` and ``OPENAI_*`` variables; keyword overrides win."""
        env = os.environ
        values: dict[str, object] = {}
        paths = {
            "docs_dir": "RAG_DOCS_DIR",
            "store_dir": "RAG_STORE_DIR",
            "cache_dir": "RAG_CACHE_DIR",
            "feedback_file": "RAG_FEEDBACK_FILE",
            "users_file": "RAG_USERS_FILE",
            "audit_log": "RAG_AUDIT_LOG",
        }
        for name, var in paths.items():
            if env.get(var):
                values[name] = Path(env[var])
        texts = {
            "chroma_url": "RAG_CHROMA_URL",
            "chroma_token": "RAG_CHROMA_TOKEN",
            "collection": "RAG_COLLECTION",
            "mode": "RAG_MODE",
            "embed_backend": "RAG_EMBED_BACKEND",
            "embed_bulk": "RAG_EMBED_BULK",
            "llm": "RAG_LLM",
            "model": "RAG_MODEL",
            "openai_base_url": "OPENAI_BASE_URL",
            "openai_api_key": "OPENAI_API_KEY",
            "proxy_user_header": "RAG_PROXY_USER_HEADER",
            "proxy_unknown_users": "RAG_PROXY_UNKNOWN_USERS",
        }
        for name, var in texts.items():
            if env.get(var):
                values[name] = env[var].strip()
        for name, var in ENV_NAMES.items():  # one table: names, variables and kinds agree
            if env.get(var):
                kind = int if LIMITS[name].whole else float
                try:
                    values[name] = kind(env[var])
                except ValueError as exc:
                    raise ConfigError(
                        f"{var}={env[var]!r} is not a number: fix or unset it."
                    ) from exc
        if env.get("RAG_TRUSTED_PROXIES", "").strip():
            proxies = env["RAG_TRUSTED_PROXIES"].split(",")
            values["trusted_proxies"] = tuple(p.strip() for p in proxies if p.strip())
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def queue_options(self) -> dict[str, int]:
        """The page's ``Blocks.queue(**...)`` arguments: how many wait, how many are answered."""
        return {"max_size": self.queue_size, "default_concurrency_limit": self.chat_concurrency}


def usable_folder(path: Path, variable: str, create: bool = True) -> None:
    """Create the folder a setting names (if ``create``), or raise a one-line ``ConfigError``
    saying why it cannot be one (a file in the way, a read-only or virtual file system)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"{variable}={path} cannot be a folder: {existing} is a file. Set {variable} to a "
            "folder you can write."
        )
    if not create:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{variable}={path} cannot be created ({exc.strerror or exc}): set {variable} to a "
            "folder you can write."
        ) from exc


def env_flag(name: str) -> str | None:
    """Read one variable (for the UI's host/port and similar launch options)."""
    return os.environ.get(name)
