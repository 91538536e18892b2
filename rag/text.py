"""Text normalisation shared by lexical search, sentence scoring and evaluation."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_EN) | {
    "what", "who", "whom", "which", "when", "where", "why", "how", "did", "does", "do",
    "is", "was", "were", "are", "has", "have", "had", "can", "could", "would", "should",
    "about", "from", "its", "it's", "s", "tell", "me", "much", "many",
}  # fmt: skip


def brief(text: str, limit: int = 200, words: bool = False) -> str:
    """``text`` on one line of at most ``limit`` characters, cut with "…": an error message in
    a skip reason (an exception may carry a whole damaged stream) or a quote in the terminal.
    ``words``: cut after a whole word (a quote of a document), unless that would keep less than
    half the limit (a long URL or code token: cut inside it)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    if words:
        # Words past the limit are never kept: only the text up to the first word end past it
        # is wrapped (textwrap over a whole 100 KB heading took 20 ms, at each of its chunks).
        end = line.find(" ", limit + 1)
        shortened = textwrap.shorten(line if end < 0 else line[:end], limit, placeholder="…")
        if len(shortened) > limit // 2:
            return shortened
    return line[: limit - 1] + "…"


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes from a terminal or a file) as "?": the
    tokenizers refuse them with a bare ``TypeError``."""
    return text.encode("utf-8", "replace").decode("utf-8")


def fold(text: str) -> str:
    """Lower case without accents: 'Vučić' -> 'vucic'."""
    if text.isascii():  # no accents to take off (NFKD leaves ASCII as it is): the same result
        return text.casefold()
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


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def matched_terms(wanted: set[str], vocabulary: set[str], min_fuzzy_len: int = 4) -> set[str]:
    """The ``wanted`` terms present in ``vocabulary``, allowing one typo in terms of 4+ letters."""
    found = wanted & vocabulary
    for term in wanted - found:
        if len(term) >= min_fuzzy_len and any(
            len(v) >= min_fuzzy_len and one_edit_apart(term, v) for v in vocabulary
        ):
            found.add(term)
    return found
