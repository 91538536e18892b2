"""A word general English rarely writes, which the documents never write either, is a name the
question asks about and they cannot answer (rag/entities.py ``unknown_names``): "Can I write my
build file in YAML?" over a manual that never says YAML was answered from a sentence about XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.entities import MAX_NAMES_CHECKED, MIN_RARE_CHARS, RARE_SHARE, unknown_names
from rag.lexical import LexicalIndex
from rag.reader_input import word_pieces

COLLECTION = round(1 / RARE_SHARE)  # the fewest chunks for which the rule holds


def _index(path: Path, chunks: int, extra: str = "") -> LexicalIndex:
    lexical = LexicalIndex(path)
    rows = [
        (f"c{n}", f"Task {n} copies the files of the build into a folder and deletes the cache.")
        for n in range(chunks - 1)
    ]
    rows.append(("x", f"The build file is written in XML. {extra}"))
    lexical.build(rows)
    return lexical


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    return _index(tmp_path_factory.mktemp("manual") / "bm25", COLLECTION, "Sequences use seqval.")


def test_the_reader_vocabulary_tells_rare_words_from_common_ones() -> None:
    assert [word_pieces(w) for w in ("yaml", "zstd", "nextval")] == [2, 3, 2]
    assert [word_pieces(w) for w in ("email", "throw", "rid", "cache")] == [1, 1, 1, 1]


def test_a_rare_word_the_documents_never_write_is_unknown(manual: LexicalIndex) -> None:
    assert unknown_names("Can I write the build file in YAML instead?", manual) == ["YAML"]
    assert unknown_names("Which zstd level does the copy use?", manual) == ["zstd"]
    assert unknown_names("yaml or xml for the build file?", manual) == ["yaml"]  # first word too
    assert unknown_names("How do I get nextval of a sequence?", manual) == ["nextval"]


def test_common_words_short_words_and_known_forms_are_not(manual: LexicalIndex) -> None:
    # Common words the documents do not write: the asker's own words for theirs.
    assert unknown_names("How do I throw away the cache?", manual) == []
    assert unknown_names("Can the task email me the files?", manual) == []
    # Shorter than MIN_RARE_CHARS: an acronym may stand for words the documents spell out.
    assert len("zst") < MIN_RARE_CHARS
    assert unknown_names("Which zst level does the copy use?", manual) == []
    # A word the documents write, in another form or with one typo (six letters or more).
    assert unknown_names("Which seqvals are used?", manual) == []
    assert unknown_names("What does seqvsl return?", manual) == []
    # A word with a digit is a code, checked by the answer's citations (``check``), not here.
    assert unknown_names("Does the copy read utf16le files?", manual) == []
    # Never known by its first letters alone: "seqvalidator" is no form of "seqval".
    assert unknown_names("What does seqvalidator return?", manual) == ["seqvalidator"]


def test_in_a_small_index_no_word_is_rare(tmp_path: Path) -> None:
    small = _index(tmp_path / "small", COLLECTION - 1)
    assert unknown_names("Can I write the build file in YAML instead?", small) == []
    # Capitalised names are still looked up there.
    assert unknown_names("Can I write the build file for Gradle?", small) == ["Gradle"]


def test_common_words_do_not_use_up_the_look_ups_of_names(manual: LexicalIndex) -> None:
    """Only a rare word the index does not hold as written counts against the look-up limit: a
    long question of ordinary words still has its identifier looked up."""
    question = (
        "Build copies files folder deletes cache entry older tasks wrote option makes tasks keep "
        "copies quickly during nightly release builds, should readFileSynx work?"
    )
    assert len([w for w in question.split() if len(w) >= MIN_RARE_CHARS]) > MAX_NAMES_CHECKED
    assert unknown_names(question, manual) == ["readFileSynx"]


def test_a_rare_word_asked_twice_in_two_cases_is_named_once(manual: LexicalIndex) -> None:
    assert unknown_names("Is YAML the same as yaml here?", manual) == ["YAML"]


def test_a_question_about_a_rare_word_the_folder_never_writes_is_refused(
    tmp_path: Path,
) -> None:
    """Through ``rag.answer`` over a real index (Chroma, the packaged embedder, BM25): a folder
    of 60 build notes that never say YAML refuses a question about it and names the word; the
    same question about what they do say is answered."""
    import rag
    from rag.config import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(60):
        (docs / f"task_{n:02d}.txt").write_text(
            f"Task {n} copies the files of the build into folder {n}. "
            "The build file is written in XML and names every task it runs.",
            encoding="utf-8",
        )
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    rag.ingest(settings=settings)
    refused = rag.answer("Can I write the build file in YAML instead?", settings=settings)
    assert refused.refused and refused.citations == []
    assert refused.text.endswith("they never mention “YAML”.")
    answered = rag.answer("What language is the build file written in?", settings=settings)
    assert not answered.refused and "XML" in answered.text
