"""One error family. Every message says how to fix the problem."""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error the rag package raises on purpose."""


class ConfigError(RagError):
    """A setting is missing or has a value we cannot use."""


class DocumentsError(RagError):
    """The documents folder is missing, empty or unreadable."""


class QuestionError(RagError):
    """The question cannot be answered as asked (empty, for example)."""


class StoreError(RagError):
    """The vector store or lexical index cannot be reached or is damaged."""


class LLMError(RagError):
    """The language-model backend failed (no key, wrong URL, rate limit, ...)."""


class StoreBusyError(StoreError):
    """Another process (or thread) is writing the index and did not finish in time."""


class StoreDamagedError(StoreError):
    """A file of the index cannot be read (truncated, garbled, or not a file)."""


class DiskFullError(StoreError):
    """The disk holding the index has no space left."""
