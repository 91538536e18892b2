"""Odd inputs to the public Python API and the LangChain chain, found by the attack review: long
conversations, oversized history turns, questions that are not text. A real index (Chroma in
tmp_path, the real embedding model) of two small documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import rag
from rag.api import HISTORY_ITEMS, retrieve_for_answer
from rag.config import Settings
from rag.errors import QuestionError

FREEDONIA = "The capital of Freedonia is Barville, a port city on the northern coast.\n"
SYLVANIA = "Sylvania exports cheese and timber to its neighbours every spring.\n"
CAPITAL = "The capital of Freedonia is Barville, a port city on the northern coast."


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    base = tmp_path_factory.mktemp("api-faults")
    (base / "docs").mkdir()
    (base / "docs" / "a.txt").write_text(FREEDONIA, encoding="utf-8")
    (base / "docs" / "b.txt").write_text(SYLVANIA, encoding="utf-8")
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store")
    rag.ingest(settings=settings)
    yield settings


def test_a_long_conversation_of_follow_ups_is_answered(small: Settings) -> None:
    """Was: RecursionError from rag.answer once the history held about 1,000 follow-ups that
    each refer back (the offline rewrite walks back through them one call deeper each)."""
    history = [("and its capital?", CAPITAL)] * 3000
    answer = rag.answer("And what is its capital?", history=history, settings=small)
    assert answer.citations[0].text == CAPITAL


def test_an_oversized_history_turn_is_cut_like_a_question(small: Settings) -> None:
    """Was: a 250,000-character earlier question went whole into the search (the question
    itself is cut at RAG_MAX_QUESTION_CHARS): 10 s per answer here, 40 times that many turns."""
    history = [("Tell me about Freedonia " * 10_000, "x" * 100_000)] * 200
    retrieved = retrieve_for_answer("and its exports?", history, None, small)
    assert retrieved.query.startswith("and its exports? Tell me about Freedonia")
    assert len(retrieved.query) == small.max_question_chars


def test_only_the_recent_turns_are_read(small: Settings) -> None:
    turns = [(f"question {n}", f"answer {n}") for n in range(100)]
    assert rag.api.recent_history(turns) == turns[-HISTORY_ITEMS:]
    assert rag.api.recent_history("What is the capital of Freedonia?") == (
        "What is the capital of Freedonia?"
    )
    assert rag.api.recent_history(None) == ()


@pytest.mark.parametrize(
    ("history", "kind"), [(5, "int"), (b"earlier", "bytes"), (object(), "object")]
)
def test_a_history_that_is_not_a_list_of_turns_is_one_line(
    small: Settings, history: Any, kind: str
) -> None:
    with pytest.raises(QuestionError) as caught:
        rag.answer("and its capital?", history=history, settings=small)
    assert str(caught.value) == (
        f"history must be a list of earlier turns (got {kind}): pass (question, answer) pairs "
        "or {'role': ..., 'content': ...} messages."
    )


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (
            b"What is the capital of Freedonia?",
            "The question is bytes, not text: decode it first (question.decode('utf-8', "
            "'replace')).",
        ),
        (42, "The question must be text (a str), not int."),
        (None, "Ask a question: the question is empty."),
        ("  ", "Ask a question: the question is empty."),
    ],
)
def test_a_question_that_is_not_text_says_so(small: Settings, question: Any, message: str) -> None:
    """Was: "the question is empty" for bytes or a number, which sends the user looking for
    an empty string."""
    for call in (rag.answer, rag.retrieve):
        with pytest.raises(QuestionError) as caught:
            call(question, settings=small)
        assert str(caught.value) == message


@pytest.mark.parametrize("inputs", [None, ["What is the capital?"], b"What is the capital?"])
def test_the_chain_refuses_inputs_of_another_shape_in_one_line(
    small: Settings, inputs: Any
) -> None:
    """Was: AttributeError: 'NoneType' object has no attribute 'get' (a traceback from inside
    LangChain)."""
    chain = rag.build_chain(settings=small)
    with pytest.raises(QuestionError) as caught:
        chain.invoke(inputs)
    assert str(caught.value) == (
        "The chain takes a question (a str) or {'question': ..., 'history': [...]}, not "
        f"{type(inputs).__name__}."
    )
    answer = chain.invoke({"question": "What is the capital of Freedonia?", "history": []})
    assert answer.citations[0].text == CAPITAL


@pytest.mark.parametrize(
    "history",
    [
        ["What is the capital of Freedonia? \udcc3"],
        [("What is the capital of Freedonia? \ud800", "Barville \udcff [1]")],
        [{"role": "user", "content": "What is the capital of Freedonia? \udcc3"}],
    ],
)
def test_a_history_turn_with_lone_surrogates_is_read_like_a_question(
    small: Settings, history: Any
) -> None:
    """Found by the third attack review: a lone surrogate in the question is replaced
    (prepare_question), but one in an earlier turn (a line read with surrogateescape, a JSON
    "\\ud800") went on into the tokenizer: TypeError: TextEncodeInput must be Union[...] out of
    rag.answer, not a RagError."""
    answer = rag.answer("and its capital?", history=history, settings=small)
    assert not answer.refused
    assert answer.citations[0].text == CAPITAL
    query = retrieve_for_answer("and its capital?", history, None, small).query
    assert query.encode("utf-8").decode("utf-8") == query  # no lone surrogate left
