"""A question's earlier sentences set the scene ("I'm building Docker images and ... . What flag
should I pass?"): a name there is the asker's situation, not what is asked, so the answer need
not name it. Users' questions over manuals are written so (pip's: "Docker", "CI"; git's: "a USB
drive"; gettext's: a shell script's "Saved"), and right answers were refused for it."""

from __future__ import annotations

import pytest

import rag
from rag import api
from rag.answering import judge
from rag.batching import shared_reader
from rag.config import Settings
from rag.entities import Term, asked, unknown_names
from rag.followup import condense_offline
from rag.questions import asked_sentences, asking_sentence, named_part, reader_question

FILLER = 60  # chunks enough for a name in one of them to be rare (entities.RARE_SHARE)


def term(word: str) -> Term:
    return Term(word, word.lower(), word.lower())


def test_names_of_the_asking_sentence_and_codes_are_asked() -> None:
    docker, linux, town = term("Docker"), term("Linux"), term("Veloria017")
    context = (
        "I'm building Docker images and don't want pip writing its cache. What flag do I pass?"
    )
    assert asked(context, [docker]) == []
    assert asked("Which flag do I pass when building Docker images?", [docker]) == [docker]
    # One sentence asks whatever it names, however it is introduced.
    assert asked("On a Linux box, where does pip keep its cache?", [linux]) == [linux]
    # A code singles out what is asked wherever it stands.
    assert asked("I live in Veloria017. Who is the mayor there?", [town]) == [town]
    # The asking sentence is the last that ends in "?", not a remark after it.
    assert asked("How do I use Docker here? I am on Linux.", [docker, linux]) == [docker]
    assert asked("I use Docker. I am on Linux. Tell me the cache flag.", [docker, linux]) == []
    # An asking sentence of one term names nothing itself: the statements say what it asks.
    assert asked("I use Docker. Tell me the flag.", [docker]) == [docker]


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("manual")
    docs = base / "docs"
    docs.mkdir()
    (docs / "caching.txt").write_text(
        "Caching\n\nDisabling the cache. pip's caching behaviour is disabled by passing the "
        "--no-cache-dir option.",
        encoding="utf-8",
    )
    (docs / "releases.txt").write_text(
        "Releases\n\nThe Docker image of the documentation site is rebuilt for every release.",
        encoding="utf-8",
    )
    for n in range(FILLER):
        (docs / f"widget_{n:02d}.txt").write_text(
            f"Widget {n}\n\nThe widget model {n} has {n + 3} bolts and a steel frame. It is "
            "painted grey and ships in a wooden crate.",
            encoding="utf-8",
        )
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


def test_a_name_in_the_scene_does_not_refuse_the_answer(manual: Settings) -> None:
    answer = rag.answer(
        "I'm building Docker images and don't want pip writing anything to its cache. "
        "Which option should I pass?",
        settings=manual,
    )
    assert not answer.refused, answer.text
    assert "--no-cache-dir" in answer.text
    assert answer.citations[0].source == "caching.txt"


def test_a_name_in_the_asking_sentence_still_must_be_answered_about(manual: Settings) -> None:
    answer = rag.answer(
        "Which option should I pass so that pip writes no cache inside Docker images?",
        settings=manual,
    )
    # The caching page never names Docker: no answer from it, as before.
    assert answer.refused or "Docker" in answer.citations[0].text, answer.text


def test_a_word_the_documents_never_write_refuses_only_in_the_asking_sentence(
    manual: Settings,
) -> None:
    scene = rag.answer(
        "We run pip on an air-gapped zorblax server. Which option disables pip's cache?",
        settings=manual,
    )
    assert not scene.refused, scene.text
    assert "--no-cache-dir" in scene.text
    asking = rag.answer("Which option disables pip's cache on a zorblax server?", settings=manual)
    assert asking.refused
    assert "never mention “zorblax”" in asking.text


def test_the_reader_reads_the_sentences_that_ask() -> None:
    scene = "A vendor only ships its tool as an .rpm file. How do I turn it into a .deb?"
    assert asked_sentences(scene) == "How do I turn it into a .deb?"
    # A remark after the question is no more read than one before it.
    assert asked_sentences("How do I use Docker here? I am on Linux.") == (
        "How do I use Docker here?"
    )
    # Two questions are both read: the second may say what the first's "that" is (a
    # follow-up's standalone form, rag/followup.py).
    twice = "Is that thread-safe? I ask for my server. How do I share a counter?"
    assert asked_sentences(twice) == "Is that thread-safe? How do I share a counter?"
    # Nothing ends in "?", one sentence, or every sentence asks: the question as written.
    for whole in (
        "I use Docker. Tell me the flag.",
        "Which flag do I pass when building Docker images?",
        "How long should the key be? Does a long key help?",
    ):
        assert asked_sentences(whole) == whole


def test_the_scene_finds_the_passages_but_is_not_read(manual: Settings) -> None:
    scene = (
        "I'm building Docker images and don't want pip writing anything to its cache. "
        "Which option should I pass?"
    )
    retrieved = api.retrieve_for_answer(scene, [], None, manual)
    reader = shared_reader()
    with_scene = {(j.start, j.end): j.logit for j in judge(scene, retrieved.read, reader)}
    asked_alone = {
        (j.start, j.end): j.logit
        for j in judge("Which option should I pass?", retrieved.read, reader)
    }
    common = with_scene.keys() & asked_alone.keys()
    assert common
    # The reader scores each sentence as it does for the asking sentence alone.
    assert all(with_scene[k] == pytest.approx(asked_alone[k], abs=1e-6) for k in common)


def test_an_asking_sentence_that_points_back_asks_about_the_scene() -> None:
    assert named_part("Our app runs on Kubernetes. How do I deploy it there?") == (
        "Our app runs on Kubernetes. How do I deploy it there?"
    )
    assert named_part("Our app runs on Kubernetes. How do I deploy the app?") == (
        "How do I deploy the app?"
    )
    oauth = term("OAuth")
    scene = "Users want to sign in through OAuth. How do I let them log in that way?"
    assert asked(scene, [oauth]) == [oauth]
    # "that", "this" and "there" are no pronoun that points back ("Is there a way ...").
    assert asked("I use OAuth. Is there a way to log in that way?", [oauth]) == []


def test_a_word_the_documents_never_write_refuses_when_the_question_points_back_at_it(
    manual: Settings,
) -> None:
    answer = rag.answer(
        "We run pip on a zorblax server. Which option disables pip's cache on it?",
        settings=manual,
    )
    assert answer.refused
    assert "never mention “zorblax”" in answer.text


def test_a_question_mark_inside_a_closing_bracket_or_quote_still_asks() -> None:
    for asking in ("How do I disable the cache?)", 'Is the flag called "--no-cache?"'):
        question = f"{asking} I use Docker."
        assert asking_sentence(question) == asking
        assert asked_sentences(question) == asking
    assert asking_sentence("我在用Docker。怎么关闭缓存？") == "怎么关闭缓存？"


def test_a_follow_ups_standalone_form_is_read_as_both_questions() -> None:
    # The offline rewrite puts the follow-up first and the question it leans on after it: the
    # reader reads both, and the names come from the earlier one ("git reset --hard"), which
    # says what "it" is.
    query = condense_offline(
        "How do I undo it? I ran it by mistake.", [("What does git reset --hard do?", "")]
    )
    assert asked_sentences(query) == "How do I undo it? What does git reset --hard do?"
    assert named_part(query) == "What does git reset --hard do?"


def test_an_asking_sentence_that_names_nothing_leans_on_the_statements(manual: Settings) -> None:
    question = "I want to deploy Quillctl on Nomad. How?"
    assert asked_sentences(question) == question
    assert named_part(question) == question
    assert asked_sentences("A vendor ships an .rpm file. How do I turn it into a .deb?") == (
        "How do I turn it into a .deb?"
    )
    answer = rag.answer(
        "I want pip to skip its cache on a zorblax server. Which option?", settings=manual
    )
    assert answer.refused
    assert "never mention “zorblax”" in answer.text


def test_a_statement_follow_up_is_read_with_the_question_it_leans_on(manual: Settings) -> None:
    assert reader_question("And the timeout.", "And the timeout. What is the default port?") == (
        "And the timeout. What is the default port?"
    )
    # Its scene is dropped, not the earlier question after it.
    assert reader_question(
        "I ask for my server. Is that thread-safe?",
        "I ask for my server. Is that thread-safe? How do I share a counter?",
    ) == ("Is that thread-safe? How do I share a counter?")
    retrieved = api.retrieve_for_answer(
        "And on a zorblax server.", [("Which option disables pip's cache?", "")], None, manual
    )
    assert retrieved.reading == "And on a zorblax server. Which option disables pip's cache?"


def test_marks_and_quotes_after_a_question_or_a_sentence_end(manual: Settings) -> None:
    for asking in ("What does `--no-cache?` do to downloads?", "What is the default port?!"):
        assert asked_sentences(f"I use Docker. {asking}") == asking
    # A sentence that ends inside a quote still ends: the next one's first word is no name.
    question = 'The log says "disk full." Suddenly the cache breaks. Why does it break?'
    vocabulary = api.engine(manual).lexical
    assert "Suddenly" not in unknown_names(question, vocabulary)
    assert "Zorblax" in unknown_names(question.replace("the cache", "Zorblax"), vocabulary)
