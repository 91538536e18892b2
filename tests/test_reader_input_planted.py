"""What the reader reads (rag/reader_input.py) with the shipped tokenizer: a long question is
cut at a word's end, never inside a word, and a document's first line is its title only when it
reads as a heading (not a line ending in a colon, not the document's only line), which a
section path then starts with.

Tests written for deliberate bugs a review planted in rag/reader_input.py that the suite let
through."""

from __future__ import annotations

from rag.chunking import chunk_document
from rag.loaders import Block
from rag.reader_input import QUESTION_TOKENS, _tokenizer, document_title, fit_question


def test_a_long_question_is_cut_at_the_end_of_a_whole_word() -> None:
    words = ["pump"] * 62
    question = " ".join([*words, "Kazanskayaploshchadovichevskaya", "opens"])
    tokens = _tokenizer().encode(question, add_special_tokens=False)
    assert len(tokens.ids) > QUESTION_TOKENS  # the budget ends inside the long word
    assert fit_question(question) == " ".join(words)


def test_a_first_line_is_a_title_only_when_it_reads_as_a_heading() -> None:
    assert document_title("Pump manual\n\nThe relief valve opens at 4 bar.") == "Pump manual"
    assert document_title("Before you start:\n\nOpen the valve.") == ""
    assert document_title("Pump manual") == ""  # a document of one line has no title line


def section_of(text: str) -> str:
    block = Block(0, len(text), "paragraph", ("Setup",))
    (chunk,) = chunk_document("p.pdf", text, size=700, overlap=0, blocks=(block,))
    return chunk.section


def test_the_section_path_starts_with_the_title_line_only() -> None:
    assert section_of("Pump manual\n\nOpen the valve.") == "Pump manual > Setup"
    assert section_of("Before you start:\n\nOpen the valve.") == "Setup"
    assert section_of("Open the relief valve") == "Setup"
