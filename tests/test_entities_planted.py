"""Distinctive names (rag/entities.py) against a real BM25 index: a word that opens a sentence
after a colon or semicolon may be capitalised as any word is, so it is no name; an answer about
two codes stands when its citations together name both; and when no passage mentions the
question's names, all of them are still read. Also: a three-character code and a two-letter
acronym opening the question are names, a name in exactly the rare share of chunks is
distinctive, a four-letter stem names its derived words, a citation is read with the chunk that
holds all of it, and a refusal shows three closest sentences.

Tests written for deliberate bugs a review planted in rag/entities.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.entities import (
    RARE_SHARE,
    Term,
    check,
    distinctive_terms,
    focus,
    mentions,
    refuse,
    unknown_names,
)
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


def _index(tmp_path: Path, special: dict[int, str]) -> LexicalIndex:
    """A BM25 index of 100 chunks about pumps; chunk ``i`` also says ``special[i]``."""
    lexical = LexicalIndex(tmp_path / "bm25")
    rows = [
        (f"c{i}", f"Pump {i} moves water through the pipe. {special.get(i, '')}")
        for i in range(100)
    ]
    lexical.build(rows)
    return lexical


def _names(question: str, lexical: LexicalIndex) -> list[str]:
    return [t.text for t in distinctive_terms(question, lexical.idf, len(lexical))]


def test_a_three_character_code_the_index_lacks_is_distinctive(tmp_path: Path) -> None:
    """A question about a short code ("B52") is checked against the code, not answered about
    another one."""
    lexical = _index(tmp_path, {})
    assert _names("Which hangar holds the B52?", lexical) == ["B52"]
    assert _names("Which hangar holds the B5?", lexical) == []  # too short to be a code


def test_a_two_letter_acronym_opening_the_question_is_a_name(tmp_path: Path) -> None:
    """An acronym counts as a name even as the question's first word ("EU rules ...")."""
    lexical = _index(tmp_path, {7: "The EU funds it."})
    assert _names("EU funding covers which pump?", lexical) == ["EU"]


def test_a_name_held_by_exactly_the_rare_share_of_chunks_is_distinctive(tmp_path: Path) -> None:
    """A name in 2 of 100 chunks (RARE_SHARE, "at most") is still distinctive."""
    assert RARE_SHARE * 100 == 2
    lexical = _index(tmp_path, {3: "Zorbex built it.", 4: "Zorbex built it."})
    assert _names("Which pump did Zorbex build?", lexical) == ["Zorbex"]
    lexical = _index(tmp_path, {3: "Zorbex built it.", 4: "Zorbex built it.", 5: "Zorbex."})
    assert _names("Which pump did Zorbex build?", lexical) == []


def test_a_four_letter_name_is_mentioned_by_a_word_derived_from_it() -> None:
    """A four-letter name's stem ("Bali") is long enough to name its derived words
    ("Balinese")."""
    bali = Term("Bali", "bali", "bali")
    assert mentions("Balinese dancers perform nightly.", bali)
    assert not mentions("Dancers perform nightly.", bali)


def test_a_citation_is_read_with_the_section_that_holds_all_of_it() -> None:
    """A citation is read with the chunk it lies in, not an earlier chunk of the same document
    that merely starts before it."""
    first = "General care. Clean the filter monthly. Check the seals."
    second = "Kosovo office. The filter costs twelve euros there."
    doc = first + " " + second
    at = len(first) + 1
    chunks = [
        Chunk(id="a", source="care.txt", start=0, end=len(first), text=first),
        Chunk(id="b", source="care.txt", start=at, end=len(doc), text=second),
    ]
    cited = "The filter costs twelve euros there."
    start = doc.index(cited)
    citation = Citation(1, "care.txt", cited, start, start + len(cited), 0.7)
    answer = Answer("What does the filter cost in Kosovo?", f"{cited} [1]", [citation])
    kosovo = Term("Kosovo", "kosovo", "kosovo")
    assert check(answer, [kosovo], [Passage(c, 1.0) for c in chunks]) == answer


def test_a_refusal_shows_the_three_closest_sentences() -> None:
    """A refused answer still shows up to three of the sentences it cited as closest."""
    text = "One pump. Two pumps. Three pumps. Four pumps."
    cites = [
        Citation(i + 1, "p.txt", part, text.index(part), text.index(part) + len(part), 0.5)
        for i, part in enumerate(["One pump.", "Two pumps.", "Three pumps.", "Four pumps."])
    ]
    answer = Answer("How many pumps does Zorbex own?", text, cites)
    refused = refuse(answer)
    assert refused.refused and refused.citations == []
    assert refused.closest == cites[:3]
