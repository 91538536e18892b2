"""A number is asked only by a sentence's first interrogative (rag/numbers.py): "How do I find out
how many bytes it needs?" asks for a way, and its answer ("ASN1_MEM_ERROR ... len will contain
the length needed") holds no number. The count check refused it."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.numbers import admits, holds_number_asked
from tests.documents import indexed


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How do I find out how many bytes it needs?", False),
        ("My buffer is too small. How do I find out how many bytes it needs?", False),
        ("How can I decode it and learn how many bytes were used?", False),
        ("How can I find out which version of git I have?", False),
        ("Where does it say what the maximum number of presets is?", False),
        # The phrase is the sentence's own question.
        ("How many worker processes does it start?", True),
        ("In a fileset pattern, how many characters does a ? match?", True),
        ("The server is slow. How many workers does it start?", True),
        ("Which version added the --fresh option?", True),
        ("What is the maximum number of blueprints an application can register?", True),
        ("So, how many workers?", True),
        # After a relative "where" or "which" the count is still the sentence's question.
        ("The area where the plant sits has been used for how many years?", True),
        ("The last change, which was how many years ago?", True),
    ],
)
def test_a_number_is_asked_only_by_a_sentences_first_interrogative(
    question: str, asks: bool
) -> None:
    wordless = "Run the size command first; it prints what the buffer needs."
    assert holds_number_asked(question, wordless) is not asks
    assert (admits(question) is not None) is asks


def test_a_way_to_learn_a_count_is_answered_without_one(tmp_path: Path) -> None:
    """Through a real index: the sentence that says how is the answer; before, the count check
    refused it for holding no number."""
    settings = indexed(
        tmp_path,
        {
            "encoding.md": "# Encoding\n\nThe encoder writes the structure into your output "
            "buffer. If the buffer is too small, the encoder returns MEM_ERROR and sets len to "
            "the length needed.\n",
            "tanks.md": "# Tanks\n\nThe tanks hold the water of the unit and are filled by the "
            "pump every morning.\n",
        },
    )
    answer = rag.answer(
        "The encoder fails because my buffer is too small. How do I find out how many bytes "
        "it needs?",
        settings=settings,
    )
    assert not answer.refused
    assert "the length needed" in answer.text
