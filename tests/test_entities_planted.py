"""Distinctive names (rag/entities.py) against a real BM25 index: a word that opens a sentence
after a colon or semicolon may be capitalised as any word is, so it is no name; an answer about
two codes stands when its citations together name both; and when no passage mentions the
question's names, all of them are still read.

Tests written for deliberate bugs a review planted in rag/entities.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.entities import Term, check, focus, unknown_names
from rag.lexical import LexicalIndex
from rag.models import Answer, Chunk, Citation, Passage


def test_a_word_opening_a_sentence_after_a_colon_is_no_name(tmp_path: Path) -> None:
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build([("a", "The relief valve opens at 4 bar."), ("b", "Pumps move the water.")])
    assert unknown_names("One more question: Seals last how long?", lexical) == []
    assert unknown_names("The valve is fine; Gaskets wear out?", lexical) == []
    # Inside the sentence, the same capitalised word is a name the index never mentions.
    assert unknown_names("How long do the Seals last?", lexical) == ["Seals"]


def test_an_answer_about_two_codes_stands_when_its_citations_name_both_together() -> None:
    towns = "The mayor of Veloria017 is Ada Quill. The mayor of Veloria018 is Bruno Pell."
    chunk = Chunk(id="c1", source="towns.txt", start=0, end=len(towns), text=towns)
    split = towns.index(" The mayor of Veloria018")
    first = Citation(1, "towns.txt", towns[:split], 0, split, 0.6)
    second = Citation(2, "towns.txt", towns[split + 1 :], split + 1, len(towns), 0.6)
    question = "Who are the mayors of Veloria017 and Veloria018?"
    answer = Answer(question, f"{first.text} [1] {second.text} [2]", [first, second])
    codes = [Term(code, code.lower(), code.lower()) for code in ("Veloria017", "Veloria018")]
    assert check(answer, codes, [Passage(chunk, 1.0)]) == answer
    # Neither citation alone names both: with the second one gone, Veloria018 is unanswered.
    alone = Answer(question, f"{first.text} [1]", [first])
    assert check(alone, codes, [Passage(chunk, 1.0)]).refused


def test_when_no_passage_mentions_the_names_every_passage_is_read() -> None:
    texts = {"a.txt": "The mayor of Veloria017 is Ada Quill.", "b.txt": "Veloria018 has a mill."}
    passages = [
        Passage(Chunk(id=source, source=source, start=0, end=len(text), text=text), 1.0)
        for source, text in texts.items()
    ]
    code = Term("Veloria017", "veloria017", "veloria017")
    assert focus(passages, [code]) == passages[:1]
    unseen = Term("Veloria999", "veloria999", "veloria999")
    assert focus(passages, [unseen]) == passages
