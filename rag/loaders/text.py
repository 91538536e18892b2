"""Plain text: the file's text, normalised, with its editor's line wrapping undone; no other
structure (every paragraph is text).

A sentence never spans two lines (rag/chunking.py: lines are code, list items, table rows as
often as prose), so a paragraph wrapped at 72 or 80 columns was read and cited a line at a time:
"The loaded entries take priority over the" was a sentence. Here the lines of a wrapped
paragraph are joined, and only where the text shows it was wrapped: a line runs (nearly) to the
width of the file's widest prose, the next one continues at the same indentation (or, in a list
item, under its first word), and neither is a list item's start, a fenced or delimited block
(```, ----, ....), a row of columns aligned with spaces, or indented past the file's prose (code).
Everything else keeps its line breaks.
"""

from __future__ import annotations

import re
from collections import Counter

from rag.loaders.base import LoadedDocument, normalise

# A line at least this share of the file's usual full line was wrapped by the editor, not ended
# by the author (the share PDF pages use, rag/loaders/pdf.py); one longer than this share of it
# was not wrapped at all (text wrapped by hand strays a few columns past its usual width).
FULL_LINE = 0.6
OVERLONG_LINE = 1.1
# A line was wrapped because the next word would not fit: the line and that word fill at least
# this share of the width (hand-wrapped text stops a few columns short of it).
FITTED_LINE = 0.85
# Text wrapped by an editor fills lines to a width, 72 to 100 columns as a rule: a file whose
# full lines are shorter than the least here (a list of short lines, a table of names) or longer
# than the most (a paragraph a line, with no blank line between) has no wrapping to undo.
MIN_WRAP_WIDTH = 40
MAX_WRAP_WIDTH = 120
_LIST_ITEM = re.compile(r"(?:[-*+•–]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\))\s+(?=\S)")
# A fence or a delimiter line (Markdown's ```, AsciiDoc's ---- and ...., a rule of = or *).
_DELIMITER = re.compile(r"(?:`{3,}|~{3,}).*|([-=.*_+#~])\1{3,}\s*")
# Columns aligned with spaces: a run of three inside the line.
_COLUMNS = re.compile(r"\S {3,}\S|\t")
# A command after a prompt, a quoted line, a Markdown heading, reStructuredText's explicit
# markup (".. code-block::"), a line of code that ends a statement or goes on.
_PROMPT = re.compile(r"(?:[$%>]|#{1,6}|\.\.)\s")
_CODE_END = (";", "{", "}", "\\")
# A line that ends a sentence or announces what follows ends where the author ended it.
_ENDS = (".", "!", "?", ":", ";")


def load_text(text: str) -> LoadedDocument:
    return LoadedDocument(unwrap(normalise(text)))


def unwrap(text: str) -> str:
    """``text`` with the line breaks of its wrapped paragraphs replaced by spaces (the rest of
    the text as it is)."""
    lines = text.split("\n")
    breaks = _wrapped_breaks(lines)
    # Prose wrapped in mid-sentence goes on in lower case more often than not; lines that all
    # open with a capital or a quote are items written a line each ("John Lennon – vocal"),
    # however long they are.
    if sum(lines[i + 1].lstrip()[:1].islower() for i in breaks) * 2 < len(breaks):
        return text
    out: list[list[str]] = []  # each output line's pieces, joined once (a long run stays linear)
    for i, line in enumerate(lines):
        if i - 1 in breaks:
            out[-1].append(line.strip())
        else:
            out.append([line])
    return "\n".join(" ".join(pieces) for pieces in out)


def _wrapped_breaks(lines: list[str]) -> set[int]:
    """The lines (their index) whose break is the editor's: the next line continues them."""
    width, indent = _prose_shape(lines)
    if not MIN_WRAP_WIDTH <= width <= MAX_WRAP_WIDTH:
        return set()
    breaks: set[int] = set()
    fenced = False
    hanging: int | None = None  # where the current paragraph's continuation lines start
    last = ""  # the line before, outside blocks
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _DELIMITER.fullmatch(stripped):
            if stripped[0] == "`" or fenced or _opens_block(stripped, last, lines[i + 1 :], width):
                fenced = not fenced
            last, hanging = "", None
        elif fenced or not stripped:
            last, hanging = "", None
        else:
            lead = _lead(line)
            if hanging is not None and _joins(last, line, lead, hanging, width):
                breaks.add(i - 1)
            else:
                hanging = _continues_at(line, lead, indent)
            last = line
    return breaks


def _opens_block(rule: str, above: str, below: list[str], width: int) -> bool:
    """Whether a delimiter line (not a fence of backticks, outside a block) opens a block: not
    when a line of text right above it is a heading it underlines (a short line, or one about
    as long as the rule, as AsciiDoc's and reStructuredText's underlines are), nor when a blank
    line or the end of the file follows it (a rule between paragraphs: ----, ********)."""
    if above.strip() and (
        len(above.rstrip()) < FULL_LINE * width or abs(len(above.strip()) - len(rule)) <= 2
    ):
        return False
    return bool(below and below[0].strip())


def _prose_shape(lines: list[str]) -> tuple[int, int]:
    """The width of the file's full prose lines (the longest but a few) and their indentation
    (the most common among lines of plain words)."""
    prose = [
        line
        for line in lines
        if line.strip() and not _COLUMNS.search(line.strip()) and not _DELIMITER.fullmatch(line)
    ]
    if not prose:
        return 0, 0
    lengths = sorted(len(line.rstrip()) for line in prose)
    width = lengths[int(0.95 * (len(lengths) - 1))]  # a few overlong lines do not set the width
    indents = Counter(_lead(line) for line in prose if len(line) >= FULL_LINE * width)
    return width, indents.most_common(1)[0][0] if indents else 0


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _continues_at(line: str, lead: int, indent: int) -> int | None:
    """Where the lines continuing ``line``'s paragraph start: under its first word when it opens
    a list item, else at its own indentation if that is the file's prose's (None: a line indented
    otherwise may be code, and nothing continues it)."""
    item = _LIST_ITEM.match(line, lead)
    if item:
        return item.end()
    return lead if lead == indent else None


def _joins(previous: str, line: str, lead: int, hanging: int, width: int) -> bool:
    """Whether ``line`` continues ``previous`` (the line written before it) as wrapped prose:
    ``previous`` is full, not past the file's width (a longer line was not wrapped), and ends
    where it does because ``line``'s first word would not have fitted; it ends no sentence or
    clause (a line of its own, or an item of a list written a line each)."""
    stripped = line.strip()
    end = previous.rstrip()
    return (
        FULL_LINE * width <= len(end) <= OVERLONG_LINE * width
        and len(end) + 1 + len(stripped.split()[0]) > FITTED_LINE * width
        and not end.endswith(_ENDS)
        and lead == hanging
        and not _LIST_ITEM.match(stripped)
        and not _COLUMNS.search(stripped)
        and not _COLUMNS.search(previous.strip())
        and not _PROMPT.match(stripped)
        and not _PROMPT.match(previous.strip())
        and not previous.rstrip().endswith(_CODE_END)
        and _has_words(stripped)  # a line of marks only ("---", "***") underlines or rules
        and _has_words(previous)
    )


def _has_words(line: str) -> bool:
    return any(ch.isalnum() for ch in line)
