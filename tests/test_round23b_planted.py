"""Round 23's second probe: planted bugs that the other tests let through, each seen failing on
its mutant and passing on the code as it is.

rag/entities.py ``written_outside_urls`` and rag/api.py ``question_names`` (real Chroma in
tmp_path, the packaged embedding model):

- ``_URL`` narrowed to ``https?://`` (an ``ftp://`` address), or without ``re.IGNORECASE``
  ("HTTP://", "WWW."): a word inside it was held written.
- ``is_code or`` dropped: a code the documents write only inside a URL was no name any more.
- the chunks read capped at one (``most = 1``): a rare word one chunk writes in a URL many times
  and another in a sentence once was no name.
- the chunks read without their section path (``c.text``): a word written only in an outline
  entry's title (the section path).
- ``_URL``'s scheme ending in ":" alone: "OCaml:4.14" was held an address.
- the loop stopping at the first text with names before the URL rule (``if found``): the
  retrieval question's URL-only name hid the asked question's real name.

rag/loaders/pdf_headings.py ``size_headings`` and rag/loaders/pdf.py (real PDFs made with fpdf2,
read by pypdf; ``size_headings`` and ``unwrap_lines`` on lines as tests/test_pdf_size_headings.py
does):

- ``size > body * _LARGER`` for ``>=``; ``len(words) < _HEADING_WORDS`` for ``<=``.
- the body's size as the smallest size (``min(weight)``), or as the size of most lines (not of
  most characters).
- ``count <= _HEADING_LINES``, ``_HEADING_LINES = 2``: a heading wrapped over three lines.
- the next line joined to a heading by its size alone, not being a heading itself (code).
- ``_drawn_size`` without the matrices: text drawn scaled (a ``cm`` around it) kept its set size;
  without ``b * c``: text turned a quarter had no size.
- ``line_sizes`` taking the largest glyph, not the smallest: a body line with one large word.
- the sizes not having the running heads left out (``kept_sizes = page_sizes``).
- U+FB06 (``ﬆ``) left out of ``_LIGATURES``; "‣" left out of ``_BULLET``; ``_BULLET.search``
  for ``match``; ``_BULLET`` without its space.

rag/chunking.py ``section_path`` and rag/text.py ``brief``:

- ``MAX_HEADING_CHARS = 199``, ``MAX_SECTION_DEPTH = 7`` (the tests read the constants).
- ``line.find(" ", limit)`` for ``limit + 1``: a heading whose character at the limit is a space
  was cut without its "…"; ``line[:end]`` with no space past the limit (``end == -1``) lost
  the last character, and a one-letter last word its "…" with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import rag
from rag import Settings
from rag.api import ensure_index, question_names
from rag.chunking import section_path
from rag.entities import Term, written_outside_urls
from rag.loaders import load_document
from rag.loaders.pdf import unwrap_lines
from rag.loaders.pdf_headings import size_headings
from rag.text import brief
from tests.test_names_in_urls import write_attributes
from tests.test_pdf_size_headings import blocks
from tests.test_pdf_size_headings import make as size_headings_pdf

# --- rag/entities.py, rag/api.py: a word written only inside web addresses --------------------


def term(word: str) -> Term:
    return Term(word, word.casefold(), word.casefold())


def test_any_scheme_and_any_case_of_a_web_address_hides_a_word() -> None:
    """A word inside an ftp:// (or svn+ssh://) address, or an address written in capitals, is
    not written: CamlIDL's era of manuals points at ftp:// mirrors as often as http://."""
    ocaml = term("OCaml")
    assert not written_outside_urls(ocaml, ["Get it at ftp://ftp.inria.fr/lang/ocaml/ today."])
    assert not written_outside_urls(ocaml, ["Check out svn+ssh://scm.inria.fr/ocaml/trunk."])
    assert not written_outside_urls(ocaml, ["See HTTP://CAML.INRIA.FR/OCAML/ for more."])
    assert not written_outside_urls(ocaml, ["See WWW.OCAML.ORG for more."])
    assert written_outside_urls(ocaml, ["Get OCaml at ftp://ftp.inria.fr/lang/ today."])
    # A scheme ends in "://": "OCaml:4.14" (a word, a colon, a version) is written.
    assert written_outside_urls(ocaml, ["Tested with OCaml:4.14 and 5.1."])


POINTERS = (
    "# Pointers\n\nIDL pointers of kind unique are mapped to an option type. The option value "
    "is None for a null pointer, and Some(v) for a non-null pointer to a value.\n"
)
LINKS = (
    "# History\n\nThe compiler team released a version with faster garbage collection. The "
    "language manual is at 1http://caml.inria.fr/ocaml/htmlman/index.html today, its notes at "
    "https://caml.inria.fr/releases/R2041/notes.html. Web servers are written with Ocsigen.\n"
)
# "Zephyrine" in two chunks: many times in the addresses of one, once in a sentence of the other.
MIRRORS = (
    "# Mirrors\n\nDownload from https://zephyrine.example.org/zephyrine/zephyrine.tar.gz or "
    "https://zephyrine.example.net/zephyrine/zephyrine.tar.gz or "
    "https://mirror.example.com/zephyrine/zephyrine/zephyrine.zip when the first is down.\n"
)
TOOLS = (
    "# Tools\n\nThe build uses several programs. The stub generator reads the interface files "
    "and writes C code for each function, and the linker puts the stubs and the library "
    "together. Zephyrine checks the generated code for leaks before it is shipped.\n"
)


def editor_pdf(path: Path) -> None:
    """ "Merlinet" only as an outline entry's title, which the page never writes: the chunk's
    section path, which BM25 indexes with it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.start_section("Merlinet")
    pdf.multi_cell(0, 7, "It completes identifiers in the editor as they are typed.")
    pdf.output(str(path))


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("caml")
    docs = base / "docs"
    docs.mkdir()
    for name, text in (
        ("pointers.md", POINTERS),
        ("links.md", LINKS),
        ("mirrors.md", MIRRORS),
        ("tools.md", TOOLS),
    ):
        (docs / name).write_text(text, encoding="utf-8")
    editor_pdf(docs / "editor.pdf")
    write_attributes(docs, 110)  # a word in 2 chunks of over 100 is a rare one (1 in 50)
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


def names(asked: str, settings: Settings, query: str | None = None) -> list[str]:
    eng = ensure_index(settings)
    return [t.text for t in question_names(asked, asked if query is None else query, eng)]


def test_a_code_written_only_in_a_url_is_still_a_name(manual: Settings) -> None:
    """Codes bind wherever they are written (round 23: "Codes still bind"): "R2041" only in a
    release notes address is still the question's name."""
    assert names("What changed in release R2041?", manual) == ["R2041"]


def test_every_chunk_that_holds_a_rare_word_is_read(manual: Settings) -> None:
    """ "Zephyrine" scores highest in the chunk of mirror addresses; the chunk that writes it in
    a sentence is read too, so it stays a name."""
    assert names("What does Zephyrine check in the generated code?", manual) == ["Zephyrine"]


def test_a_word_written_in_a_section_path_is_written(manual: Settings) -> None:
    """The chunk read is the text BM25 indexed: its section path (an outline entry's title
    the page does not write), then its text."""
    assert names("What does Merlinet complete in the editor?", manual) == ["Merlinet"]


def test_the_asked_question_is_read_when_the_retrieval_questions_names_are_in_urls(
    manual: Settings,
) -> None:
    """The retrieval question (a follow-up's rewrite) names only "OCaml", written in a URL:
    the asked question's "Ocsigen" is the name, not none."""
    assert names("What about OCaml pointers?", manual, "Is there Ocsigen in it?") == ["Ocsigen"]


# --- rag/loaders/pdf_headings.py, rag/loaders/pdf.py: headings by size ------------------------

BODY_LINE = "Body text, set in the size most characters have on the page. "


def test_a_line_exactly_the_larger_share_of_the_body_is_a_heading() -> None:
    """``_LARGER`` is "at least 1.05 times": 10.5 pt over a 10 pt body is a heading."""
    (heads,) = size_headings([["Goals", BODY_LINE * 3]], [[False, False]], [[10.5, 10.0]])
    assert heads == {0: (1, ("Goals",))}


def test_a_line_of_exactly_the_most_words_is_a_heading() -> None:
    """``_HEADING_WORDS`` words is a heading; one more is not (tests/test_pdf_size_headings.py)."""
    twenty = " ".join(f"w{i}" for i in range(20))
    (heads,) = size_headings([[twenty, BODY_LINE * 3]], [[False, False]], [[14.0, 10.0]])
    assert heads == {0: (1, (twenty,))}


def test_a_heading_wrapped_over_three_lines_is_one_and_a_fourth_starts_another() -> None:
    lines = ["A heading", "the layout wrapped", "over three lines", "Next heading", BODY_LINE * 3]
    sizes = [14.0, 14.0, 14.0, 14.0, 10.0]
    (heads,) = size_headings([lines], [[False] * 5], [sizes])
    whole = "A heading the layout wrapped over three lines"
    assert heads == {0: (3, (whole,)), 3: (1, ("Next heading",))}


def test_a_code_line_in_the_headings_size_does_not_join_it() -> None:
    lines = ["Install", "make install", BODY_LINE * 3]
    (heads,) = size_headings([lines], [[False, True, False]], [[14.0, 14.0, 10.0]])
    assert heads == {0: (1, ("Install",))}


def test_the_body_is_the_size_of_most_characters() -> None:
    """Not the smallest size (a footnote's), nor the size of most lines: a page of short large
    lines (a contents list) over a few long lines of body text."""
    lines = ["Contents", "Part one", "Part two", "Part three", "Part four", "Part five"]
    lines += [BODY_LINE * 3, BODY_LINE * 3, "1 A footnote in small print."]
    sizes = [16.0, 14.0, 14.0, 14.0, 14.0, 14.0, 10.0, 10.0, 8.0]
    (heads,) = size_headings([lines], [[False] * 9], [sizes])
    assert heads == {
        0: (1, ("Contents",)),
        1: (3, ("Contents", "Part one Part two Part three")),
        4: (2, ("Contents", "Part four Part five")),
    }


def make(path: Path, lines: list[tuple[float, str]], pages: int = 1) -> None:
    """``pages`` pages of the same lines (font size, text)."""
    size_headings_pdf(path, [lines] * pages)


def test_a_pdf_with_small_print_reads_its_body_as_body(tmp_path: Path) -> None:
    """A footnote in 8 pt under 11 pt text: the 11 pt lines are no headings."""
    make(
        tmp_path / "a.pdf",
        [(16, "Overview"), (11, "Atlas maps the world."), (11, "It aims to be exact."),
         (8, "1 Exact to a metre.")],
    )  # fmt: skip
    assert [b[:2] for b in blocks(tmp_path / "a.pdf")] == [
        ("heading", ("Overview",)),
        ("paragraph", ("Overview",)),
    ]


def test_text_drawn_scaled_is_as_large_as_it_is_drawn(tmp_path: Path) -> None:
    """A heading set in 11 pt and drawn at 1.5 times (a ``cm`` around it) is 16.5 pt: the page
    and text matrices scale the size set (``_drawn_size``)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    make(tmp_path / "h.pdf", [(11, "Overview")])
    make(tmp_path / "b.pdf", [(11, "")] * 5 + [(11, "Atlas maps the world, in eleven points.")])
    writer = PdfWriter()
    page = writer.add_page(PdfReader(tmp_path / "h.pdf").pages[0])
    page.add_transformation(Transformation().scale(1.5, 1.5).translate(0, -420))
    page.merge_page(PdfReader(tmp_path / "b.pdf").pages[0])
    writer.write(tmp_path / "a.pdf")
    assert blocks(tmp_path / "a.pdf") == [
        ("heading", ("Overview",), "Overview"),
        ("paragraph", ("Overview",), "Atlas maps the world, in eleven points."),
    ]


def test_text_drawn_turned_is_as_large_as_it_is_drawn(tmp_path: Path) -> None:
    """A heading in 16 pt turned a quarter (a sideways heading): the matrices' determinant, not
    their diagonal, gives its size (``abs(a * d - b * c)``)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    with pdf.rotation(90, x=20, y=150):
        pdf.text(20, 150, "Overview")
    pdf.set_font("helvetica", size=11)
    pdf.set_xy(40, 20)
    pdf.multi_cell(0, 7, "Atlas maps the world, in eleven points.\nIt aims to be exact.")
    pdf.output(str(tmp_path / "a.pdf"))
    assert [b[:2] for b in blocks(tmp_path / "a.pdf")] == [
        ("heading", ("Overview",)),
        ("paragraph", ("Overview",)),
    ]


def test_a_body_line_with_one_large_word_is_no_heading(tmp_path: Path) -> None:
    """A line's size is its smallest glyph's: "Press the BIG button" is body text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.multi_cell(0, 10, "Usage", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.write(8, "Press the ")
    pdf.set_font("helvetica", size=16)
    pdf.write(8, "BIG")
    pdf.set_font("helvetica", size=11)
    pdf.write(8, " button to start the machine.")
    pdf.ln(10)
    pdf.write(8, "Body text goes on here, for a while, in the body size of the page.")
    pdf.output(str(tmp_path / "a.pdf"))
    assert [b[:2] for b in blocks(tmp_path / "a.pdf")] == [
        ("heading", ("Usage",)),
        ("paragraph", ("Usage",)),
    ]


def test_size_headings_under_a_running_head(tmp_path: Path) -> None:
    """A running head repeated on each page is left out, and so is its size: the sizes stay
    with their lines (``_without`` on the sizes as on the lines)."""
    from fpdf import FPDF

    pdf = FPDF()
    for n, (title, words) in enumerate(
        [("Overview", "maps the world"), ("Usage", "runs at night"), ("Limits", "stops at sea")]
    ):
        pdf.add_page()
        for size, text in [
            (9, "Atlas Manual"),
            (11, f"Atlas {words}, page {n}."),
            (11, f"It {words} with care."),
            (16, title),
            (11, f"Then it {words} again."),
            (11, f"And then it {words} once more."),
            (11, f"At last it {words} for good."),
        ]:
            pdf.set_font("helvetica", size=size)
            pdf.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "a.pdf"))
    found = blocks(tmp_path / "a.pdf")
    assert [b[2] for b in found if b[0] == "heading"] == ["Overview", "Usage", "Limits"]
    assert all(path == (text,) for kind, path, text in found if kind == "heading")


def test_the_st_ligature_is_spelled_out(tmp_path: Path) -> None:
    """U+FB05 and U+FB06 ("ﬅ", "ﬆ") are "st" (a Garamond-style font's historical ligatures)."""
    import matplotlib
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font(
        "dejavu", fname=os.path.join(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf")
    )
    pdf.set_font("dejavu", size=12)
    pdf.multi_cell(0, 10, "The ﬁrst ﬆep is the laﬅ.")
    pdf.output(str(tmp_path / "a.pdf"))
    assert load_document(tmp_path / "a.pdf").text == "The first step is the last."


MARGIN = "A line of prose that runs all the way to the right margin of the page, as lines"


def test_every_bullet_starts_an_item_and_only_at_a_lines_start() -> None:
    """ "‣" starts an item as "•" does; a bullet inside a line, or one glued to a word
    ("•••", "•x"), is no item's start."""
    assert unwrap_lines(f"{MARGIN}\n‣ A triangular bullet starts an item.").split("\n") == [
        MARGIN,
        "‣ A triangular bullet starts an item.",
    ]
    assert unwrap_lines(f"{MARGIN}\ndo, with a • in it.") == f"{MARGIN} do, with a • in it."
    assert unwrap_lines(f"{MARGIN}\n•••") == f"{MARGIN} •••"


# --- rag/chunking.py, rag/text.py: a section path's bounds ------------------------------------


def test_a_heading_of_200_characters_is_kept_and_of_201_cut() -> None:
    """200 characters a heading (round 23's chunking key structure-v15)."""
    kept = "word " * 39 + "words"  # 200 characters
    assert section_path("", [kept]) == kept
    assert section_path("", [kept + "s"]) == "word " * 38 + "word…"


def test_a_path_keeps_eight_headings() -> None:
    path = [f"Level {i}" for i in range(1, 11)]
    assert section_path("", path).split(" > ") == path[2:]


def test_a_cut_at_a_space_still_says_it_was_cut() -> None:
    """The text's character at the limit is a space: the cut keeps the words that fit and says
    "…" (as textwrap over the whole text did), never the text up to the limit as if whole."""
    assert brief("aaaa bbbb cccc ddddd eeee", 20, words=True) == "aaaa bbbb cccc…"
    assert brief("aaaa bbbb cccc ddddd e", 20, words=True) == "aaaa bbbb cccc…"  # no space after
    heading = "word " * 39 + "words more"  # a space at character 200
    assert section_path("", [heading]) == "word " * 38 + "word…"
