"""Long questions (issue 20, item 5): the reader's input is cut to fit, never a crash.

The tokenizer cuts only the second part of a pair (the sentence); a question over the reader's
128 tokens used to fail with "Truncation error". ``reader_pair`` (the one function training uses
too) now cuts the question to its budget and the sentence to its own.
"""

from __future__ import annotations

import json

import pytest

import rag
from rag.cli import main
from rag.config import Settings
from rag.reader import shared_reader
from rag.reader_input import (
    QUESTION_TOKENS,
    SENTENCE_WORDS,
    TITLE_WORDS,
    fit_question,
    reader_pair,
)

# About 700 characters of a real-sounding question (~150 tokens).
LONG = (
    "Who is the president of Serbia? I am asking because I am writing a report for my class "
    "about the relations between Serbia, Russia and the European Union, and I would like to "
    "know the name of the head of state who will be talking to the Russian leader, what the "
    "two of them said about energy supplies and gas prices in the last few weeks, whether the "
    "talks took place over the telephone or in person, what the other members of the group "
    "of countries think about the summit in Kazan, and whether the delegation from Serbia was "
    "led by the president himself or by somebody else from the government, because the news "
    "reports that I have read so far seem to disagree with each other about it. Thank you so much!"
)
# 20,000 characters: words, numbers and punctuation, thousands of tokens.
HUGE = "Who is the president of Serbia? " + ("Tell me, (again!) about 2024's talks; " * 600)


def tokens(text: str) -> int:
    return len(shared_reader()._tokenizer.encode(text, add_special_tokens=False).ids)


def test_normal_pairs_are_unchanged() -> None:
    question = "Which Russian leader will the Serbian head of state be talking to?"
    sentence = "Vučić said he would speak with Vladimir Putin over the telephone."
    assert reader_pair(question, sentence, title="Kazan summit", before="He said so.") == (
        question,
        "Kazan summit | … He said so. | " + sentence,
    )
    assert fit_question(question) == question


def test_the_context_keeps_the_previous_sentences_last_words() -> None:
    """Of a long previous sentence, the words right before the sentence are context (its
    first words may be about something else entirely)."""
    before = " ".join(f"w{i}" for i in range(30))
    _, second = reader_pair("q?", "The sentence.", before=before)
    assert second == "… " + " ".join(f"w{i}" for i in range(18, 30)) + " | The sentence."


def test_a_long_section_path_keeps_its_most_specific_heading() -> None:
    """A section path longer than the title's budget loses its first words, never its last
    heading (the one that names what the sentence describes)."""
    path = (
        "cmake_host_system_information > Query host system specific information > "
        "Fallback Interface Variables > CMAKE_GET_OS_RELEASE_FALLBACK_SCRIPTS"
    )
    _, second = reader_pair("Which variable?", "A list of scripts.", title=path)
    assert second == (
        "Query host system specific information > Fallback Interface Variables > "
        "CMAKE_GET_OS_RELEASE_FALLBACK_SCRIPTS | A list of scripts."
    )
    assert len(second.split()) - 5 == TITLE_WORDS - 1  # the cut's leading ">" is dropped
    # Twelve words or fewer: the whole title.
    _, whole = reader_pair("q", "s", title="Node.js > Path > path.extname(path)")
    assert whole == "Node.js > Path > path.extname(path) | s"


@pytest.mark.parametrize("question", [LONG, HUGE[:20_000], "!" * 700, "a.b " * 5000])
def test_a_long_question_is_cut_to_its_budget_and_scored(question: str) -> None:
    assert len(question) >= 700
    first, second = reader_pair(question, "word " * 5000, title="Title")
    assert tokens(first) <= QUESTION_TOKENS
    assert " ".join(question.split()).startswith(first)
    assert len(second.split()) <= SENTENCE_WORDS + 2  # the title and its separator
    [logit] = shared_reader().logits([(first, second)])
    assert -100.0 < float(logit) < 100.0


def test_a_cut_question_ends_at_a_whole_word() -> None:
    first, _ = reader_pair(LONG, "sentence")
    assert first.startswith("Who is the president of Serbia?") and len(first) < len(LONG)
    assert LONG[len(first)] == " "  # the next character starts a word: none was cut in two


@pytest.mark.slow
@pytest.mark.parametrize("question", [LONG, HUGE])
def test_api_answers_a_long_question(seeded: Settings, question: str) -> None:
    result = rag.answer(question, settings=seeded)
    assert result.question == " ".join(question.split())[: seeded.max_question_chars]
    assert result.refused is (result.citations == [])
    if not result.refused:
        assert "Vučić" in result.text
        source = rag.document_text(result.citations[0].source, settings=seeded)
        assert all(source[c.start : c.end] == c.text for c in result.citations)


@pytest.mark.slow
@pytest.mark.parametrize("question", [LONG, HUGE])
def test_cli_asks_a_long_question(
    seeded: Settings,
    question: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_DOCS_DIR", str(seeded.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(seeded.store_dir))
    assert main(["ask", question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == " ".join(question.split())[: seeded.max_question_chars]
    assert data["refused"] is (data["citations"] == [])
