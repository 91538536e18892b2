"""The follow-up rules (rag/followup.py) on questions only one rule decides: a question that
leans on the last one by "there" alone, and a continuing question whose new subject is named
with a pronoun ("And what about their prices?": its own words are still searched).

Tests written for deliberate bugs a review planted in rag/followup.py that the suite let
through:

- "there" dropped from the referring words (tests/test_followup.py's test of each referring
  word takes its words from the set itself, so it lost that case with the word; its other
  "there" question has "he" too): the words are written out here;
- "also" dropped from the continuing openings (the same: the openings are written out here);
- ``carries_subject`` without ``not continues(question)``: a continuing question with a pronoun
  was searched by the standalone query alone, its own new subject unsearched.
"""

from __future__ import annotations

import pytest

from rag.followup import carries_subject, condense_offline, refers_back, search_words

# Written out, not taken from rag.followup._REFERRING: a word dropped from the set must fail.
POINTING_BACK = "it its that this these those they them their he him his she her there such"
OPENINGS = ["and", "also", "but", "what about", "how about", "what of"]


@pytest.mark.parametrize("word", POINTING_BACK.split())
def test_each_word_that_points_back_is_read_so(word: str) -> None:
    question = f"Was {word} built in stone in the old town?"
    assert refers_back(question) and carries_subject(question)


@pytest.mark.parametrize("opening", OPENINGS)
def test_each_opening_that_continues_is_read_so(opening: str) -> None:
    question = f"{opening.capitalize()} the grommet bridge near Pellham?"
    assert refers_back(question) and not carries_subject(question)
    assert condense_offline(question, ["Who built the quux tower?"]).endswith("quux tower?")


def test_there_alone_refers_back() -> None:
    question = "What is the weather like there in the winter months?"
    assert refers_back(question) and carries_subject(question)
    assert condense_offline(question, ["Where is the Pellham lighthouse?"]) == (
        f"{question} Where is the Pellham lighthouse?"
    )


def test_a_continuing_question_with_a_pronoun_still_searches_its_own_words() -> None:
    question = "And what about their prices in the northern shops?"
    query = condense_offline(question, ["Who sells the grommet bridges?"])
    assert query == f"{question} Who sells the grommet bridges?"
    assert not carries_subject(question)
    assert search_words(question, query) == question
