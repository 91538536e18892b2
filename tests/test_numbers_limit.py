"""A question for the maximum (or minimum) number of something asks for a limit: it is answered
only by a sentence that gives a count and states a limit (rag/numbers.py). A sentence that only
counts ("A repository has one main worktree") answers "how many", not what the most may be.

Over the manual validation sets every "What is the maximum number of ...?" question was one the
manual does not answer, and the count check let most through on such a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.numbers import admits, holds_number_asked
from tests.documents import indexed

MOST = "What is the maximum number of linked worktrees a repository can have?"


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("Up to 4095 worktrees.", True),
        ("You can link up to 32 worktrees.", True),
        ("Any number of worktrees can be linked.", True),
        ("There is no limit on how many worktrees you link.", True),
        ("A repository may link at most 200 worktrees.", True),
        ("Linked worktrees must not exceed 255.", True),
        ("Worktrees are unlimited.", True),
        ("It is limited to 8 worktrees per repository.", True),
        # Counts without a limit, and a limit without a count.
        ("A repository has one main worktree.", False),
        ("There must not be two configure presets with the same name.", False),
        ("Defaults to 50.", False),
        ("The maximum delta depth used by pack-objects.", False),
        ("Worktrees are linked to the main worktree.", False),
        # A limit of something else than what is counted (git's pack.depth for a branch name).
        ("Maximum value is 4095.", False),
        ("You can register up to 32 blueprints.", False),
    ],
)
def test_a_maximum_is_answered_by_a_count_stated_as_a_limit(text: str, holds: bool) -> None:
    assert holds_number_asked(MOST, text) is holds
    check = admits(MOST)
    assert check is not None and check(text) is holds


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("What is the minimum number of replicas?", "replicas"),
        ("What's the max number of presets?", "presets"),
        ("Which is the largest allowed number of targets?", "targets"),
        ("What is the maximum count of retries?", "retries"),
    ],
)
def test_every_superlative_of_a_number_asks_for_a_limit(question: str, counted: str) -> None:
    assert not holds_number_asked(question, f"There are two {counted}.")
    assert holds_number_asked(question, f"There are at most two {counted}.")
    assert not holds_number_asked(question, "There are at most two of them.")


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("What is the maximum number of characters git allows in a branch name?", "character"),
        ("What is the maximum number of triggers on a single table?", "triggers"),
        ("What is the maximum number of linked worktrees a repository can have?", "worktree"),
        ("What is the maximum number of the presets a file may hold?", "preset"),
        ("What is the smallest number of people in a group?", "people"),
    ],
)
def test_a_limit_names_what_the_question_counts(question: str, counted: str) -> None:
    """The counted is the first plural of the words after "number of" (or the first word):
    named in any form, in the text that states the limit."""
    assert holds_number_asked(question, f"At most 250 {counted} are allowed.")
    assert not holds_number_asked(question, "At most 250 are allowed.")
    assert not holds_number_asked(question, "At most 250 databases are allowed.")


def test_a_maximum_that_names_nothing_counted_takes_any_limit() -> None:
    assert holds_number_asked("What is the maximum number allowed?", "Maximum value is 4095.")


def test_how_many_still_asks_only_for_a_count() -> None:
    assert holds_number_asked("How many worktrees does a repository have?", MOST_ONE)
    assert not holds_number_asked("How many worktrees does it have?", "Worktrees are linked.")
    # A question for no number is never checked.
    assert holds_number_asked("What is a linked worktree?", "Worktrees are linked.")


MOST_ONE = "A repository has one main worktree."


def test_over_real_documents_a_maximum_is_answered_only_where_one_is_stated(
    tmp_path: Path,
) -> None:
    settings = indexed(
        tmp_path,
        {
            "plugins.md": "# Plugins\n\nThe server loads one plugin directory when it starts. "
            "Each plugin in it is registered in the configuration file.\n",
            "workers.md": "# Workers\n\nThe server starts 4 worker processes by default. It "
            "runs at most 64 worker processes, whatever the configuration asks.\n",
        },
    )
    stated = rag.answer(
        "What is the maximum number of worker processes the server runs?", settings=settings
    )
    assert not stated.refused and "at most 64 worker processes" in stated.text
    unstated = rag.answer(
        "What is the maximum number of plugins the server can load?", settings=settings
    )
    assert unstated.refused and unstated.citations == []
    # Asked how many, the count is an answer.
    counted = rag.answer("How many plugin directories does the server load?", settings=settings)
    assert not counted.refused and "one plugin directory" in counted.text
