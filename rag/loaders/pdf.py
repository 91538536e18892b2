"""PDF: each page's text with the layout's running heads and page numbers left out, its lines set
in a monospaced font as code blocks, its other lines' wrapping undone, its ligatures spelled out
and its accents joined to their letters. The outline (bookmarks), where the file has one, gives
the heading path: each entry's heading line, found on its page, is a heading and starts its
section there; without an outline, the lines set larger than the body text are the headings; in
both, each of Texinfo's definition lines ("[Function]void sha256_init (...)") heads its entry
(rag/loaders/pdf_headings.py)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from rag.loaders.base import (
    MAX_SECONDS,
    Block,
    Budget,
    LoadedDocument,
    UnreadableFile,
    normalise,
)
from rag.loaders.pdf_headings import (
    Headings,
    Heads,
    definition_heads,
    heading_lines,
    outline,
    size_headings,
)
from rag.text import brief

T = TypeVar("T")
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")
# Lines at least this share of a page's longest line were wrapped by the layout, not the author.
_FULL_LINE = 0.6
_PARAGRAPH = re.compile(r"[^\n](?:.|\n(?!\n))*")
# Running heads and feet: the layout repeats them at a page's edges (its first or last lines).
_EDGE_LINES = 2
# A line at the edges of this share of the pages (and of at least _MIN_PAGES), digits aside, is
# the layout's: "Shared MIME-info Database", "Page 3 of 17", a copyright foot.
_RUNNING_SHARE = 0.25
_MIN_PAGES = 3
# An edge line of at most this many words that starts or ends with the page's printed number
# ("5", "Chapter 2: ASN.1 structure handling 3") is its running head, once the printed numbers
# follow the pages (a constant offset) on _RUNNING_SHARE of them.
_HEAD_WORDS = 12
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*(?=\s|$)|(?=\n)")
# A font's descriptor flag for fixed pitch (PDF 32000-1, 9.8.2), and the names of typewriter
# faces (Courier, Nimbus Mono, TeX's CMTT and Latin Modern Mono, Consolas, DejaVu Sans Mono...).
_FIXED_PITCH = 1
_MONOSPACED_NAME = re.compile(
    r"mono|nimbusmon|courier|consol|typewriter|cm[a-z]*tt|lmtt|sftt|txtt|inconsolata|menlo|monaco"
    r"|sourcecode|fixedsys|lucidaconsole|andale|lettergothic|firacode|jetbrains|pragmata",
    re.IGNORECASE,
)
# Typesetting ligatures that fonts map to their own code points: "deﬁne" is not "define" to a
# search, nor to the embedding model's vocabulary (TeX writes ﬁ, ﬂ, ﬀ, ﬃ, ﬄ so).
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)  # fmt: skip
# TeX sets an accent as a glyph of its own before its letter, and pypdf writes it so: "M¨oller",
# "Micha¨el", "r´esum´e" are no words to a search or to the embedding model. Each spacing accent
# with the combining mark it stands for (not "`", "^" or "~": ASCII, and code writes them).
_ACCENTS = {"¨": "\u0308", "´": "\u0301", "ˆ": "\u0302", "˜": "\u0303", "ˇ": "\u030c",
            "˘": "\u0306", "˝": "\u030b", "˚": "\u030a", "¯": "\u0304", "˙": "\u0307"}  # fmt: skip
_ACCENTED = re.compile(f"([{''.join(_ACCENTS)}])([A-Za-zı])")
# A line that starts with a bullet glyph starts a list item, never goes on the line before.
_BULLET = re.compile(r"[•◦▪‣∙●○■]\s")
_CLOSING = frozenset(".!?:;)]}\"'’”")


def load_pdf(path: Path | BinaryIO, max_seconds: float = MAX_SECONDS) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf itself refuses streams that decompress past its limits (the PDF bomb case). One
    # page can still take hours: a 2 KB file whose page draws a form of 20,000 text operators
    # 5,000 times (pypdf's cap on such calls). The deadline is checked before each operator.
    budget = Budget(max_seconds)
    page_lines: list[list[str]] = []
    page_code: list[list[bool]] = []
    page_sizes: list[list[float]] = []
    try:
        reader = PdfReader(path if not isinstance(path, Path) else str(path))
        for page in reader.pages:
            budget.check()
            pieces: list[tuple[str, bool, float]] = []
            text = page.extract_text(
                visitor_operand_before=lambda *_: budget.check(),
                visitor_text=_Pieces(pieces),
            )
            lines, code = code_lines(text or "", pieces)
            page_lines.append([accented(line.translate(_LIGATURES)) for line in lines])
            page_code.append(code)
            page_sizes.append(line_sizes(text or "", pieces))
        budget.check()  # pypdf logs and passes over a form the check stopped inside
        entries = outline(reader, len(page_lines))
    except UnreadableFile:  # the deadline
        raise
    except Exception as exc:  # pypdf raises several unrelated types on a damaged or odd file
        # (PdfReadError, KeyError, NotImplementedError for a filter it lacks, ...): one file's
        # problem, never the whole sync's.
        reason = (
            str(exc) if isinstance(exc, (PyPdfError, OSError)) else f"{type(exc).__name__}: {exc}"
        )
        raise UnreadableFile(f"not a readable PDF ({brief(reason)})") from exc
    running = running_lines(page_lines)
    # Each page's lines, their code flags and sizes, without its running heads.
    kept_lines = [_without(page, drop) for page, drop in zip(page_lines, running)]
    kept_code = [_without(page, drop) for page, drop in zip(page_code, running)]
    kept_sizes = [_without(page, drop) for page, drop in zip(page_sizes, running)]
    # The outline says where sections start; without one, the lines set larger than the text.
    if any(entries):
        heads = [heading_lines(*page) for page in zip(kept_lines, kept_code, entries)]
    else:
        heads = size_headings(kept_lines, kept_code, kept_sizes)
    heads = definition_heads(kept_lines, heads)
    laid: list[_Page] = []
    top: Headings = ()  # the heading path in force at the top of the page
    for page_lines_kept, flags, starts in zip(kept_lines, kept_code, heads):
        laid.append(_Page.of(page_lines_kept, flags, top, starts))
        top = starts[max(starts)][1] if starts else top
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    blocks: list[Block] = []
    offset = 0
    began = 0  # the page the last sentence to go on across a page break started on
    for number, sheet in enumerate(laid, start=1):
        page_text = sheet.text
        # A heading at the page's top starts a section: it never goes on with a sentence.
        headed = bool(sheet.blocks) and sheet.blocks[0][2] == "heading"
        joined = bool(parts) and not headed and _continues(laid[number - 2], sheet)
        if joined and _HYPHENATED.search(parts[-1]):
            parts[-1] = parts[-1][:-1]  # "exam-" at a page's foot, "ple" at the next one's head
            offset -= 1
            start, _, previous = pages[-1]
            pages[-1] = (start, offset, previous)
            blocks[-1] = replace(blocks[-1], end=offset)
        elif joined:
            parts.append(" ")
            offset += 1
        elif parts:
            parts.append("\n\n")
            offset += 2
        parts.append(page_text)
        if joined:
            # Pages are the chunks' hard boundaries (each chunk has one page): the sentence
            # goes on to its end on the page it started on, over any page it filled (the page
            # before, if its range is empty, or one short of it for the hyphen taken out).
            cut = _first_sentence_end(page_text)
            if pages[-1][0] < pages[-1][1]:
                began = len(pages) - 1
            start, _, previous = pages[began]
            pages[began] = (start, offset + cut, previous)
            cut += len(page_text[cut:]) - len(page_text[cut:].lstrip())
            pages.append((offset + cut, offset + len(page_text), number))
        else:
            pages.append((offset, offset + len(page_text), number))
        found = [
            Block(offset + start, offset + end, kind, path)
            for start, end, kind, path in sheet.blocks
        ]
        if joined and blocks and found:  # one paragraph across the page break
            found[0] = replace(blocks.pop(), end=found[0].end)
        blocks.extend(found)
        offset += len(page_text)
    # A page a sentence filled is empty, where that sentence ends (once, not at each page).
    for n in range(1, len(pages)):
        start, end, at = pages[n]
        if start >= end and start <= pages[n - 1][1]:
            pages[n] = (pages[n - 1][1], pages[n - 1][1], at)
    # Without an outline or code, the pages are the only structure (chunking reads them as
    # paragraphs).
    structured = any(block.path or block.kind == "code" for block in blocks)
    return LoadedDocument("".join(parts), tuple(pages), blocks=tuple(blocks) if structured else ())


def accented(line: str) -> str:
    """``line`` with each spacing accent that goes before a letter joined to it, where Unicode
    has the accented letter ("M¨oller": "Möller"; TeX's dotless "ı" takes it as "i" does); any
    other accent is left as written."""
    return _ACCENTED.sub(_join_accent, line)


def _join_accent(match: re.Match[str]) -> str:
    letter = "i" if match.group(2) == "ı" else match.group(2)
    joined = unicodedata.normalize("NFC", letter + _ACCENTS[match.group(1)])
    return joined if len(joined) == 1 else match.group()


def _without(values: list[T], drop: set[int]) -> list[T]:
    return [value for i, value in enumerate(values) if i not in drop]


class _Pieces:
    """pypdf's text visitor: each piece of text it writes, whether its font is monospaced, and
    the size its glyphs are drawn at (points, rounded to a tenth)."""

    def __init__(self, into: list[tuple[str, bool, float]]) -> None:
        self.into = into
        self.fonts: dict[int, tuple[Any, bool]] = {}  # id -> (the font, kept alive; monospaced)

    def __call__(self, text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        known = self.fonts.get(id(font))
        if known is None or known[0] is not font:
            known = self.fonts[id(font)] = (font, _monospace(font))
        self.into.append((text, known[1], _drawn_size(cm, tm, size)))


def _drawn_size(cm: Any, tm: Any, size: Any) -> float:
    """The font size as drawn: the size set, scaled by the text and page matrices."""
    try:
        a, b, c, d = (
            tm[0] * cm[0] + tm[1] * cm[2],
            tm[0] * cm[1] + tm[1] * cm[3],
            tm[2] * cm[0] + tm[3] * cm[2],
            tm[2] * cm[1] + tm[3] * cm[3],
        )
        return round(float(size) * math.sqrt(abs(a * d - b * c)), 1)
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0


def _monospace(font: Any) -> bool:
    """Whether text is set in a monospaced font: its descriptor says fixed pitch, or its name is
    a typewriter face's (subset fonts seldom set the flag: "JNNPWA+NimbusMonL-Regu", "CMTT10")."""
    if not font:
        return False
    try:
        name = str(font.get("/BaseFont", "")).partition("+")[2] or str(font.get("/BaseFont", ""))
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        flags = int(descriptor.get_object().get("/Flags", 0)) if descriptor is not None else 0
    except Exception:  # a damaged font dictionary: its text is read as prose
        return False
    return bool(flags & _FIXED_PITCH) or bool(_MONOSPACED_NAME.search(name))


def code_lines(text: str, pieces: Sequence[tuple[Any, ...]]) -> tuple[list[str], list[bool]]:
    """``text``'s lines, and for each whether it is code: every character of it with a glyph set
    in a monospaced font. ``pieces`` are the text pypdf wrote, in order, each with whether its
    font is monospaced; where they do not make up ``text`` (another pypdf), nothing is code."""
    lines = _lines(text)
    mono = _by_character(text, pieces, 1)
    if mono is None:
        return lines, [False] * len(lines)
    code: list[bool] = []
    for line, at in zip(lines, _starts(lines)):
        glyphs = [mono[at + i] for i, ch in enumerate(line) if not ch.isspace()]
        code.append(bool(glyphs) and all(glyphs))
    return lines, code


def line_sizes(text: str, pieces: Sequence[tuple[Any, ...]]) -> list[float]:
    """For each of ``text``'s lines, the smallest size its glyphs are drawn at (0.0: no glyph,
    or ``pieces``, each with its size third, do not make up ``text``)."""
    lines = _lines(text)
    size = _by_character(text, pieces, 2)
    if size is None:
        return [0.0] * len(lines)
    return [
        min((size[at + i] for i, ch in enumerate(line) if not ch.isspace()), default=0.0)
        for line, at in zip(lines, _starts(lines))
    ]


def _lines(text: str) -> list[str]:
    return _newlines(text).split("\n")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _starts(lines: list[str]) -> list[int]:
    """Where each line starts in the text they were split from."""
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return starts


def _by_character(text: str, pieces: Sequence[tuple[Any, ...]], field: int) -> list[Any] | None:
    """What ``pieces`` say at ``field`` of each character of ``text`` (line breaks made one);
    None where the pieces do not make up the text."""
    if _newlines("".join(piece[0] for piece in pieces)) != _newlines(text):
        return None
    out: list[Any] = []
    for piece in pieces:
        out.extend([piece[field]] * len(_newlines(piece[0])))
    return out


@dataclass(frozen=True)
class _Page:
    """A page's text (running heads left out) and its blocks: code as it was set, the rest with
    the layout's wrapping undone, in paragraphs."""

    text: str
    # start, end (offsets into ``text``), kind, heading path
    blocks: tuple[tuple[int, int, str, Headings], ...]
    first_code: bool
    last_code: bool
    last_line: str  # the last line of its text as the page wrote it, and its widest line
    widest: int

    @classmethod
    def of(
        cls,
        lines: list[str],
        code: list[bool],
        top: Headings = (),
        heads: Heads | None = None,
    ) -> _Page:
        """``heads``: at a line, the path that starts there and how many lines its heading
        takes (0: none was found, the path starts there without one); see heading_lines."""
        heads = heads or {}
        written = [(line.strip(), flag) for line, flag in zip(lines, code) if line.strip()]
        runs: list[tuple[str, Headings, list[str]]] = []  # kind, path, lines
        path, skip = top, 0
        for i, (line, flag) in enumerate(zip(lines, code)):
            if skip:
                skip -= 1
                continue
            if i in heads:
                count, path = heads[i]
                if count:
                    runs.append(
                        ("heading", path, [" ".join(x.strip() for x in lines[i : i + count])])
                    )
                    skip = count - 1
                    continue
            if not line.strip():  # a blank line inside a listing is the listing's
                flag = bool(runs) and runs[-1][0] == "code" and _next_is_code(lines, code, i)
            kind = "code" if flag else "text"
            if runs and runs[-1][:2] == (kind, path):
                runs[-1][2].append(line)
            else:
                runs.append((kind, path, [line]))
        parts: list[str] = []
        blocks: list[tuple[int, int, str, Headings]] = []
        offset = 0
        for kind, path, run in runs:
            joined = "\n".join(run)
            text = normalise(unwrap_lines(joined) if kind == "text" else joined)
            if not text:
                continue
            if parts:
                parts.append("\n\n")
                offset += 2
            parts.append(text)
            if kind == "text":
                blocks.extend(
                    (offset + m.start(), offset + m.end(), "paragraph", path)
                    for m in _PARAGRAPH.finditer(text)
                )
            else:
                blocks.append((offset, offset + len(text), kind, path))
            offset += len(text)
        return cls(
            text="".join(parts),
            blocks=tuple(blocks),
            first_code=bool(written) and written[0][1],
            last_code=bool(written) and written[-1][1],
            last_line=written[-1][0] if written else "",
            widest=max((len(line) for line, _ in written), default=0),
        )


def _next_is_code(lines: list[str], code: list[bool], i: int) -> bool:
    return next((flag for line, flag in zip(lines[i:], code[i:]) if line.strip()), False)


def running_lines(pages: list[list[str]]) -> list[set[int]]:
    """Per page, the indexes of its lines that the layout repeats on every page, not the
    author's text: at a page's edges (its first or last ``_EDGE_LINES`` lines with words), a
    line that recurs, digits aside, at the edges of many pages (``_RUNNING_SHARE``), or a short
    line that starts or ends with the page's printed number. Left in, a running head is read
    into the page's first sentence ("Shared MIME-info Database directory is added ...") and a
    page number into its last ("... check the input for errors themselves. 3")."""
    edges: list[list[int]] = []
    for lines in pages:
        kept = [i for i, line in enumerate(lines) if line.strip()]
        edges.append(sorted(set(kept[:_EDGE_LINES] + kept[-_EDGE_LINES:])))
    needed = max(_MIN_PAGES, _RUNNING_SHARE * len(pages))
    shapes = Counter(
        shape for lines, at in zip(pages, edges) for shape in {_shape(lines[i]) for i in at}
    )
    offsets = Counter(
        offset
        for n, (lines, at) in enumerate(zip(pages, edges))
        for offset in {n - number for i in at for number in _printed_numbers(lines[i])}
    )
    offset, count = offsets.most_common(1)[0] if offsets else (0, 0)
    numbered = count >= needed
    running: list[set[int]] = []
    for n, (lines, at) in enumerate(zip(pages, edges)):
        # The first page's line is its title where later pages repeat it as their head.
        drop = {i for i in at if n and shapes[_shape(lines[i])] >= needed}
        # One printed number a page: the line that is only the number, else the outermost
        # ("1" above "1 Introduction" on printed page 1: the second is the chapter's heading).
        printed = [i for i in at if numbered and n - offset in _printed_numbers(lines[i])]
        if printed:
            drop.add(min(printed, key=lambda i: (len(lines[i].split()), _depth(i, lines))))
        running.append(drop)
    return running


def _depth(i: int, lines: list[str]) -> int:
    """How far line ``i`` is from its page's nearer edge, counted in lines with words."""
    return min(
        sum(1 for line in lines[:i] if line.strip()),
        sum(1 for line in lines[i + 1 :] if line.strip()),
    )


def _continues(before: _Page, page: _Page) -> bool:
    """Whether ``page`` goes on with the sentence that the page ``before`` it broke off: that
    page's last line runs to the margin and ends without closing punctuation, this page starts
    in lower case, and neither is code there."""
    tail = before.text.rstrip()
    return (
        bool(tail)
        and not before.last_code
        and not page.first_code
        and tail[-1] not in _CLOSING
        and len(before.last_line) >= _FULL_LINE * before.widest
        and page.text[:1].islower()
    )


def _first_sentence_end(text: str) -> int:
    """Where the sentence that ``text`` opens with ends: after its full stop (or other closing
    mark) or at its line's end."""
    found = _SENTENCE_END.search(text)
    return found.end() if found else len(text)


def _shape(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).lower())


def _printed_numbers(line: str) -> set[int]:
    """The numbers a short line starts or ends with (a page number is printed there)."""
    words = line.split()
    if not words or len(words) > _HEAD_WORDS:
        return set()
    ends = {words[0], words[-1]}
    return {int(word) for word in ends if word.isdecimal() and len(word) <= 5}


def unwrap_lines(text: str) -> str:
    """Undo a PDF's line wrapping: a word hyphenated at a line end is joined ("exam-\\nple" ->
    "example"); a line that runs (nearly) to the margin, or a next line that starts in lower case,
    continues the sentence, unless it starts with a bullet; short lines (headings, list items, a
    paragraph's end) keep their break.
    """
    lines = [line.strip() for line in _lines(text)]
    widest = max((len(line) for line in lines), default=0)
    # Each line out as the pieces it is joined from, its text looked at only at its end: searched
    # and copied whole at each next line, a page of 5,000 lines in one paragraph took a minute.
    out: list[list[str]] = []
    for before, line in zip(["", *lines], lines):
        # The first line, a blank one, or a list item's first (its bullet starts it).
        if not out or not out[-1][-1] or not line or _BULLET.match(line):
            out.append([line])
            continue
        pieces = out[-1]
        starts_lower = line[0].islower()
        # Whether the line before ran to the margin: that line's length, not the joined text's
        # (a paragraph's short last line ends it, however long the paragraph).
        if starts_lower and _HYPHENATED.search("".join(pieces[-2:])[-2:]):
            pieces[-1] = pieces[-1][:-1]
            pieces.append(line)
        elif starts_lower or len(before) >= _FULL_LINE * widest:
            pieces.append(" " + line)
        else:
            out.append([line])
    return "\n".join("".join(pieces) for pieces in out)
