"""What the reader model reads: one question and one sentence seen with its context.

Training (train/) and answering (rag/reader.py) build the pair with this one function, so that
the model sees at answer time exactly the shape of text it was trained on.
"""

from __future__ import annotations

# Context words kept: the title's first words and the previous sentence's last words.
TITLE_WORDS = 12
BEFORE_WORDS = 12
MAX_TOKENS = 128


def reader_pair(
    question: str, sentence: str, *, title: str = "", before: str = ""
) -> tuple[str, str]:
    """``(question, "title | …previous words | sentence")``: the sentence always comes last."""
    title_words = title.split()[:TITLE_WORDS]
    before_words = before.split()[-BEFORE_WORDS:]
    context = " ".join(title_words)
    if before_words:
        context = (
            f"{context} | … {' '.join(before_words)}" if context else f"… {' '.join(before_words)}"
        )
    second = f"{context} | {' '.join(sentence.split())}" if context else " ".join(sentence.split())
    return " ".join(question.split()), second


def document_title(text: str) -> str:
    """A document's first line when it reads as a heading (short, no closing full stop), else ""."""
    stripped = text.lstrip()
    first, _, rest = stripped.partition("\n")
    first = first.strip().lstrip("#").strip()
    if not rest.strip() or not first or len(first) > 120 or first[-1] in ".!?:;,":
        return ""
    return first
