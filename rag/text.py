"""Text normalisation shared by lexical search, sentence scoring and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_EN) | {
    "what", "who", "whom", "which", "when", "where", "why", "how", "did", "does", "do",
    "is", "was", "were", "are", "has", "have", "had", "can", "could", "would", "should",
    "about", "from", "its", "it's", "s", "tell", "me", "much", "many",
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents: 'Vučić' -> 'vucic'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Folded word tokens, stop words kept."""
    return _TOKEN.findall(fold(text))


def terms(text: str) -> list[str]:
    """Folded, stemmed content terms (stop words dropped) for lexical matching."""
    tokens = [t for t in words(text) if t not in STOPWORDS]
    return list(_stemmer().stemWords(tokens))  # type: ignore[attr-defined]
