"""Conversation history: normalise its shapes and turn a follow-up into a standalone question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rag.text import terms, words

History = Sequence[Any]
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
        "then",
        "such",
    ]
)


def user_turns(history: Iterable[Any]) -> list[str]:
    """The user's earlier questions, from ``[(user, bot), ...]`` or ``[{"role", "content"}]``."""
    questions: list[str] = []
    for turn in history or ():
        if isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                questions.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return questions


def conversation_turns(history: History) -> list[tuple[str, str]]:
    """``(role, text)`` turns from ``[(user, bot), ...]`` or ``[{"role", "content"}]``."""
    turns: list[tuple[str, str]] = []
    for turn in history or ():
        if isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if role in ("user", "assistant") and isinstance(content, str) and content:
                turns.append((role, content))
        elif isinstance(turn, (list, tuple)):
            for role, content in zip(("user", "assistant"), turn, strict=False):
                if isinstance(content, str) and content:
                    turns.append((role, content))
    return turns


def condense_offline(question: str, history: History) -> str:
    """A rule, for when no LLM is configured: a short or referring question borrows the last one."""
    previous = user_turns(history)
    if not previous:
        return question
    refers = bool(_REFERRING & set(words(question)))
    if refers or len(terms(question)) <= 2:
        return f"{previous[-1]} {question}"
    return question
