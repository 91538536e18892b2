"""What a question asks, sentence by sentence.

Users set the scene before they ask ("A vendor only ships its tool as an .rpm file. How do I
turn it into a .deb I can install?"). The scene is the asker's situation: it helps retrieval
find the page, but it is not what the answer must be about (``named_part``: the names
rag/entities.py checks, unless the asking sentence points back at the scene: "How do I deploy
it there?"), and the reader, trained on questions alone (SQuAD, SelQA, ClapNQ,
documentation FAQs), scores the answer lower when it has to read the scene too
(``asked_sentences``: what the reader reads).
"""

from __future__ import annotations

from rag.chunking import split_sentences
from rag.text import terms, words

# Pronouns that stand for a thing named before ("... runs on Kubernetes. How do I deploy it
# there?"). Narrower than a follow-up's referring words (rag/followup.py) on purpose: not
# "that", "this", "there", in an asking sentence mostly a conjunction, a determiner or "is
# there". An expletive "it" ("how long does it take") counts too: a cost the rule accepts.
POINTING = frozenset({"it", "its", "they", "them", "their"})
# What may close a sentence after its mark: "(is it --no-cache?)", 'Is it called "--quiet?"',
# "`--quiet?`", 'The log says "disk full." Then ...' (rag/entities.py reads sentence ends so too).
CLOSERS = ")]}\"'’”»`"
# What may follow a question's mark: a closer, or "!" ("?!").
_AFTER_MARK = CLOSERS + "!"
# A question sentence with fewer terms of its own than this ("How?", "Why does it do that?",
# "Steps?") names nothing: it leans on the statements around it.
MIN_ASKED_TERMS = 2


def sentences(question: str) -> list[str]:
    """The question's sentences, each without its edge whitespace."""
    return [question[start:end].strip() for start, end in split_sentences(question)]


def asks(sentence: str) -> bool:
    """Whether ``sentence`` ends in a question mark (full-width too), maybe inside a closing
    bracket or quote."""
    return sentence.rstrip(_AFTER_MARK).endswith(("?", "？"))


def asking_sentence(question: str) -> str:
    """The sentence of ``question`` that asks: its last ending in "?", else its last (the
    question itself when it is one sentence)."""
    parts = sentences(question)
    if len(parts) < 2:
        return question
    return next((s for s in reversed(parts) if asks(s)), parts[-1])


def points_back(sentence: str) -> bool:
    """Whether ``sentence`` holds a pronoun that stands for something named before it."""
    return not POINTING.isdisjoint(words(sentence))


def names_nothing(text: str) -> bool:
    """Whether ``text`` has fewer than ``MIN_ASKED_TERMS`` terms of its own ("How?")."""
    return len(terms(text)) < MIN_ASKED_TERMS


def named_part(question: str) -> str:
    """What names the answer must be about (rag/entities.py): the asking sentence, or the whole
    question when the asking sentence points back at its scene ("Users want to sign in through
    OAuth. How do I let them log in that way?" asks about OAuth) or names nothing itself ("I
    want to deploy it on Nomad. How?")."""
    asking = asking_sentence(question)
    return question if points_back(asking) or names_nothing(asking) else asking


def asked_sentences(question: str) -> str:
    """What the reader reads of ``question``: its sentences that ask (end in "?"), in their order,
    without the statements around them; the whole question when no sentence ends in "?".

    Every question sentence is kept: "How long should my HMAC key be? Does a really long key
    make HMAC stronger?" asks twice, and a follow-up's standalone form ("Is that thread-safe?
    How do I share a counter between threads?", rag/followup.py) is two questions, the second
    saying what the first's "that" is."""
    parts = sentences(question)
    asking = " ".join(s for s in parts if asks(s))
    if not asking or names_nothing(asking):  # nothing asked, or "How?": the statements say what
        return question
    return asking


def reader_question(question: str, query: str) -> str:
    """What the reader reads for ``question`` as asked, given its standalone form ``query``: the
    sentences that ask (``asked_sentences``), then what the standalone form adds after the
    question (rag/followup.py puts the earlier question there: "And the timeout. What is the
    default port?" must not lose its first sentence, which asks without a question mark); of
    a rewrite that does not start with the question (an LLM's), its sentences that ask."""
    if query == question or not query.startswith(question):
        return asked_sentences(query)
    return asked_sentences(question) + query[len(question) :]
