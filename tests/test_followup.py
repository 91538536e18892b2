"""Follow-up questions: merged with the last one only when they refer back to it."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.followup import condense_offline, refers_back

QUUX = (
    "The quux tower stands in the old harbour of Pellham. "
    "The quux tower is 312 metres tall and was finished in 1931. "
    "Its lantern room is open to visitors in summer."
)
GROMMET = (
    "The grommet bridge is a cable-stayed crossing of the river Lune near Pellham. "
    "It carries two railway tracks and a footpath. "
    "The grommet bridge opened to trains in 1988."
)
KOSOVO = (
    "Talks on Kosovo resumed in Brussels this week. "
    "The Kosovo delegation asked for guarantees on energy supplies. "
    "Mediators from the European Union chaired the meeting."
)


@pytest.mark.parametrize(
    ("question", "refers"),
    [
        ("How tall is it?", True),
        ("And what about Kosovo?", True),
        ("What about the bridge?", True),
        ("Liberation from whom?", True),
        ("When did he arrive there?", True),
        ("What is the grommet bridge?", False),
        ("Who finished the quux tower?", False),
        ("Who is the president of Serbia?", False),
    ],
)
def test_a_question_refers_back_by_pronoun_opening_or_ellipsis(question: str, refers: bool) -> None:
    assert refers_back(question) is refers


def test_only_a_referring_question_borrows_the_last_one() -> None:
    history = [("How tall is the quux tower?", "312 metres [1]")]
    assert condense_offline("What is the grommet bridge?", history) == "What is the grommet bridge?"
    assert condense_offline("When was it finished?", history) == (
        "When was it finished? How tall is the quux tower?"
    )
    assert condense_offline("When was it finished?", []) == "When was it finished?"


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("towns")
    docs = base / "docs"
    docs.mkdir()
    for name, text in (("quux.txt", QUUX), ("grommet.txt", GROMMET), ("kosovo.txt", KOSOVO)):
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


@pytest.mark.slow
def test_an_unrelated_question_is_answered_on_its_own(towns: Settings) -> None:
    history = [("How tall is the quux tower?", "The quux tower is 312 metres tall. [1]")]
    result = rag.answer("What is the grommet bridge?", history=history, settings=towns)
    assert not result.refused
    assert {c.source for c in result.citations} == {"grommet.txt"}


@pytest.mark.slow
def test_a_pronoun_follow_up_answers_about_the_last_topic(towns: Settings) -> None:
    history = [{"role": "user", "content": "What is the quux tower?"}]
    result = rag.answer("When was it finished?", history=history, settings=towns)
    # The sentence the reader judged best (cited, or shown as closest: "quux" is a made-up word,
    # so the dense similarity that the confidence weighs is low in this toy corpus).
    best = (result.citations or result.closest)[0]
    assert best.source == "quux.txt"
    assert best.text == "The quux tower is 312 metres tall and was finished in 1931."
    alone = rag.answer("When was it finished?", settings=towns)
    assert (alone.citations or alone.closest)[0].text != best.text or alone.refused


@pytest.mark.slow
def test_and_what_about_x_retrieves_x(towns: Settings, tmp_path: Path) -> None:
    history = [("When did the grommet bridge open to trains?", "In 1988. [1]")]
    passages = rag.retrieve("And what about Kosovo?", history=history, k=3, settings=towns)
    assert passages[0].chunk.source == "kosovo.txt"
