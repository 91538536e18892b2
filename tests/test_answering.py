"""Extractive answers with the shipped reader: sentence choice, refusals, headings, exact spans."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rag
from rag.answering import (
    REFUSAL_TEXT,
    answer_extractive,
    candidate_sentences,
    is_heading,
    judge,
)
from rag.chunking import chunk_document
from rag.config import Settings
from rag.errors import ConfigError
from rag.models import Passage
from rag.reader import MODEL_DIR, Reader, shared_reader
from rag.text import fold, matched_terms, one_edit_apart

DOC = (
    "Kazan summit\n\n"
    "The Kazan summit of BRICS opened in October 2024. "
    "Serbia sent a delegation led by Aleksandar Vulin. "
    "The weather in Kazan was cold.\n"
    "Analysts expect more trade between the members."
)


def passages(text: str = DOC, source: str = "doc.txt") -> list[Passage]:
    chunks = chunk_document(source, text, size=2000, overlap=0)
    return [Passage(chunk=c, score=1.0, dense_score=0.5, lexical_score=1.0) for c in chunks]


def test_typos_match_within_one_edit() -> None:
    assert one_edit_apart("kosvo", "kosovo")
    assert one_edit_apart("vucik", "vucic")
    assert one_edit_apart("form", "from")  # a swap
    assert not one_edit_apart("lead", "leader")
    assert matched_terms({"kosvo", "putn", "cat"}, {"kosovo", "putin", "cot"}) == {"kosvo", "putn"}


def test_fold_takes_the_short_way_for_ascii_with_the_same_result() -> None:
    import unicodedata

    def slow(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    every_ascii = "".join(map(chr, range(128)))
    for text in ("Kazan SUMMIT of BRICS, 2024!", every_ascii, "", "Vučić", "Straße"):
        assert fold(text) == slow(text)
    assert fold("Vučić") == "vucic" and fold("Straße") == "strasse"


def test_headings_are_context_not_candidates() -> None:
    assert is_heading("Kazan summit")
    assert is_heading("The Walking Dead (video game)")
    assert is_heading("Early life", title="")
    assert not is_heading("Serbia sent a delegation led by Aleksandar Vulin.")
    long_line = (
        "The Long And Winding History Of The Grand Old Duke Of York And His Ten Thousand Men"
    )
    assert is_heading(long_line, title=long_line)
    assert not is_heading(long_line)  # too long for a heading unless it is the document's title
    texts = [s.text for s in candidate_sentences(passages())]
    assert texts == [
        "The Kazan summit of BRICS opened in October 2024.",
        "Serbia sent a delegation led by Aleksandar Vulin.",
        "The weather in Kazan was cold.",
        "Analysts expect more trade between the members.",
    ]
    # The title is on every chunk, and the reader sees the previous sentence as context.
    first, second = candidate_sentences(passages())[:2]
    assert first.passage.chunk.title == "Kazan summit"
    assert first.before == "" and second.before == first.text


@pytest.mark.usefixtures("sentence_citations")
def test_the_reader_picks_the_answer_sentence_and_cites_it_exactly() -> None:
    reader = shared_reader()
    found = passages()
    result = answer_extractive(
        "Who led the Serbian delegation?", found, reader, refusal_threshold=0.5
    )
    assert not result.refused
    assert result.citations[0].text == "Serbia sent a delegation led by Aleksandar Vulin."
    citation = result.citations[0]
    assert DOC[citation.start : citation.end] == citation.text
    assert result.text.startswith("Serbia sent a delegation led by Aleksandar Vulin. [1]")
    # Confidence is the reader's calibrated probability of the cited sentence.
    best = judge("Who led the Serbian delegation?", found, reader)[0]
    assert best.text == citation.text
    assert result.confidence == round(best.probability, 4)
    assert 0.5 <= result.confidence <= 1.0


def test_a_title_line_never_answers_alone() -> None:
    text = "Hoarders\n\nHoarders is an American reality television series that premiered in 2009."
    result = answer_extractive(
        "who is the host of hoarders", passages(text), shared_reader(), refusal_threshold=0.0
    )
    assert [c.text for c in result.citations] == [
        "Hoarders is an American reality television series that premiered in 2009."
    ]


def test_a_refusal_has_no_citations_but_shows_the_closest_sentences() -> None:
    result = answer_extractive(
        "Who is the mayor of Kazan?", passages(), shared_reader(), refusal_threshold=0.999
    )
    assert result.refused and result.text == REFUSAL_TEXT and result.citations == []
    assert 0.0 < result.confidence < 0.999
    assert len(result.closest) == 1  # one passage: one closest sentence
    near = result.closest[0]
    assert DOC[near.start : near.end] == near.text and not near.verified
    empty = answer_extractive("Anything?", [], shared_reader(), refusal_threshold=0.5)
    assert empty.refused and empty.confidence == 0.0 and empty.closest == []


def test_the_shipped_reader_is_described_and_checked() -> None:
    card = Reader().card
    assert (MODEL_DIR / card.model_file).is_file()
    assert 0.0 < card.threshold < 1.0
    assert card.probability(10.0) > card.probability(0.0) > card.probability(-10.0)


def test_a_damaged_reader_file_says_how_to_rebuild(tmp_path: Path) -> None:
    folder = tmp_path / "reader_model"
    shutil.copytree(MODEL_DIR, folder)
    card = Reader(folder).card
    model = folder / card.model_file
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    # The messages' own words: this test's temporary folder is named "...damaged..." too.
    with pytest.raises(ConfigError, match=r"is damaged \(its sha256 does not match.*python -m t"):
        Reader(folder).logits([("q", "s")])
    model.unlink()
    with pytest.raises(ConfigError, match=r"onnx is missing: reinstall .*python -m train"):
        Reader(folder).logits([("q", "s")])
    (folder / "reader.json").write_text("{")
    with pytest.raises(ConfigError, match=r"reader\.json is missing or damaged: .*python -m t"):
        Reader(folder).logits([("q", "s")])


@pytest.mark.slow
def test_seed_answers_and_refusals(seeded: Settings) -> None:
    result = rag.answer("Who is the president of Serbia?", settings=seeded)
    assert not result.refused
    assert "Aleksandar Vučić" in result.text
    source = rag.document_text(result.citations[0].source, settings=seeded)
    for citation in result.citations:
        assert source[citation.start : citation.end] == citation.text
    off_topic = rag.answer("how do i bake sourdough bread", settings=seeded)
    assert off_topic.refused and off_topic.citations == []
    assert off_topic.confidence < Reader().card.threshold
    assert off_topic.closest and all(not c.verified for c in off_topic.closest)


@pytest.mark.slow
def test_a_paraphrase_finds_its_sentence(seeded: Settings) -> None:
    result = rag.answer(
        "Which Russian leader will the Serbian head of state be talking to over the telephone?",
        settings=seeded,
    )
    assert not result.refused
    assert "Vladimir Putin" in result.citations[0].text


def test_an_answer_finds_each_passages_spans_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """candidate_sentences, section_lead and complete all look at a passage's spans: they are
    found once (bench/README.md, "The page's own work per answer")."""
    import rag.answering as answering

    calls: list[str] = []
    real = answering.sentence_spans

    def counted(passage: Passage) -> list[tuple[int, int]]:
        calls.append(passage.chunk.id)
        return real(passage)

    monkeypatch.setattr(answering, "sentence_spans", counted)
    found = passages(DOC.replace("Kazan summit\n", "Spans once\n"), "spans-once.txt")
    result = answer_extractive(
        "Who led the Serbian delegation?", found, shared_reader(), refusal_threshold=0.0
    )
    assert not result.refused
    assert sorted(calls) == sorted(p.chunk.id for p in found)
