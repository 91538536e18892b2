"""A question that asks for a number is answered only by a passage that holds one.

"How many worker processes does it start?", "What is the maximum number of presets a file may
hold?" and "Which version added the flag?" ask for a number. The reader judges whether a
sentence is about the question, not whether it holds the kind of thing asked for, so over a
manual that never gives the number it answered with a sentence about the subject ("Blueprints in
Flask are intended for these cases:"). An extractive answer to such a question must hold what
was asked in what it cites: for a count a digit, a number word or a word that stands for a count
("several", "unlimited", "no limit"); for the maximum or minimum number, a count stated as a
limit ("at most 64", "up to 32") that names what is counted, where the question says it (the
maximum number of triggers is no "Maximum Number Of Attached Databases"); for a year or a
version a digit (not a manual page's section, "git-version(1)"). The reader's best sentence
that holds it answers (``admits``: "? matches one character", where the reader liked "each line
of the file is taken as a pattern" better); if none does, the answer is a refusal that shows the
closest sentences as "not an answer" (``check`` also refuses a section's lead that holds none).

Measured on validation data before it was used: of SQuAD 2.0's 318 answerable "how many" and
"maximum number" questions every answer sentence holds a count, and of its 136 answerable "what
year" and "which version" questions every one a digit. The limit (2026-12-06): SQuAD 2.0 and
1.1's 6 answerable "maximum/minimum number" questions all state one; over the manual validation
sets all 6 such questions are unanswerable, and 5 were answered from a count that is no limit
("A repository has one main worktree"): 3 more refused, no answer lost (evals/README.md, round
22). A number is not asked by a sentence that opens with another interrogative: "How do I find
out how many bytes it needs?" asks for a way. That changes 3 questions of the validation and
eval sets (pd-06, pd-07, gi-u05) and 2 of SQuAD's 1,437 that ask for a count or a year ("How
was it determined how many from each camp would be appointed?", and "What is the estimate of
how many physicians ...", a count missed). Only the extractive path is checked: a generative
model reads the number, or says the documents do not give one, itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.entities import refuse
from rag.models import Answer
from rag.text import terms

# "the maximum (minimum, largest, ...) number": asks for a limit, which an answer states as one
# ("at most 32", "up to 4 GB", "Maximum value is 4095", "any number of"). A sentence that only
# counts ("A repository has one main worktree", "There must not be two configure presets")
# answers "how many", not what the most may be.
_SUPERLATIVE_NUMBER = (
    r"(?:maximum|minimum|max|min|largest|smallest|highest|lowest|greatest)"
    r"(?:\s+(?:possible|allowed|permitted|supported))?\s+(?:number|count)\b"
)
_ASKS_LIMIT = re.compile(r"\b" + _SUPERLATIVE_NUMBER, re.IGNORECASE)
# What such a question counts: the words after "number of" (an article aside), of which the
# counted is the first plural ("number of" counts a plural: "linked worktrees", "characters").
_COUNTED = re.compile(
    _SUPERLATIVE_NUMBER + r"\s+of\s+(?:the\s+|a\s+|an\s+)?((?:[^\W\d_][\w-]*\s*){1,3})",
    re.IGNORECASE,
)
# "how many", and "the maximum (or minimum, largest, ...) number of" as the thing asked: "What is
# the maximum number of targets ...?". "Which country received the largest number of ...?" asks
# for a country, not a count, and is left alone.
_ASKS_COUNT = re.compile(
    r"\bhow\s+many\b"
    r"|\b(?:what|which)(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+the\s+" + _SUPERLATIVE_NUMBER,
    re.IGNORECASE,
)
_LIMIT = re.compile(
    r"\b(?:maximum|minimum|max|min|maxima|minima|limit|limits|limited|limiting|at\s+most"
    r"|at\s+least|up\s+to|no\s+more\s+than|not\s+more\s+than|no\s+fewer\s+than"
    r"|no\s+less\s+than|exceed|exceeds|exceeded|exceeding|unlimited|unbounded|limitless"
    r"|any\s+number|an\s+arbitrary\s+number|as\s+many\s+as|no\s+upper\s+bound)\b",
    re.IGNORECASE,
)
# "what year", "in which year", "which version", "what release": a year or a version number. Not
# "when" (answered "after the war" as often as with a date) nor "what century" ("the first").
_ASKS_YEAR_OR_VERSION = re.compile(
    r"\b(?:what|which)\s+(?:years?|decades?|versions?|releases?)\b", re.IGNORECASE
)
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred hundreds thousand thousands million millions billion billions dozen dozens "
    "once twice thrice single double triple both couple pair several few multiple numerous "
    "unlimited unbounded limitless infinite infinitely countless none"
)
_COUNT = re.compile(
    r"\d|\b(?:" + "|".join(_NUMBER_WORDS.split()) + r")\b"
    r"|\b(?:any|an\s+arbitrary)\s+number\b|\bas\s+many\b|\bno\s+(?:limit|maximum|upper\s+bound)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# A manual page's name with its section ("git-version(1)", "printf(3)", "ls(1p)"): its digit
# gives no year or version.
_MANUAL_PAGE = re.compile(r"\w\([1-9][a-z]*\)")
_SENTENCES = re.compile(r"(?<=[.?!])\s+")
_INTERROGATIVE = re.compile(r"\b(?:how|what|which|when|where|who|whom|whose|why)\b", re.I)


def asks_count(question: str) -> bool:
    """Whether ``question`` asks how many of something there are (or may be)."""
    return bool(_ASKS_COUNT.search(question))


def asks_year_or_version(question: str) -> bool:
    """Whether ``question`` asks for a year or a version."""
    return bool(_ASKS_YEAR_OR_VERSION.search(question))


def holds_count(text: str) -> bool:
    """Whether ``text`` gives a count: a digit, a number word or a word standing for one."""
    return bool(_COUNT.search(text))


class _YearOrVersion:
    """Matches a text with a digit outside manual page references: "the git-version(1)
    command" names no version."""

    def search(self, text: str) -> bool:
        return bool(_DIGIT.search(_MANUAL_PAGE.sub(" ", text)))


class _Limit:
    """Matches a text that gives a count and states a limit (both: "Defaults to 50" is no
    maximum, "the maximum delta depth" no number), and names what is counted when the question
    says it: the maximum number of triggers on a table is not "Maximum Number Of Attached
    Databases", nor the characters of a branch name pack.depth's "Maximum value is 4095"."""

    def __init__(self, counted: str = "") -> None:
        self.counted = counted  # the stem of what the question counts ("trigger"), or ""

    def search(self, text: str) -> bool:
        if not (_COUNT.search(text) and _LIMIT.search(text)):
            return False
        return not self.counted or self.counted in terms(text)


def _counted(question: str) -> str:
    """The stem of what ``question`` asks the maximum (minimum, ...) number of: "triggers" in
    "the maximum number of triggers that ...", "worktrees" in "... of linked worktrees"; ""
    when it does not say."""
    found = _COUNTED.search(question)
    words = [w for w in found.group(1).split() if terms(w)] if found else []
    plural = [w for w in words if w.lower().endswith("s")]
    named = terms((plural or words)[0]) if words else []
    return named[0] if named else ""


def _number_asked(question: str) -> re.Pattern[str] | _Limit | _YearOrVersion | None:
    """What a text must match to hold the number ``question`` asks for; None if it asks none."""
    count = _asked(_ASKS_COUNT, question)
    if count is not None:
        return _Limit(_counted(question)) if _ASKS_LIMIT.search(count) else _COUNT
    if _asked(_ASKS_YEAR_OR_VERSION, question) is not None:
        return _YearOrVersion()
    return None


def _asked(phrase: re.Pattern[str], question: str) -> str | None:
    """The words of ``phrase`` where it is what a sentence of ``question`` asks. In a sentence
    that opens with another interrogative it is an indirect question, and the sentence asks for
    a way: "How do I find out how many bytes it needs?" is answered by what tells it, not by a
    number. Elsewhere it is asked, after a relative "where" or "which" too ("The area where
    Jacksonville sits has been inhabited for how many years?")."""
    for sentence in _SENTENCES.split(question.strip()):
        opens = _INTERROGATIVE.match(sentence)
        for found in phrase.finditer(sentence):
            if opens is None or found.start() == 0:
                return found.group()
    return None


def holds_number_asked(question: str, text: str) -> bool:
    """Whether ``text`` holds the kind of number ``question`` asks for (True if it asks none)."""
    wanted = _number_asked(question)
    return wanted is None or bool(wanted.search(text))


def admits(question: str) -> Callable[[str], bool] | None:
    """What a sentence must hold to answer ``question`` (None: any sentence may): the reader's
    best sentence that holds the number asked for answers, not its best sentence."""
    wanted = _number_asked(question)
    if wanted is None:
        return None
    return lambda text: bool(wanted.search(text))


def check(answer: Answer, question: str) -> Answer:
    """``answer``, or its refusal when ``question`` asks for a number that none of its
    citations holds."""
    wanted = _number_asked(question)
    if wanted is None or answer.refused or not answer.citations:
        return answer
    if any(wanted.search(citation.text) for citation in answer.citations):
        return answer
    return refuse(answer)
