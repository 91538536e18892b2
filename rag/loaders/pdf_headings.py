"""Where a PDF's sections start: from its outline (bookmarks), at each entry's heading line;
without an outline, at the lines set larger than its body text; and, in either, at each of
Texinfo's definition lines (a function, a constant, a type: what its reference entries say)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from typing import Any

Headings = tuple[str, ...]
# A page's section starts: at a line, how many lines its heading takes (0: none, the path starts
# there without one) and the heading path from there on.
Heads = dict[int, tuple[int, Headings]]

_MAX_OUTLINE_DEPTH = 12
# The numbering a heading line or an outline title may carry and the other may not: "3.1",
# "2.10.", "Chapter 2:", "Appendix A", "A.1".
_NUMBERING = re.compile(
    r"^\s*(?:(?:chapter|section|appendix|part)\s+)?(?:\d+|[a-z])(?:\.\d+)*[.:]?\s+",
    re.IGNORECASE,
)

# Without an outline: a line set at least this much larger than the body text (the size most
# of the characters have) is a heading. A product choice: LaTeX's and word processors' next size
# up is 1.1-1.2 times the body's; a superscript or a drop cap is no line of its own.
_LARGER = 1.05
# A line of more words, however large, is no heading (a title page's blurb, a pull quote).
_HEADING_WORDS = 20
# Heading levels: the largest sizes, as many as HTML has (a size smaller than the sixth largest
# heading size is body text; a file of a thousand sizes made paths a thousand deep).
_MAX_LEVELS = 6
# A heading the layout wrapped: the lines after it in the same size join it, up to this many.
_HEADING_LINES = 3
# Texinfo's definition line (@deffn, @deftypefun, @defvr...): the category, set at the right
# margin, comes first in the text ("[Function]void sha256_init (struct sha256 ctx *ctx )",
# "[Constant]SHA256_DIGEST_SIZE", "[Context struct]struct sha256_ctx"). Every GNU manual in PDF
# writes its reference so; the HTML of the same manual has a heading for each ("Function: void
# sha256_init (struct sha256_ctx *ctx)"), which rag/loaders/html.py reads as one.
# The definition starts with a name or a type: "[Randomness], page 90. Returns one..." is a
# cross-reference the layout wrapped to a line's start, not a definition.
_DEFINITION = re.compile(r"\[([A-Z][a-z]+(?: [A-Za-z]+){0,2})\]([A-Za-z_].*)")
# The name a definition defines: the word before its parameters (C's "int f (int x)");
# without them, the last word after a C type ("struct sha256_ctx", "[Constant Struct]struct
# nettle_hash nettle_sha256"), else the first (Lisp's "mapcar function sequence", Emacs's
# "fill-column", a command's "find-file filename").
_DEFINED = re.compile(r"([A-Za-z_][\w:.-]*)\s*\(")
_NAME = re.compile(r"[A-Za-z_][\w:.-]*")
_C_TYPE_WORDS = frozenset(
    ("struct", "union", "enum", "const", "volatile", "unsigned", "signed", "static", "extern",
     "int", "char", "void", "long", "short", "float", "double", "bool")
)  # fmt: skip


def outline(reader: Any, page_count: int) -> list[list[Headings]]:
    """The heading paths of the outline entries that start on each page, in outline order;
    none for every page of a file without an outline (or a damaged one)."""
    starting: list[list[Headings]] = [[] for _ in range(page_count)]
    try:
        entries = _outline_entries(reader, reader.outline, (), 0)
    except Exception:  # a damaged outline must not lose the text
        return starting
    for page, path in entries:
        if page < page_count:
            starting[page].append(path)
    return starting


def heading_lines(lines: list[str], code: list[bool], starting: list[Headings]) -> Heads:
    """Where each section that starts on this page starts: at the line (or two) that is its
    heading, the title of its outline entry (numbering, case and punctuation aside), looked for
    in order; where the heading before it was, if its line is not on the page (the page's top
    for the first). Line -> (lines its heading takes, 0 if none was found; its path)."""
    # Where each line (alone, and with the next) could be a heading, by its keys: looking
    # along the page for each entry took minutes for a page of 3,000 lines and entries.
    written: dict[str, list[tuple[int, int]]] = {}
    for i in range(len(lines)):
        for count in (1, 2):
            if i + count <= len(lines) and not any(code[i : i + count]):
                for key in _heading_keys(" ".join(lines[i : i + count])):
                    written.setdefault(key, []).append((i, count))
    heads: Heads = {}
    at = 0
    for path in starting:
        found = [
            places[k]
            for places in (written.get(key, []) for key in _heading_keys(path[-1]))
            if (k := bisect_left(places, (at, 0))) < len(places)
        ]
        if not found:
            heads[at] = (0, path)
        else:
            line, count = min(found)
            heads[line] = (count, path)
            at = line + count
    return heads


def _heading_keys(text: str) -> set[str]:
    """A heading's words for comparing an outline title with a page's line, numbering, case,
    punctuation and spaces aside ("2.13. Non-regular files" ~ "Nonregular files"): with and
    without what may be its numbering ("A Copying Information" ~ "Appendix A Copying
    Information", "A very long heading" ~ "3 A very long heading")."""
    text = unicodedata.normalize("NFKC", text)
    return {_letters(text), _letters(_NUMBERING.sub("", text, count=1))} - {""}


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _outline_entries(
    reader: Any, items: list[Any], parent: tuple[str, ...], depth: int
) -> list[tuple[int, tuple[str, ...]]]:
    """(page index, heading path) of each outline entry, in outline order; a nested list holds
    the children of the entry before it."""
    entries: list[tuple[int, tuple[str, ...]]] = []
    last = parent
    for item in items:
        if isinstance(item, list):
            if depth < _MAX_OUTLINE_DEPTH:
                entries.extend(_outline_entries(reader, item, last, depth + 1))
            continue
        page = reader.get_destination_page_number(item)
        title = " ".join(str(getattr(item, "title", "") or "").split())
        if title and page is not None and page >= 0:
            last = (*parent, title)
            entries.append((page, last))
    return entries


def size_headings(
    pages: list[list[str]], code: list[list[bool]], sizes: list[list[float]]
) -> list[Heads]:
    """For a PDF without an outline: per page, its lines set larger than the body text, as
    headings, one level for each size (the largest outermost). ``sizes``: each line's smallest
    glyph size (0.0 unknown). Consecutive lines of one size are one heading."""
    weight: Counter[float] = Counter()
    for lines, line_sizes in zip(pages, sizes):
        for line, size in zip(lines, line_sizes):
            if size:
                weight[size] += len(line.strip())
    if not weight:
        return [{} for _ in pages]
    body = weight.most_common(1)[0][0]

    def larger(line: str, flag: bool, size: float) -> bool:
        words = line.split()
        return (
            not flag
            and size >= body * _LARGER
            and 0 < len(words) <= _HEADING_WORDS
            and any(ch.isalpha() for ch in line)
        )

    # The heading sizes, largest first: a line set larger in a smaller size is body text.
    levels = sorted(
        {
            size
            for lines, flags, line_sizes in zip(pages, code, sizes)
            for line, flag, size in zip(lines, flags, line_sizes)
            if larger(line, flag, size)
        },
        reverse=True,
    )[:_MAX_LEVELS]

    def heading(line: str, flag: bool, size: float) -> bool:
        return size in levels and larger(line, flag, size)

    out: list[Heads] = []
    open_: list[tuple[int, str]] = []  # (level, heading), outermost first
    for lines, flags, line_sizes in zip(pages, code, sizes):
        heads: Heads = {}
        i = 0
        while i < len(lines):
            if not heading(lines[i], flags[i], line_sizes[i]):
                i += 1
                continue
            count = 1
            while (
                count < _HEADING_LINES
                and i + count < len(lines)
                and line_sizes[i + count] == line_sizes[i]
                and heading(lines[i + count], flags[i + count], line_sizes[i + count])
            ):
                count += 1
            level = levels.index(line_sizes[i])
            while open_ and open_[-1][0] >= level:
                open_.pop()
            open_.append((level, " ".join(" ".join(line.split()) for line in lines[i : i + count])))
            heads[i] = (count, tuple(text for _, text in open_))
            i += count
        out.append(heads)
    return out


def definition_heads(pages: list[list[str]], heads: list[Heads]) -> list[Heads]:
    """``heads`` with a heading at each Texinfo definition line, one level below the section
    it is in, named by its category and the name it defines ("Function: sha256_init"): an
    answer from its description is led by that name (rag/answering.py ``labelled``), which the
    description leaves out ("Initialize the SHA256 state."). A signature the layout wrapped
    takes the lines up to its closing parenthesis (``_HEADING_LINES`` at most)."""
    out: list[Heads] = []
    section: Headings = ()  # the section path in force, definitions aside
    for lines, starts in zip(pages, heads):
        merged = dict(starts)
        i = 0
        while i < len(lines):
            if i in starts:
                count, section = starts[i]
                i += max(count, 1)
                continue
            found = _DEFINITION.fullmatch(lines[i].strip())
            name = _defined(found.group(2)) if found else ""
            if not found or not name:
                i += 1
                continue
            count = 1
            signature = lines[i]
            while (
                signature.count("(") > signature.count(")")
                and count < _HEADING_LINES
                and i + count < len(lines)
                and i + count not in starts
            ):
                signature += lines[i + count]
                count += 1
            merged[i] = (count, (*section, f"{found.group(1)}: {name}"))
            i += count
        out.append(merged)
    return out


def _defined(definition: str) -> str:
    """The name a definition line defines ("" if none is found)."""
    called = _DEFINED.search(definition)
    if called:
        return str(called.group(1)).rstrip(".:-")
    names = [str(name).rstrip(".:-") for name in _NAME.findall(definition)]
    if not names:
        return ""
    first = names[0]
    typed = "*" in definition or first in _C_TYPE_WORDS or first.endswith("_t")
    return names[-1] if typed else first
