"""What the reader reads (rag/reader_input.py) with the shipped tokenizer: a long question is cut
at a word's end, never inside a word, and a document's first line is its title only when it
reads as a heading (not a line ending in a colon, not the document's only line), which a section
path then starts with. A question of few characters but many tokens is cut too, one written over
several lines is cut at a word end, and a Markdown heading's hashes are no part of the title.

Tests written for deliberate bugs a review planted in rag/reader_input.py that the suite let
through."""

from __future__ import annotations

from rag.chunking import chunk_document
from rag.loaders import Block
from rag.reader_input import (
    QUESTION_TOKENS,
    _tokenizer,
    document_title,
    fit_question,
    reader_pair,
)


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


def test_a_short_question_of_many_tokens_is_still_cut_to_its_budget() -> None:
    """A question under 256 characters but over the token budget ("x.x.x...") is cut, so the
    reader never fails on a first part it cannot cut."""
    question = "x." * 60  # 120 characters, 120 tokens
    cut = fit_question(question)
    assert len(_tokenizer().encode(cut, add_special_tokens=False).ids) == QUESTION_TOKENS


def test_a_long_question_over_several_lines_is_cut_at_a_word_end() -> None:
    """A pasted question whose words are split by new lines is cut after a whole word."""
    question = "\n".join(["unbelievablyx"] * 40)  # six tokens a word
    first, _ = reader_pair(question, "The valve opens.")
    assert first and set(first.split(" ")) == {"unbelievablyx"}


def test_a_markdown_heading_line_is_the_title_without_its_hashes() -> None:
    """A Markdown document's "# Pump manual" line gives the title "Pump manual"."""
    assert document_title("# Pump manual\n\nThe relief valve opens at 4 bar.") == "Pump manual"
