"""A question that asks for a number (a count, a year, a version) is answered only by citations
that hold one (rag/numbers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.models import Answer, Citation
from rag.numbers import asks_count, asks_year_or_version, check, holds_count, holds_number_asked
from tests.documents import indexed


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How many worker processes does gunicorn start if I don't pass -w?", True),
        ("how  many characters does a ? match", True),
        ("What is the maximum number of blueprints an application can register?", True),
        ("What's the max number of presets?", True),
        ("Which is the largest allowed number of targets?", True),
        ("What is the minimum count of replicas?", True),
        # A count is not what these ask for.
        ("Which country received the largest number of refugees?", False),
        ("Which environment variable sets the maximum heap size of the JVM?", False),
        ("How much faster is Ninja than Make?", False),
        ("How do I stop the build when many tests fail?", False),
        ("Are the minimum and maximum values of an IntRange included?", False),
    ],
)
def test_a_count_is_asked_by_how_many_and_the_maximum_number(question: str, asks: bool) -> None:
    assert asks_count(question) is asks


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("By default, only 1 worker is started.", True),
        ("? matches one character.", True),
        ("The target is executed once.", True),
        ("It may be registered several times.", True),
        ("There is no limit on how many you register.", True),
        ("Any number of commands can be nested.", True),
        ("Both arguments are required.", True),
        ("Twelve presets ship with it.", True),
        ("Blueprints in Flask are intended for these cases:", False),
        ("Someone may phone them.", False),  # "one" inside a word is no number
        ("Registering them is often a good idea.", False),
    ],
)
def test_a_count_is_a_digit_a_number_word_or_a_word_for_one(text: str, holds: bool) -> None:
    assert holds_count(text) is holds


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Which version added the --fresh option?", True),
        ("In what year was the library first released?", True),
        ("What release introduced blueprints?", True),
        ("Which versions of Python are supported?", True),
        ("When was the library first released?", False),  # "after the war" answers a when
        ("In what century was it built?", False),  # "the first century"
        ("What is a version control system?", False),
    ],
)
def test_a_year_or_a_version_is_asked_by_what_year_and_which_version(
    question: str, asks: bool
) -> None:
    assert asks_year_or_version(question) is asks


def test_a_year_or_a_version_is_answered_by_a_digit_a_count_by_a_word_too() -> None:
    assert holds_number_asked("Which version added it?", "Added in version 3.5.")
    assert not holds_number_asked("Which version added it?", "It was added in version two.")
    assert not holds_number_asked("Which version added it?", "The flag is new.")
    assert holds_number_asked("How many are there?", "There are two.")
    assert holds_number_asked("What does it do?", "It prints the help.")  # no number asked


def test_a_manual_pages_section_number_is_no_version() -> None:
    """git's set: "Which version of git first shipped git switch?" was answered from "... the
    same options as the git-version(1) command", whose one digit names a manual's section."""
    asked = "Which version of git first shipped the git switch command?"
    assert not holds_number_asked(asked, "It accepts the options of the git-version(1) command.")
    assert not holds_number_asked(asked, "See printf(3) and ls(1p).")
    assert holds_number_asked(asked, "See git-switch(1), new in 2.23.")
    assert holds_number_asked("What year was it?", "printf(3) came in 1989.")
    # A number in parentheses after no name, or of two digits, is no section number.
    assert holds_number_asked(asked, "The format's version (2) added it.")
    assert holds_number_asked(asked, "It reads version(23) files.")
    # Only a year or a version: for a count, the section's digit is still a digit.
    assert holds_number_asked("How many pages are there?", "See git(1).")


def _answer(*texts: str) -> Answer:
    citations = [
        Citation(index=i + 1, source="a.md", text=t, start=0, end=len(t), score=0.9)
        for i, t in enumerate(texts)
    ]
    return Answer(question="q", text=" ".join(texts), citations=citations, confidence=0.9)


def test_an_answer_without_the_count_asked_for_is_a_refusal_showing_what_it_cited() -> None:
    question = "How many blueprints can an application register?"
    without = _answer("Blueprints in Flask are intended for these cases:", "They are modules.")
    refused = check(without, question)
    assert refused.refused and refused.citations == []
    assert [c.text for c in refused.closest] == [c.text for c in without.citations]
    # A count in any citation answers; another kind of question is never checked.
    second = _answer("Blueprints group views.", "An application may register 12 of them.")
    assert check(second, question) == second
    assert check(without, "What are blueprints for?") == without
    versioned = check(second, "Which version added blueprints?")  # "12" is a digit
    assert versioned == second
    assert check(without, "Which version added blueprints?").refused
    already = Answer(question="q", text="No.", refused=True)
    assert check(already, question) == already


def test_over_real_documents_a_count_is_answered_only_where_the_documents_give_one(
    tmp_path: Path,
) -> None:
    settings = indexed(
        tmp_path,
        {
            "workers.md": "# Workers\n\nThe server starts 4 worker processes by default. Each "
            "worker handles one request at a time.\n",
            "plugins.md": "# Plugins\n\nPlugins extend the server with new commands. A plugin "
            "is registered in the configuration file and loaded when the server starts.\n",
        },
    )
    counted = rag.answer("How many worker processes does the server start?", settings=settings)
    assert not counted.refused and "4 worker processes" in counted.text
    uncounted = rag.answer("How many plugins can the server register?", settings=settings)
    assert uncounted.refused and uncounted.citations == []
    assert any("plugin" in c.text.lower() for c in uncounted.closest)
    # The same documents answer a question that asks for no count.
    assert not rag.answer("How is a plugin registered?", settings=settings).refused


def test_a_follow_up_is_checked_for_the_number_it_asks_not_the_one_asked_before(
    tmp_path: Path,
) -> None:
    """A follow-up borrows the previous question's words to retrieve ("How do I change it?"
    after "How many ...?"); the number check reads only the question as asked."""
    settings = indexed(
        tmp_path,
        {
            "workers.md": "# Workers\n\nThe server starts worker processes to handle requests."
            "\n\n## Choosing their number\n\nSet the --workers option on the command line to "
            "choose another value.\n"
        },
    )
    first = "How many worker processes does the server start?"
    assert rag.answer(first, settings=settings).refused  # the documents give no number
    follow_up = rag.answer("How do I change it?", history=[(first, "")], settings=settings)
    assert not follow_up.refused  # checked as "How do I change it?": no number asked


def test_the_best_sentence_that_holds_the_number_answers(tmp_path: Path) -> None:
    """The reader judges whether a sentence is about the question: over Ant's manual, "how many
    characters does a ? match" was best met by "each line of the file is taken as a pattern"
    and refused, though "? matches one character" was read too. The number asked for now
    chooses among the sentences read (``admissible``), not after the best one was chosen."""
    from rag.answering import answer_extractive, judge
    from rag.reader import shared_reader

    settings = indexed(
        tmp_path,
        {
            "patterns.md": "# Patterns\n\nPatterns are used for the inclusion and exclusion of "
            "files. Each line of an includes file is taken as a pattern. A * matches zero or "
            "more characters, a ? matches one character.\n"
        },
    )
    question = "How many characters does a ? match in a pattern?"
    found = rag.retrieve(question, settings=settings)
    reader = shared_reader()
    best = judge(question, found, reader)[0].text
    # Whichever sentence the reader likes best, only an admissible one answers.
    wanted = "Patterns are used for the inclusion and exclusion of files."
    assert best != wanted
    chosen = answer_extractive(
        question, found, reader, refusal_threshold=0.0, admissible=lambda text: wanted in text
    )
    assert not chosen.refused and wanted in chosen.citations[0].text
    nothing = answer_extractive(
        question, found, reader, refusal_threshold=0.0, admissible=lambda text: False
    )
    assert nothing.refused and nothing.closest  # what was read is still shown


def test_a_question_asking_a_number_is_answered_from_sentences_that_hold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rag.answer passes the number check to the reader (rag/numbers.py ``admits``)."""
    import rag.api

    settings = indexed(
        tmp_path, {"workers.md": "# Workers\n\nThe server starts 4 worker processes by default.\n"}
    )
    seen: list[object] = []
    real = rag.api.answer_from_passages

    def spy(*args: object, **kwargs: object) -> Answer:
        seen.append(args[3] if len(args) > 3 else kwargs.get("admissible"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rag.api, "answer_from_passages", spy)
    rag.answer("How many worker processes does the server start?", settings=settings)
    rag.answer("What does the server start?", settings=settings)
    counted, plain = seen
    assert callable(counted) and plain is None
    assert counted("It starts 4 of them.") and not counted("It starts them.")


def test_a_section_lead_without_the_number_gives_way_to_a_sentence_with_it(
    tmp_path: Path,
) -> None:
    """A question that names a section's heading is answered by the section's lead: where the
    lead holds no number and a later sentence of the section does, the lead was cited and then
    refused for lacking it, so "How many worker processes does the server start?" was refused
    over a section that says "The server starts 4 worker processes"."""
    settings = indexed(
        tmp_path,
        {
            "workers.md": "# Server\n\nThe server handles requests.\n\n## Worker processes\n\n"
            "Workers handle requests in parallel. They are started by the arbiter when the "
            "server boots.\n\nThe server starts 4 worker processes by default.\n"
        },
    )
    counted = rag.answer("How many worker processes does the server start?", settings=settings)
    assert not counted.refused
    assert "starts 4 worker processes" in counted.citations[0].text
    # A question that asks no number is still answered by the lead.
    plain = rag.answer("What do worker processes do?", settings=settings)
    assert "Workers handle requests in parallel." in plain.citations[0].text
