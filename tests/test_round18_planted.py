"""Round 18's planted bugs that the other tests let through, each seen failing on its mutant:

- rag/entities.py ``unknown_names``: an identifier asked twice listed twice (``word in found``
  dropped); identifiers not counted towards ``MAX_NAMES_CHECKED`` (``checked += 1`` dropped),
  or one fewer looked up (``>=``); ``limit`` passed by one (``>``).
- rag/entities.py ``_known_identifier``: a placeholder form looked up only from the third part
  on (``range(2, ...)``: "<PROJECT>_SOURCE_DIR" no longer knows "MYLIB_SOURCE_DIR").
- rag/entities.py ``_identifier``: a capitalised word taken for code (``islower`` dropped):
  "GitHub" opening a question was refused, where the name rule leaves a sentence's first word.
- rag/entities.py ``refuse``: only the first of several unknown names said; a refusal with no
  unknown name saying "they never mention ." (``if unknown`` dropped).
- rag/api.py ``answer_from_passages``: ``admissible`` not passed on to the reader: the best
  sentence, without the number asked for, was chosen and then refused.
- rag/numbers.py ``admits``: a year or version question admitting a count word (``_COUNT``
  for ``_DIGIT``).
- rag/answering.py ``answer_extractive``: the answer's sentences chosen from all those read,
  not the admissible ones (``answer_spans(..., judged, ...)``); an admissible sentence exactly
  at the threshold refused (``<=``).
- rag/sync.py: the fence before ``ensure_search_ef`` dropped: a server-mode writer that had
  lost its lease changed the vector index's configuration before it was stopped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.answering import answer_extractive, judge
from rag.api import engine, shared_embedder
from rag.catalog import ServerCatalog
from rag.config import Settings
from rag.entities import MAX_NAMES_CHECKED, refuse, unknown_names
from rag.errors import StoreBusyError
from rag.lexical import LexicalIndex
from rag.models import Answer
from rag.numbers import admits
from rag.reader import shared_reader
from rag.store import SEARCH_EF
from rag.sync import Syncer
from tests.test_structured_answers import CARGO, structured


def _lexical(tmp_path: Path) -> LexicalIndex:
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build(
        [
            ("a", "add_custom_command() adds a rule to the build."),
            ("b", "<PROJECT>_SOURCE_DIR is the source folder of a project."),
        ]
    )
    return lexical


def test_unknown_identifiers_are_listed_once_counted_and_limited(tmp_path: Path) -> None:
    lexical = _lexical(tmp_path)
    assert unknown_names("Does ctest_upload call ctest_upload twice?", lexical) == ["ctest_upload"]
    assert unknown_names("Do foo_bar and baz_qux exist?", lexical, limit=1) == ["foo_bar"]
    many = " and ".join(f"zq_{chr(97 + i)}{chr(97 + j)}" for i in range(5) for j in range(5))
    assert len(unknown_names(f"Do {many} exist?", lexical)) == MAX_NAMES_CHECKED


def test_an_identifier_is_known_by_a_placeholder_for_its_first_part(tmp_path: Path) -> None:
    lexical = _lexical(tmp_path)
    # The documents write "<PROJECT>_SOURCE_DIR" (indexed "project", "_source_dir").
    assert unknown_names("What is MYLIB_SOURCE_DIR?", lexical) == []
    assert unknown_names("What is MYLIB_BINARY_DIR?", lexical) == ["MYLIB_BINARY_DIR"]


def test_a_capitalised_word_is_left_to_the_name_rule(tmp_path: Path) -> None:
    lexical = _lexical(tmp_path)
    assert unknown_names("GitHub hosts the code?", lexical) == []  # a sentence's first word
    assert unknown_names("Is the code hosted on GitHub?", lexical) == ["GitHub"]


def test_a_refusal_names_every_unknown_name() -> None:
    answer = Answer(question="q", text="An answer.", citations=[], confidence=0.5)
    assert refuse(answer).text == "The documents do not contain an answer to this question."
    refused = refuse(answer, ["Zorblatt", "Quux"])
    assert refused.refused
    assert refused.text == (
        "The documents do not contain an answer to this question: they never mention "
        "“Zorblatt”, “Quux”."
    )


def test_a_version_question_admits_only_a_digit() -> None:
    wanted = admits("Which version added the flag?")
    assert wanted is not None
    assert wanted("It was added in 2.1.")
    assert not wanted("It was added several releases ago.")


def test_the_threshold_is_met_by_the_best_admissible_sentence() -> None:
    _, passage = structured(CARGO, "The Cargo Book > Hello, Cargo!")
    question = "What command builds the project?"
    reader = shared_reader()
    judged = judge(question, [passage], reader)
    wanted = "The first command creates a new directory"
    low = next(j.probability for j in judged if j.text.startswith(wanted))
    assert low < judged[0].probability  # the reader likes another sentence better

    def admissible(text: str) -> bool:
        return wanted in text

    def answer(threshold: float) -> Answer:
        return answer_extractive(
            question, [passage], reader, refusal_threshold=threshold, admissible=admissible
        )

    # Above the admissible sentence's probability (below the best one's): a refusal.
    assert answer((low + judged[0].probability) / 2).refused
    # At it: the admissible sentence answers, with its own probability as confidence.
    met = answer(low)
    assert not met.refused and wanted in met.citations[0].text
    assert met.confidence == round(low, 4)


def test_a_writer_that_lost_its_lease_leaves_the_search_setting_alone(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The server starts four worker processes.\n", encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    eng = engine(settings)
    eng.store.collection.modify(configuration={"hnsw": {"ef_search": 100}})  # an older store
    catalog = ServerCatalog(eng.store)
    syncer = Syncer(settings, eng.store, eng.lexical, shared_embedder(settings), catalog=catalog)
    with pytest.raises(StoreBusyError, match="lost the writer lease"), catalog.lease(5):
        marker = eng.store.marker(f"{eng.store.name}__lease")
        assert marker is not None
        eng.store.drop_marker(f"{eng.store.name}__lease", marker[0])  # another writes now
        syncer.sync(docs)
    hnsw = eng.store.client.get_collection(eng.store.name).configuration_json["hnsw"]
    assert hnsw["ef_search"] == 100 < SEARCH_EF


def test_rag_answer_takes_the_best_sentence_that_holds_the_number(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploy.md").write_text(
        "# Deployment\n\nThe server starts worker processes to handle requests, and the arbiter "
        "restarts a worker that dies.\n\nLogs go to standard error unless a log file is set."
        "\n\nBy default the server runs 4 workers.\n",
        encoding="utf-8",
    )
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store", refusal_threshold=0.05)
    rag.ingest(settings=settings)
    question = "How many worker processes does the server start?"
    best = judge(question, rag.retrieve(question, settings=settings), shared_reader())[0]
    assert "4" not in best.text  # the reader likes a sentence without the number better
    answer = rag.answer(question, settings=settings)
    assert not answer.refused
    assert answer.citations[0].text == "By default the server runs 4 workers."
