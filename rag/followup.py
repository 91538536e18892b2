"""Conversation history: normalise its shapes and turn a follow-up into a standalone question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rag.text import without_surrogates, words

History = Sequence[Any]
# Words that point back to something said before ("it", "he", "there", "those").
_REFERRING = frozenset(
    [
        "it",
        "its",
        "that",
        "this",
        "these",
        "those",
        "they",
        "them",
        "their",
        "he",
        "him",
        "his",
        "she",
        "her",
        "there",
        "such",
    ]
)
# Openings that continue the conversation: "and what about Kosovo?", "also ...", "how about X?".
_CONTINUING = ("and", "also", "but", "what about", "how about", "what of")
# A question this short ("founded when?") leaves out what it is about: an ellipsis.
# A product choice (no validation set holds conversations); its cost measured by
# `python -m train constants` (train/constants.py, run of 2026-12-03): it merges 3 of 433
# standalone validation questions, no right answer lost; 4 would merge 74 (25 right -> 9).
ELLIPSIS_WORDS = 3


def user_turns(history: Iterable[Any]) -> list[str]:
    """The user's earlier questions, from ``[(user, bot), ...]``, ``[{"role", "content"}]`` or
    ``["earlier question", ...]`` (one question alone too)."""
    questions: list[str] = []
    for turn in _turns(history):
        if isinstance(turn, str):
            questions.append(without_surrogates(turn))
        elif isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                questions.append(without_surrogates(turn["content"]))
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            questions.append(without_surrogates(turn[0]))
    return questions


def conversation_turns(history: History) -> list[tuple[str, str]]:
    """``(role, text)`` turns from ``[(user, bot), ...]``, ``[{"role", "content"}]`` or
    ``["earlier question", ...]`` (the user's questions alone)."""
    turns: list[tuple[str, str]] = []
    for turn in _turns(history):
        if isinstance(turn, str):
            if turn:
                turns.append(("user", without_surrogates(turn)))
        elif isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if role in ("user", "assistant") and isinstance(content, str) and content:
                turns.append((role, without_surrogates(content)))
        elif isinstance(turn, (list, tuple)):
            for role, content in zip(("user", "assistant"), turn, strict=False):
                if isinstance(content, str) and content:
                    turns.append((role, without_surrogates(content)))
    return turns


def _turns(history: Iterable[Any] | None) -> Iterable[Any]:
    """The history's turns; a lone string is one earlier question, never its characters."""
    if isinstance(history, str):
        return [history]
    return history or ()


def refers_back(question: str) -> bool:
    """Whether a question leans on the last one: a pronoun, a continuing opening, an ellipsis."""
    tokens = words(question)
    if not tokens:
        return False
    return bool(_REFERRING & set(tokens)) or continues(question) or len(tokens) <= ELLIPSIS_WORDS


def continues(question: str) -> bool:
    """Whether a question opens by continuing the last one ("and what about X?", "also ...")."""
    tokens = words(question)
    return bool(tokens) and (tokens[0] in _CONTINUING or " ".join(tokens[:2]) in _CONTINUING)


def carries_subject(question: str) -> bool:
    """A follow-up about the thing just asked about, which it names only by a pronoun ("Is that
    thread-safe?", "How do I skip some of them?"): its own words name no new subject, so they
    are no search of their own (unlike the X of "and what about X?")."""
    return bool(_REFERRING & set(words(question))) and not continues(question)


def search_words(question: str, query: str) -> str:
    """What retrieval searches besides the standalone ``query``: the follow-up's own words when
    they may name a new subject, else the standalone query alone (so no second search)."""
    return query if carries_subject(question) else question


def condense_offline(question: str, history: History) -> str:
    """A rule, for when no LLM is configured: a question that refers back borrows the last one
    (itself made standalone first, when it leaned on the one before it).

    The new question comes first, so that its own words (the X of "and what about X?") lead.
    """
    return _standalone(question, user_turns(history))


def _standalone(question: str, previous: list[str]) -> str:
    if not previous or not refers_back(question):
        return question
    return f"{question} {_standalone(previous[-1], previous[:-1])}"
