"""A word the documents write only inside web addresses is no name of a question (rag/api.py
``question_names``, rag/entities.py ``written_outside_urls``; round 23).

CamlIDL's 2002 manual says "Caml"; 15 of 20 questions written for it blind say "OCaml", which
the manual writes only in "1http://caml.inria.fr/ocaml/htmlman/index.html" (a footnote's
marker glued to it). A rare name of the question must be named where the answer is cited, so
13 answerable questions were refused. Real Chroma in tmp_path and the packaged embedding model;
codes ("Veloria017") are tests/test_entities.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag import Settings
from rag.api import ensure_index, question_names
from rag.entities import Term, written_outside_urls

POINTERS = (
    "# Pointers\n\nIDL pointers of kind unique are mapped to an option type. The option value "
    "is None for a null pointer, and Some(v) for a non-null pointer to a value.\n"
)
# "ocaml" only in a URL, after a footnote's marker; "Ocsigen" in a sentence.
LINKS = (
    "# History\n\nThe compiler team released a version with faster garbage collection. The "
    "language manual is at 1http://caml.inria.fr/ocaml/htmlman/index.html today. Web servers "
    "are written with Ocsigen.\n"
)
QUESTION = "Which pointer kind maps to an option type, so that OCaml code gets an option?"


def term(word: str) -> Term:
    return Term(word, word.casefold(), word.casefold())


def test_a_word_inside_a_web_address_is_not_written() -> None:
    texts = ["The manual is at 1http://caml.inria.fr/ocaml/htmlman/index.html today."]
    assert not written_outside_urls(term("OCaml"), texts)
    assert not written_outside_urls(term("ocaml"), ["See www.ocaml.org/docs for more."])
    assert written_outside_urls(term("OCaml"), [*texts, "Install OCaml first."])
    assert written_outside_urls(term("OCaml"), ["OCaml: http://caml.inria.fr/"])
    assert not written_outside_urls(term("OCaml"), [])


def write_attributes(docs: Path, count: int) -> None:
    """``count`` short pages, one attribute each, about pointers as the questions are."""
    for i in range(count):
        (docs / f"attribute_{i:03d}.md").write_text(
            f"# Attribute {i}\n\nA pointer of kind k{i} maps to the type t{i} in the generated "
            f"code, and the code gets a value of type t{i} for it.\n",
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("caml")
    docs = base / "docs"
    docs.mkdir()
    (docs / "pointers.md").write_text(POINTERS, encoding="utf-8")
    (docs / "links.md").write_text(LINKS, encoding="utf-8")
    write_attributes(docs, 60)  # enough chunks that a word in one of them is a rare one
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


def test_a_name_written_only_in_a_url_does_not_refuse_the_answer(manual: Settings) -> None:
    answer = rag.answer(QUESTION, settings=manual)
    assert not answer.refused, answer.text
    assert answer.citations[0].source == "pointers.md"
    assert "unique" in answer.text


def test_a_name_written_in_a_sentence_is_still_a_name(manual: Settings) -> None:
    eng = ensure_index(manual)
    asked = "Which pointer kind maps to an option type in OCaml and in Ocsigen?"
    assert [t.text for t in question_names(asked, asked, eng)] == ["Ocsigen"]
    answer = rag.answer("Which pointer kind maps to an option type in Ocsigen?", settings=manual)
    assert answer.refused or answer.citations[0].source == "links.md", answer.text
