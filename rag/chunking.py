"""Pure functions: text to sentence spans and to overlapping chunks with exact offsets.

A document's structure (blocks from ``rag.loaders``) decides the units a chunk is packed from: a
paragraph gives its sentences, a heading, a code block, a list or a table is one unit (cut only
when it does not fit in one chunk). A heading starts a new chunk, so each chunk has one section.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sentencex import segment

from rag.loaders.base import Block
from rag.models import Chunk
from rag.reader_input import SECTION_MARK, document_title
from rag.text import brief

Span = tuple[int, int]
_WORD_BREAK = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]+")
_LINE = re.compile(r"[^\n]+")
_LINE_BREAK = re.compile(r"\n")
# Characters that close a sentence and belong to it, never to the start of the next one.
_CLOSING = frozenset(".!?…)]}\"'”’»:;,")
# An ASCII sentence mark directly followed by one of these (no white space between) is inside a
# token, not at a sentence's end: a name or number ("fs.ReadStream", "v1.2.X", "writable._write"),
# a path ("./configure", "..\\src"), an operator ("!=") or a placeholder ("CPU.${pid}"). An
# opening bracket or quote may start the next sentence ("It ends.(See above.)"), a closing mark
# belongs to the sentence before and a new one may follow it (Wikipedia's page references:
# "gravitational.:2-10:79 High-energy ..."), and text written without spaces between sentences
# (Chinese, Japanese) has no ASCII letters after them.
_ASCII_MARKS = frozenset(".!?")
_OPENING = frozenset("([{\"'`")
_WHOLE_UNITS = frozenset({"code", "list", "table"})
SECTION_SEPARATOR = f" {SECTION_MARK} "
# A section path is context, stored, embedded and indexed with each of its chunks: a heading
# longer than this is a paragraph styled as one, and is cut (one h1 of 100,000 characters made
# 44 MB of paths from a 100 KB page); of a deeper path, the innermost headings are kept.
MAX_HEADING_CHARS = 200
MAX_SECTION_DEPTH = 8
# What introduces the unit after it: a closing colon, "the following", a command to type.
_INTRO_END = re.compile(
    r"(?::|\b(?:as follows|like this|like so|below|run|enter|execute)\s*[.!]?)\s*$",
    re.I,
)
_INTRO_ANY = re.compile(r"\b(?:the following|as follows)\b", re.I)
_INTRO_START = re.compile(
    r"^\W*(?:(?:then|now|next|first|finally),?\s+)?(?:run|type|enter|execute)\b", re.I
)


def introduces(text: str) -> bool:
    """Whether a sentence announces what follows it (a colon, "the following", "run")."""
    stripped = text.strip()
    return bool(
        _INTRO_END.search(stripped) or _INTRO_ANY.search(stripped) or _INTRO_START.match(stripped)
    )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text``, whitespace trimmed; lines never share a sentence.

    ``text[s:e]`` is each sentence; spans are ordered and disjoint, every non-space character is
    in one, and none starts or ends inside a word or starts with the previous one's punctuation.
    """
    spans: list[Span] = []
    for start, end in _piece_spans(text):
        for line in _LINE.finditer(text, start, end):
            s, e = line.start(), line.end()
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s, e))
    return _repair(text, spans)


def _piece_spans(text: str) -> list[Span]:
    """Where each of sentencex's pieces lies in ``text``.

    The pieces do not always concatenate back to the input (it drops some blank lines), so each
    one is found from the end of the previous one; only white space may lie between them.
    """
    spans: list[Span] = []
    offset = 0
    for piece in segment("en", text):
        body = piece.strip()
        if not body:
            continue
        found = text.find(body, offset)
        if found >= 0 and not text[offset:found].strip():
            span: Span | None = (found, found + len(body))
        else:
            span = _align(text, offset, body)
        if span is None:  # not a piece of this text: the rest is cut at line ends only
            break
        spans.append(span)
        offset = span[1]
    if text[offset:].strip():
        spans.append((offset, len(text)))
    return spans


def _align(text: str, offset: int, body: str) -> Span | None:
    """Match ``body``'s non-space characters to ``text``'s from ``offset`` (the white space
    between them may differ); the span matched, or None."""
    i = offset
    start = -1
    for ch in body:
        if ch.isspace():
            continue
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != ch:
            return None
        if start < 0:
            start = i
        i += 1
    return (start, i) if start >= 0 else None


def _repair(text: str, spans: list[Span]) -> list[Span]:
    """Give closing punctuation to the sentence it closes; join spans cut inside a word or a
    token ("the fs." | "ReadStream API." is one sentence) or at a lone full stop that the line
    goes on from in lower case ("the ." | "(period) character", ``lone_stop``)."""
    out: list[Span] = []
    for span in spans:
        start, end = span
        while out and start < end and "\n" not in text[out[-1][1] : start]:
            # Closing marks at the start belong to the sentence before ("Hi." | "” Then").
            moved = start
            while moved < end and text[moved] in _CLOSING:
                moved += 1
            if moved == start or (moved < end and not text[moved].isspace()):
                break
            out[-1] = (out[-1][0], moved)
            start = moved
            while start < end and text[start].isspace():
                start += 1
        if start >= end:
            continue
        if out and out[-1][1] == start and (inside_word(text, start) or inside_token(text, start)):
            out[-1] = (out[-1][0], end)
            continue
        if out and lone_stop(text, out[-1][1], start) and "\n" not in text[out[-1][1] : start]:
            out[-1] = (out[-1][0], end)
            continue
        out.append((start, end))
    return out


def inside_word(text: str, at: int) -> bool:
    """Whether offset ``at`` falls inside a word (a letter or digit on both sides)."""
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


def lone_stop(text: str, end: int, start: int) -> bool:
    """Whether a span ending at ``end`` ends with a full stop that closes no word (white space
    before it) and the next, from ``start``, goes on in lower case: "the last occurrence of the
    . (period) character", where inline code lost its markup. Tokenised text ends sentences
    that way ("in 1960 . It is"), but the next one opens with a capital. Only ".": French sets
    a space before "!" and "?", which do end its sentences."""
    if not (end >= 2 and text[end - 1] == "." and text[end - 2].isspace()):
        return False
    while start < len(text) and text[start] in _OPENING:
        start += 1
    return start < len(text) and text[start].islower()


def inside_token(text: str, at: int) -> bool:
    """Whether offset ``at`` follows an ASCII ". ! ?" that continues a token (see above)."""
    if not 0 < at < len(text) or text[at - 1] not in _ASCII_MARKS:
        return False
    after = text[at]
    return after.isascii() and not after.isspace() and after not in _OPENING | _CLOSING


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a sentence longer than ``limit`` at word breaks (in a run without any, after a
    punctuation mark; inside a word only where the second half of the piece is one word)."""
    start, end = span
    pieces: list[Span] = []
    while end - start > limit:
        cut = start + limit
        breaks = [m.start() for m in _WORD_BREAK.finditer(text, start + limit // 2, cut)]
        if breaks:
            cut = breaks[-1]
        else:
            marks = [m.end() for m in _NOT_WORD.finditer(text, start + limit // 2, cut)]
            cut = marks[-1] if marks and marks[-1] < end else cut
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def _split_lines(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a code block, list or table longer than ``limit`` between lines (and a line longer
    than ``limit`` at word breaks)."""
    start, end = span
    lines = [
        piece
        for line in _LINE.finditer(text, start, end)
        for piece in _split_long(text, _trim(text, line.start(), line.end()), limit)
    ]
    pieces: list[Span] = []
    for line in lines:
        if pieces and line[1] - pieces[-1][0] <= limit:
            pieces[-1] = (pieces[-1][0], line[1])
        else:
            pieces.append(line)
    return pieces


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass(frozen=True)
class Unit:
    """What a chunk is packed from: a sentence, or a heading, code block, list or table."""

    start: int
    end: int
    kind: str  # "text", "heading", "code", "list", "table" or "caption"
    # A sentence that announces what follows it ("Run the following:"): it ends no chunk when a
    # code block, list or table follows, which answers cite with it (rag/answering.py).
    opens: bool = False


@dataclass(frozen=True)
class Region:
    """A stretch of a document with one heading path (and page): chunks never cross one."""

    start: int
    end: int
    kind: str  # the loaders' block kind: heading, paragraph, code, list, table or caption
    path: tuple[str, ...] = ()
    page: int | None = None


def block_units(text: str, region: Region, limit: int) -> list[Unit]:
    """The units of one block, each at most ``limit`` characters."""
    start, end = _trim(text, region.start, region.end)
    if end <= start:
        return []
    if region.kind in _WHOLE_UNITS:
        return [Unit(s, e, region.kind) for s, e in _split_lines(text, (start, end), limit)]
    if region.kind == "heading":
        return [Unit(s, e, "heading") for s, e in _split_long(text, (start, end), limit)]
    kind = "caption" if region.kind == "caption" else "text"
    body = text[start:end]
    return [
        Unit(start + s, start + e, kind, kind == "text" and introduces(body[s:e]))
        for a, b in split_sentences(body)
        for s, e in _split_long(body, (a, b), limit)
    ]


def pack_units(units: Sequence[Unit], size: int, overlap: int) -> list[list[Unit]]:
    """Pack whole units into chunks of at most ``size`` characters.

    A sentence that introduces the code block, list or table after it never ends a chunk: when
    the unit does not fit after it, the chunk ends before the sentence and the next starts with
    it (so the embedder, which reads a chunk's first 256 tokens, sees both); a chunk that the
    sentence opens takes the unit past the size (at most twice it: no unit is longer).

    Consecutive chunks share trailing units worth at most ``overlap`` characters, except at
    such a sentence. No chunk is only what the chunk before it holds (the overlap, when the unit
    after it does not fit beside it), nor only headings before such a sentence (the headings go
    with the sentence and its unit).
    """
    chunks: list[list[Unit]] = []
    i = 0
    last = -1  # the last unit the chunks so far hold
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1].end - units[i].start <= size:
            j += 1
        if j <= last:
            i = last + 1  # the overlap alone: the next chunk starts after it
            continue
        if units[j].opens and j + 1 < len(units) and units[j + 1].kind in _WHOLE_UNITS:
            new = units[max(i, last + 1) : j]
            if any(unit.kind != "heading" for unit in new):
                chunks.append(list(units[i:j]))
                last, i = j - 1, j
                continue
            # The sentence opens the chunk (no overlap there), after the headings it follows.
            i = j if not new else max(i, last + 1)
            j += 1
        chunks.append(list(units[i : j + 1]))
        last = j
        if j + 1 >= len(units):
            break
        # Step back over whole units that fit in the overlap, but always move forward.
        nxt = j + 1
        while nxt - 1 > i and units[j].end - units[nxt - 1].start <= overlap:
            nxt -= 1
        i = nxt
    return chunks


def chunk_id(source: str, doc_hash: str, start: int, end: int) -> str:
    key = f"{source}\0{doc_hash}\0{start}:{end}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]


def section_path(title: str, path: Sequence[str]) -> str:
    """``"Title > Section > Subsection"``; "" for a document without headings. A heading that
    holds the separator itself ("a > b") has it written " › ", so the path splits back into
    the headings it was made of. Bounded: ``MAX_HEADING_CHARS``, ``MAX_SECTION_DEPTH``."""
    if not path:
        return ""
    parts = [
        (
            brief(part, MAX_HEADING_CHARS, words=True) if len(part) > MAX_HEADING_CHARS else part
        ).replace(SECTION_SEPARATOR, " › ")
        for part in (title, *path[-MAX_SECTION_DEPTH:])
    ]
    return SECTION_SEPARATOR.join(parts[1:] if not title or parts[0] == parts[1] else parts)


def indexed_text(chunk: Chunk) -> str:
    """What the embedder and BM25 see of a chunk: its section path, then its text."""
    return f"{chunk.section}\n\n{chunk.text}" if chunk.section else chunk.text


def _regions(
    text: str, regions: Sequence[Region], pages: Sequence[tuple[int, int, int]]
) -> list[Region]:
    if regions:
        return _cut_at_pages(regions, pages) if pages else list(regions)
    if pages:
        return [Region(s, e, "paragraph", (), n) for s, e, n in pages]
    return [Region(0, len(text), "paragraph")]


def _cut_at_pages(regions: Sequence[Region], pages: Sequence[tuple[int, int, int]]) -> list[Region]:
    """Pages are hard boundaries, so that every chunk (and citation) has one page number: each
    region cut where its pages end, each piece with its page. Regions and pages are in document
    order (a page's range, maybe empty, never before the one before it): one walk over both,
    where comparing every region with every page took 2.8 s for a 3,000-page PDF."""
    out: list[Region] = []
    first = 0  # the first page that ends after the region before started
    for region in regions:
        while first < len(pages) and pages[first][1] <= region.start:
            first += 1
        at = first
        while at < len(pages) and pages[at][0] < region.end:
            s, e, number = pages[at]
            start, end = max(region.start, s), min(region.end, e)
            if end > start:
                out.append(Region(start, end, region.kind, region.path, number))
            at += 1
    return out


def _groups(text: str, regions: list[Region], size: int) -> list[tuple[Region, list[Unit]]]:
    """Units grouped by section (and page); a group of headings only joins the next group."""
    groups: list[tuple[Region, list[Unit]]] = []
    for region in regions:
        units = block_units(text, region, size)
        if not units:
            continue
        last = groups[-1] if groups else None
        same = last is not None and (last[0].path, last[0].page) == (region.path, region.page)
        if last is not None and same and region.kind != "heading":
            last[1].extend(units)
        elif (
            last is not None
            and last[0].page == region.page
            and all(u.kind == "heading" for u in last[1])
        ):
            groups[-1] = (region, [*last[1], *units])
        else:
            groups.append((region, units))
    return groups


def chunk_document(
    source: str,
    text: str,
    *,
    size: int,
    overlap: int,
    pages: tuple[tuple[int, int, int], ...] = (),
    blocks: Sequence[Block] = (),
    title: str = "",
) -> list[Chunk]:
    """Chunks of one document; ``text[c.start:c.end] == c.text`` holds for every chunk.

    ``blocks`` (from the loader) give the structure; without them the text is paragraphs.
    """
    regions = [Region(b.start, b.end, b.kind, b.path) for b in blocks]
    doc_hash = content_hash(text)
    title = title or document_title(text)
    chunks: list[Chunk] = []
    for region, units in _groups(text, _regions(text, regions, pages), size):
        section = section_path(title, region.path)
        for members in pack_units(units, size, overlap):
            start, end = members[0].start, members[-1].end
            chunks.append(
                Chunk(
                    id=chunk_id(source, doc_hash, start, end),
                    source=source,
                    start=start,
                    end=end,
                    text=text[start:end],
                    page=region.page,
                    sentences=tuple((u.start - start, u.end - start) for u in members),
                    title=title,
                    section=section,
                    kinds=tuple(u.kind for u in members),
                )
            )
    return chunks
