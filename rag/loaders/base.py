"""What every loader returns (``LoadedDocument``: text, pages, title and blocks) and the pieces
they share: the skip reason, the bounds on work, decoding and a builder that keeps offsets."""

from __future__ import annotations

import codecs
import re
import textwrap
import time
from dataclasses import dataclass, field

# Bounds on the work one file may cause. Zip-based formats (.docx) are checked on the sizes their
# entries unpack to before anything is unpacked: zipfile never returns more than an entry declares.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_XML_BYTES = 48 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_SECONDS = 60.0  # the default of RAG_MAX_PARSE_SECONDS
# An HTML page's tree takes about 2 KB per element: past this many, markup is machine-made or
# hostile (a 4 MB page of real documentation has under 100,000; 1 MB of "<a>" has 350,000).
MAX_HTML_ELEMENTS = 200_000

BLOCK_KINDS = ("heading", "paragraph", "code", "list", "table", "caption")
# A paragraph that names a listing, figure or table ("Listing 15-23: ...") is its caption.
_CAPTION = re.compile(r"^(?:Listing|Figure|Fig\.|Table|Example)\s+[\dA-Z][\w.-]*\s*[:.]\s")


class UnreadableFile(Exception):
    """A file we skip; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Block:
    """One unit of a document's structure: ``text[start:end]`` of a LoadedDocument."""

    start: int
    end: int
    kind: str  # one of BLOCK_KINDS
    # The headings above this block, outermost first (a heading's own path ends with itself).
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedDocument:
    text: str
    # (start, end, page number from 1) for paged formats; empty otherwise.
    pages: tuple[tuple[int, int, int], ...] = ()
    # The document's title (its first heading, or the title its format declares); "" if none.
    title: str = ""
    # Headings, paragraphs, code blocks, lists, tables and captions in order; empty for formats
    # without structure (plain text), where every paragraph is text.
    blocks: tuple[Block, ...] = field(default=())


# Byte-order marks of UTF-32 and UTF-16 text (UTF-32 first: its little-endian mark starts
# with UTF-16's). Windows Notepad saved "Unicode" text as UTF-16 with a mark until 2019.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"not {encoding.upper()} text despite its byte-order mark (byte {exc.start}): "
                    "save it as UTF-8"
                ) from exc
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (not text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc


# Characters that show nothing and join or split nothing a reader sees: the zero-width space,
# the word joiner, the zero-width no-break space (a BOM inside the text) and the soft hyphen
# ("docu&shy;ment" is "document" to a reader and must be to a search). A text of them alone
# would be an "answer" of invisible characters. ZWJ and ZWNJ stay: they change how some
# scripts and emoji are written.
_INVISIBLE = str.maketrans("", "", "\u200b\u2060\ufeff\u00ad")


def normalise(text: str) -> str:
    """Unify line endings, drop invisible characters and trailing spaces; offsets refer to
    this form."""
    text = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    # Line by line, not re.sub(r"[ \t]+\n"): the regex scans a run of spaces again from each
    # of its positions when no newline ends it (100 KB of spaces took 5 s, 1 MB minutes).
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def collapse(text: str) -> str:
    """Runs of white space as one space, as a browser renders them (invisible characters
    dropped, as ``normalise`` does)."""
    return " ".join(text.translate(_INVISIBLE).split())


def too_slow(seconds: float = MAX_SECONDS) -> str:
    return (
        f"reading it took over {seconds:g} s (RAG_MAX_PARSE_SECONDS): a damaged or hostile file; "
        "split or re-save it"
    )


class Budget:
    """The work one file may cause: a deadline (``check``) and, for HTML, a number of elements
    (``element``, called as the parser makes each one). Both raise ``UnreadableFile``."""

    def __init__(self, seconds: float = MAX_SECONDS, elements: int = MAX_HTML_ELEMENTS) -> None:
        self.seconds = seconds
        self.elements = elements
        self._deadline = time.monotonic() + seconds
        self._count = 0

    def check(self) -> None:
        if time.monotonic() > self._deadline:
            raise UnreadableFile(too_slow(self.seconds))

    def element(self) -> None:
        self._count += 1
        if self._count > self.elements:
            raise UnreadableFile(
                f"over {self.elements:,} HTML elements: markup this dense is damaged or "
                "machine-made; split the page or save it as text"
            )
        if self._count % 512 == 0:
            self.check()


class DocumentBuilder:
    """Blocks joined by blank lines into one text, each block's offsets kept, headings tracked
    as a path (a heading closes every open heading of its level or deeper)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._blocks: list[Block] = []
        # Open headings, outermost first: (level, text, a defined term or not); a term sits
        # half a level below what is open when it starts (``term``).
        self._path: list[tuple[float, str, bool]] = []
        self.title = ""

    def heading(self, level: int, text: str) -> None:
        text = collapse(text)
        if not text:
            return
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text, False))
        if not self.title:
            self.title = text
        self.add(text, "heading")

    def term(self, text: str) -> bool:
        """Open a defined term (an HTML ``<dt>``, an rst definition-list term, option or field
        name): a heading just below the open ones for the blocks that describe it, until
        ``end_term``. In a manual the term is what its description leaves unsaid (the option
        ``--log-file=<filename>``, the signature ``url_for(endpoint)``). False if no words."""
        text = collapse(text)
        if not text:
            return False
        level = (self._path[-1][0] if self._path else 0) + 0.5
        self._path.append((level, text, True))
        self.add(text, "heading")
        return True

    def end_term(self) -> None:
        """Close the innermost open term (a heading met meanwhile may have closed it already)."""
        if self._path and self._path[-1][2]:
            self._path.pop()

    def add(self, text: str, kind: str) -> None:
        """Append one block; paragraphs that name a listing or figure become captions."""
        text = normalise(text)
        text = textwrap.dedent(text).rstrip() if kind == "code" else text.strip()
        if not text.strip():
            return
        if kind == "paragraph" and _CAPTION.match(text):
            kind = "caption"
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        # A code block's first line may be indented: the block starts at its first character.
        start = self._length + len(text) - len(text.lstrip())
        self._parts.append(text)
        self._length += len(text)
        path = tuple(heading for _, heading, _ in self._path)
        self._blocks.append(Block(start, self._length, kind, path))

    def build(self) -> LoadedDocument:
        return LoadedDocument("".join(self._parts), title=self.title, blocks=tuple(self._blocks))


def item_number(value: int, kind: str) -> str:
    """``value`` as an ordered list's ``type`` writes it: "1" (the default), "a"/"A" (letters,
    a number past z), "i"/"I" (Roman numerals, from 1 to 3999; a number outside)."""
    if kind in ("a", "A") and 1 <= value <= 26:
        letter = chr(ord("a") + value - 1)
        return letter.upper() if kind == "A" else letter
    if kind in ("i", "I") and 1 <= value < 4000:
        roman = _roman(value)
        return roman.upper() if kind == "I" else roman
    return str(value)


_ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)


def _roman(value: int) -> str:
    out = []
    for size, numeral in _ROMAN:
        count, value = divmod(value, size)
        out.append(numeral * count)
    return "".join(out)
