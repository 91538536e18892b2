"""rag.text's normalisation as lexical search and sentence scoring read it: the words of a
question are not content terms, stems are the English (Porter 2) stemmer's, and a one-typo
match needs both words long enough and a swap of two neighbours to be a real swap.

Tests written for deliberate bugs a review planted in rag/text.py that the suite let through:

- "how" no longer a stop word (every "How do I ..." question searched for "how");
- the Porter stemmer instead of the English one ("quickly" stemmed "quickli", not "quick");
- ``one_edit_apart`` taking two neighbouring substitutions for a swap when only one letter
  moved ("form" and "fxom");
- ``matched_terms`` matching a 4-letter term to a 3-letter word of the vocabulary ("cats" to
  "cat": a typo is allowed between long words only, on both sides).
"""

from __future__ import annotations

from rag.text import matched_terms, one_edit_apart, terms


def test_question_words_are_not_terms() -> None:
    assert terms("How much does the pump cost, and who can tell me where it is?") == [
        "pump",
        "cost",
    ]
    assert terms("Why, when and how?") == []


def test_terms_are_stemmed_by_the_english_stemmer() -> None:
    # Porter's first stemmer leaves "fairli", "quickli", "dy", "ski"
    assert terms("fairly quickly dying skies generously") == [
        "fair",
        "quick",
        "die",
        "sky",
        "generous",
    ]


def test_a_swap_moves_both_letters() -> None:
    assert one_edit_apart("form", "from")
    assert not one_edit_apart("form", "fxom")  # 'o' moved, but 'r' became 'x': two edits
    assert not one_edit_apart("ab", "ca")


def test_a_typo_match_needs_the_vocabulary_word_long_enough_too() -> None:
    assert matched_terms({"cats"}, {"cat"}) == set()
    assert matched_terms({"cats"}, {"cast"}) == {"cats"}  # a swap, both 4 letters
