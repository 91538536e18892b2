"""What the reader model reads: one question and one sentence seen with its context.

Training (train/) and answering (rag/reader.py) build the pair with this one function, so that
the model sees at answer time exactly the shape of text it was trained on.

The pair fits the reader's input: the tokenizer cuts only the second part (the sentence's end),
so the question is cut to ``QUESTION_TOKENS`` here (a longer first part cannot be cut there and
fails), and the sentence to ``SENTENCE_WORDS`` words (every word is at least one token, so the
tokenizer would drop the rest anyway). A pair of normal size is left as it is: the longest
question of the training data has 45 tokens.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

# Context words kept: the title's last words (a section path ends with its most specific heading,
# "cmake_host_system_information > ... > CMAKE_GET_OS_RELEASE_FALLBACK_SCRIPTS") and the previous
# sentence's last words.
TITLE_WORDS = 12
BEFORE_WORDS = 12
MAX_TOKENS = 128
# The question's share of the input: at most half, the rest is the sentence in its context.
QUESTION_TOKENS = MAX_TOKENS // 2
# Words of the sentence kept: more could never reach the model (each word is >= 1 token).
SENTENCE_WORDS = MAX_TOKENS
# The shipped reader's tokenizer (the base model's vocabulary, which training uses as well).
TOKENIZER = Path(__file__).parent / "reader_model" / "tokenizer.json"
_lock = threading.Lock()
# What joins the headings of a section path (rag.chunking.SECTION_SEPARATOR, with spaces).
SECTION_MARK = ">"
# How to restore a missing or damaged part of the shipped reader (every ConfigError about it).
REBUILD = "reinstall rag-offline (pip install -e .) or rebuild the reader with: python -m train"


def reader_pair(
    question: str, sentence: str, *, title: str = "", before: str = ""
) -> tuple[str, str]:
    """``(question, "title | …previous words | sentence")``: the sentence always comes last."""
    title_words = title.split()[-TITLE_WORDS:]
    if title_words and title_words[0] == SECTION_MARK:
        title_words = title_words[1:]  # a cut path starts at a heading, not at its separator
    before_words = before.split()[-BEFORE_WORDS:]
    context = " ".join(title_words)
    if before_words:
        context = (
            f"{context} | … {' '.join(before_words)}" if context else f"… {' '.join(before_words)}"
        )
    body = " ".join(sentence.split()[:SENTENCE_WORDS])
    second = f"{context} | {body}" if context else body
    return fit_question(" ".join(question.split())), second


def fit_question(question: str, budget: int = QUESTION_TOKENS) -> str:
    """The question cut to ``budget`` tokens of the reader (at a word end where there is one).

    A token spans at least one character, so a question of at most ``budget`` characters
    is kept without tokenizing it.
    """
    if len(question) <= budget:
        return question
    encoding = _tokenizer().encode(question, add_special_tokens=False)
    if len(encoding.ids) <= budget:
        return question
    end = encoding.offsets[budget - 1][1]
    cut = question[:end]
    if end < len(question) and not question[end].isspace():
        # Tokens of the next word would be cut off: end at the last whole word, if any.
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip()


def open_tokenizer(path: Path) -> Any:
    """The reader's tokenizer from ``path``, neither truncating nor padding (callers choose),
    or a ConfigError saying how to restore it."""
    from tokenizers import Tokenizer

    from rag.errors import ConfigError

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on a bad file
        raise ConfigError(
            f"The reader's tokenizer {path} is missing or damaged: {REBUILD}."
        ) from exc
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=1)
def _load_tokenizer(path: Path) -> Any:
    return open_tokenizer(path)


def _tokenizer() -> Any:
    with _lock:
        return _load_tokenizer(TOKENIZER)


def word_pieces(word: str) -> int:
    """How many pieces the reader's vocabulary spells ``word`` in: one for a word general English
    writes often ("email"), several for a rare one ("yaml": "ya", "##ml")."""
    return len(_tokenizer().encode(word, add_special_tokens=False).ids)


def document_title(text: str) -> str:
    """A document's first line when it reads as a heading (short, no closing full stop), else ""."""
    stripped = text.lstrip()
    first, _, rest = stripped.partition("\n")
    first = first.strip().lstrip("#").strip()
    if not rest.strip() or not first or len(first) > 120 or first[-1] in ".!?:;,":
        return ""
    return first
