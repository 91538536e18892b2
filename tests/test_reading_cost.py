"""What one answer costs the reader (issue 21): pairs read alone, and only the likeliest ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.answering import MAX_READ, READ, judge
from rag.chunking import chunk_document
from rag.models import Passage
from rag.reader import Reader

FILLER = [
    f"The {animal} in the {place} eats {food} every morning."
    for animal, place, food in [
        ("fox", "forest", "berries"),
        ("owl", "barn", "mice"),
        ("goat", "hills", "grass"),
        ("crab", "bay", "algae"),
        ("bear", "valley", "honey"),
        ("seal", "harbour", "fish"),
        ("mole", "garden", "worms"),
        ("hare", "meadow", "clover"),
        ("wolf", "ridge", "deer"),
        ("duck", "pond", "weeds"),
        ("lynx", "taiga", "hares"),
        ("newt", "stream", "larvae"),
        ("bat", "cave", "moths"),
        ("yak", "plateau", "sedge"),
        ("ibis", "marsh", "snails"),
        ("toad", "ditch", "slugs"),
        ("mink", "river", "frogs"),
    ]
]
ANSWER = "The Zorbian lighthouse was designed by the engineer Mara Quill in 1911."
QUESTION = "Who designed the Zorbian lighthouse?"


class CountingReader(Reader):
    """The shipped reader, recording which pairs it was asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[tuple[str, str]] = []

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.read.extend(pairs)
        return super().logits(pairs)


def passages(sentences: list[str]) -> list[Passage]:
    """Each sentence its own retrieved passage, in this rank order."""
    out = []
    for i, sentence in enumerate(sentences):
        [chunk] = chunk_document(f"doc{i}.txt", sentence, size=2000, overlap=0)
        out.append(Passage(chunk=chunk, score=1.0 - i / 100, dense_score=0.5, lexical_score=1.0))
    return out


def test_the_reader_reads_the_sentences_sharing_the_question_terms_not_the_first_ones() -> None:
    # The answer is the 16th candidate in retrieval order: still read, while 6 fillers are not.
    retrieved = passages([*FILLER[: MAX_READ - 1], ANSWER])
    reader = CountingReader()
    judged = judge(QUESTION, retrieved, reader)
    assert len(reader.read) == len(judged) == READ < MAX_READ
    assert judged[0].text == ANSWER
    # The others read are the best-ranked fillers (none shares a question term: ties go to
    # retrieval order), and the pairs keep that order.
    assert [second for _, second in reader.read] == [*FILLER[: READ - 1], ANSWER]


def test_a_question_with_few_candidates_reads_them_all() -> None:
    retrieved = passages([*FILLER[:4], ANSWER])
    reader = CountingReader()
    assert len(judge(QUESTION, retrieved, reader)) == len(reader.read) == 5


def test_a_pairs_logit_is_the_same_whatever_it_is_read_with() -> None:
    reader = Reader()
    pairs = [(QUESTION, sentence) for sentence in [ANSWER, *FILLER[:9]]]
    together = reader.logits(pairs)
    alone = [float(reader.logits([pair])[0]) for pair in pairs]
    # Exactly: the int8 graph quantises activations per run, so in a padded batch a logit
    # moved with its company (by up to 1 on real pairs).
    assert together.tolist() == alone
    assert int(np.argmax(together)) == 0
    assert reader.logits(pairs[3:6]).tolist() == alone[3:6]
