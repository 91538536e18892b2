"""Round 23's planted bugs that the other tests let through, each seen failing on its mutant.

rag/loaders/pdf.py and pdf_headings.py, an outline entry's section starting at its heading line
(real PDFs made with fpdf2, read by pypdf; ``heading_lines`` and ``_heading_keys`` on lines):

- ``heading_lines`` looking from the page's top, not from the heading found before
  (``bisect_left(places, (0, 0))``): a sub-section title used twice ("Usage" under "Server"
  and under "Client") started both at the first; skipping the line right after the heading
  before (``(at, 3)``): "1.1 Usage" under "1 Server" was not found; ``at = line`` and
  ``at = line + 1``: an entry found on the line (or the wrapped second line) of the heading
  before it.
- the nested entry looked up by ``path[0]`` (its chapter's title), not ``path[-1]``.
- ``i + count < len(lines)``, or the last line left out of the index: a heading on the last
  line of its page was not found, and the page's text above it joined its section.
- a line pair taken with one code line in it (``not all(code...)``, ``code[i : i + 1]``).
- ``for count in (2, 1)``: a heading took the separator line under it ("* * *").
- ``_NUMBERING`` without ``^\\s*`` leading space, without "section" or "part", with
  ``(?:\\.\\d+)?`` for ``*`` ("2.1.3 Options"); NFC for NFKC ("ﬁ" ligatures); lines joined
  without a space ("Chapter 3" above "Getting Started").
- ``max(found)`` for ``min``: a numbered title matched a later un-numbered line.
- a wrapped heading's lines joined with a newline, not a space.
- ``heading_lines`` given the page's lines before its running head was left out (the line
  numbers then point one line off).

ui/app.py, the Documents table's ``View`` (a real Gradio app, its events sent over HTTP):

- the refresh (``tick``) ignoring the view's sort or page, or reading its sort as the filter;
  the table events writing the default sort or page 1 into the view; the page number typed
  not writing the view.
- the view's first value ``None``: a page's first refresh, before any table event, raised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rag
from rag import Settings
from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.loaders.pdf_headings import heading_lines
from tests.test_ui import free_port, page_events, predict
from ui.app import create_app, serve
from ui.indexing import IndexTracker
from ui.library import DEFAULT_SORT

# PDF -----------------------------------------------------------------------------------------


def make(path: Path, pages: list[list[tuple[Any, ...]]]) -> None:
    """Each page: ("line", text) printed in Helvetica, ("code", text) in Courier, ("section",
    title, level) an outline entry there (nothing printed), ("heading", printed, title, level)
    both; ``printed`` may be a list of lines (a wrapped heading)."""
    from fpdf import FPDF

    pdf = FPDF()
    for page in pages:
        pdf.add_page()
        for kind, text, *rest in page:
            if kind == "section":
                pdf.start_section(text, level=rest[0])
                continue
            if kind == "heading":
                pdf.start_section(rest[0], level=rest[1])
            pdf.set_font("courier" if kind == "code" else "helvetica", size=11)
            for line in [text] if isinstance(text, str) else text:
                pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def blocks(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
    document = load_document(path)
    return [(b.kind, b.path, document.text[b.start : b.end]) for b in document.blocks]


def test_a_sub_section_title_used_twice_starts_each_section_at_its_own_heading(
    tmp_path: Path,
) -> None:
    """Entries are looked for in order, each below the heading before it, from the line right
    after it: "Usage" under "Server" and "Usage" under "Client" are two headings; "3 Options"
    and "3.1 Options" two more."""
    make(
        tmp_path / "a.pdf",
        [
            [
                ("heading", "1 Server", "Server", 0),
                ("heading", "1.1 Usage", "Usage", 1),
                ("line", "Run server start."),
                ("heading", "2 Client", "Client", 0),
                ("line", "The client connects to the server."),
                ("heading", "2.1 Usage", "Usage", 1),
                ("line", "Run client connect."),
                ("heading", "3 Options", "Options", 0),
                ("heading", "3.1 Options", "Options", 1),
                ("line", "Both read pump.conf."),
            ]
        ],
    )
    assert blocks(tmp_path / "a.pdf") == [
        ("heading", ("Server",), "1 Server"),
        ("heading", ("Server", "Usage"), "1.1 Usage"),
        ("paragraph", ("Server", "Usage"), "Run server start."),
        ("heading", ("Client",), "2 Client"),
        ("paragraph", ("Client",), "The client connects to the server."),
        ("heading", ("Client", "Usage"), "2.1 Usage"),
        ("paragraph", ("Client", "Usage"), "Run client connect."),
        ("heading", ("Options",), "3 Options"),
        ("heading", ("Options", "Options"), "3.1 Options"),
        ("paragraph", ("Options", "Options"), "Both read pump.conf."),
    ]


def test_a_heading_on_the_last_line_of_its_page_starts_its_section_there(tmp_path: Path) -> None:
    """A section whose heading is the page's last line: the text above it stays in the section
    before, and the next pages, with no entry of their own, go on in the new one."""
    make(
        tmp_path / "a.pdf",
        [
            [("heading", "1 Pumps", "Pumps", 0), ("line", "The pump moves the water."),
             ("heading", "2 Valves", "Valves", 0)],
            [("line", "The valve opens at four bar.")],
            [("line", "A valve is replaced every ten years.")],
        ],
    )  # fmt: skip
    assert blocks(tmp_path / "a.pdf") == [
        ("heading", ("Pumps",), "1 Pumps"),
        ("paragraph", ("Pumps",), "The pump moves the water."),
        ("heading", ("Valves",), "2 Valves"),
        ("paragraph", ("Valves",), "The valve opens at four bar."),
        ("paragraph", ("Valves",), "A valve is replaced every ten years."),
    ]


# A page that ends as a sentence the page break cut, and one that starts with a heading in lower
# case: read as the sentence going on, before 236beba.
HEADING_AFTER_A_CUT_SENTENCE = [
    [("heading", "Commands", "Commands", 0),
     ("line", "The commands of the pump unit are described on the pages that follow")],
    [("heading", "pumpctl", "pumpctl", 1), ("line", "pumpctl starts the pump.")],
]  # fmt: skip


def test_a_heading_at_a_pages_top_does_not_go_on_with_the_sentence_before(
    tmp_path: Path,
) -> None:
    """The page before ends without a full stop and this one starts in lower case, as a
    sentence the break cut goes on: but its first line is a heading, which starts a section."""
    make(tmp_path / "a.pdf", HEADING_AFTER_A_CUT_SENTENCE)
    kinds = [(kind, path, text) for kind, path, text in blocks(tmp_path / "a.pdf")]
    assert kinds[1:] == [
        (
            "paragraph",
            ("Commands",),
            "The commands of the pump unit are described on the pages that follow",
        ),
        ("heading", ("Commands", "pumpctl"), "pumpctl"),
        ("paragraph", ("Commands", "pumpctl"), "pumpctl starts the pump."),
    ]


def test_a_code_line_that_reads_as_the_title_is_not_its_heading(tmp_path: Path) -> None:
    """Lines set in a monospaced font are code, never a heading: the heading is the line in
    the text's font below it."""
    make(
        tmp_path / "a.pdf",
        [
            [("line", "To start the pump, run:"), ("code", "pumpctl start"),
             ("heading", "3 Pumpctl start", "Pumpctl start", 0),
             ("line", "The command starts the pump.")],
        ],
    )  # fmt: skip
    assert blocks(tmp_path / "a.pdf") == [
        ("paragraph", (), "To start the pump, run:"),
        ("code", (), "pumpctl start"),
        ("heading", ("Pumpctl start",), "3 Pumpctl start"),
        ("paragraph", ("Pumpctl start",), "The command starts the pump."),
    ]


def test_a_wrapped_heading_is_one_line_of_text(tmp_path: Path) -> None:
    make(
        tmp_path / "a.pdf",
        [
            [
                ("heading", ["4 Replacing the cartridge of", "the filter"],
                 "Replacing the cartridge of the filter", 0),
                ("line", "Close both valves first."),
            ]
        ],
    )  # fmt: skip
    assert blocks(tmp_path / "a.pdf") == [
        (
            "heading",
            ("Replacing the cartridge of the filter",),
            "4 Replacing the cartridge of the filter",
        ),
        ("paragraph", ("Replacing the cartridge of the filter",), "Close both valves first."),
    ]


def test_headings_are_found_on_pages_whose_running_head_was_left_out(tmp_path: Path) -> None:
    """Headings are looked for among the page's lines once its running head is left out: their
    line numbers are those of the lines read, not one line off."""
    parts = {
        "Pumps": "The pump moves the water from the tank to the filter and back.",
        "Valves": "The relief valve opens when the pressure goes above four bar.",
        "Filters": "Each filter holds a cartridge that is replaced every three months.",
        "Seals": "Seals on the pump shaft are checked once a year and replaced if worn.",
    }
    make(
        tmp_path / "a.pdf",
        [[("line", "Pump Manual"), ("heading", part, part, 0), ("line", text)]
         for part, text in parts.items()],
    )  # fmt: skip
    found = blocks(tmp_path / "a.pdf")
    assert [(kind, path, text) for kind, path, text in found if kind == "heading"] == [
        ("heading", (part,), part) for part in parts
    ]
    assert found[0] == ("paragraph", (), "Pump Manual")  # the first page's title, kept
    assert "Pump Manual" not in [text for _, _, text in found[1:]]


def test_a_heading_is_never_a_pair_of_lines_with_code_in_it() -> None:
    lines = ["To start the pump, run", "pumpctl start", "Then check it with", "pumpctl status"]
    code = [False, True, False, True]
    wanted = [("To start the pump run pumpctl start",), ("pumpctl status then check it",)]
    assert heading_lines(lines, code, wanted) == {0: (0, wanted[1])}
    # Code first, then prose: not a heading either.
    title = ("Pumpctl start runs the pump",)
    assert heading_lines(["pumpctl start", "runs the pump"], [True, False], [title]) == {
        0: (0, title)
    }


def test_a_heading_does_not_take_the_separator_line_under_it() -> None:
    lines = ["2 Usage", "* * *", "Run atlas."]
    assert heading_lines(lines, [False] * 3, [("Usage",)]) == {0: (1, ("Usage",))}


def test_the_first_line_that_is_the_title_is_its_heading_numbered_or_not() -> None:
    """An outline title with its numbering ("1 Usage") matches "Usage" written alone as well;
    the first such line is the heading."""
    lines = ["Usage", "Run atlas.", "1 Usage"]
    assert heading_lines(lines, [False] * 3, [("1 Usage",)]) == {0: (1, ("1 Usage",))}


@pytest.mark.parametrize(
    ("lines", "title"),
    [
        (["  3 Usage"], "Usage"),  # indented by the layout
        (["Section 4 Wiring"], "Wiring"),
        (["Part 2 Maintenance"], "Maintenance"),
        (["2.1.3 Options"], "Options"),
        (["Ｕｓａｇｅ"], "Usage"),  # full-width letters (NFKC)
        (["Chapter 3", "Getting Started"], "Getting started"),  # its number on a line above
    ],
)
def test_a_heading_line_is_found_whatever_its_numbering_or_layout(
    lines: list[str], title: str
) -> None:
    assert heading_lines([*lines, "Body."], [False] * (len(lines) + 1), [(title,)]) == {
        0: (len(lines), (title,))
    }


# UI ------------------------------------------------------------------------------------------


@pytest.fixture
def notes(settings: Settings) -> Settings:
    """31 documents (the seed and 30 notes): two pages of the Documents table."""
    for i in range(30):
        body = f"Note {i:02d}\n\nThe note number {i} " + "swims. " * (i + 1)
        (settings.docs_dir / f"note-{i:02d}.txt").write_text(body, encoding="utf-8")
    rag.ingest(settings=settings)
    return settings


def test_a_refresh_shows_the_sort_and_page_the_table_shows_last(notes: Settings) -> None:
    """Over HTTP, in one page's session: sorted by size, then the next page (in another, page 2
    typed); a refresh sent with what the page held before shows what the table shows: the
    same rows, label and page number. A new page's first refresh (no table event yet) shows the
    first page in the default sort."""
    app = create_app(notes, IndexTracker(notes))
    url = serve(app, notes, "127.0.0.1", free_port())
    try:
        ids, dependencies = page_events(url)
        box, sort, page, next_button = (
            ids[name] for name in ("docs-filter", "docs-sort", "docs-page", "docs-next")
        )
        sorting = next(d for d in dependencies if [sort, "change"] in d["targets"])
        turning = next(d for d in dependencies if [next_button, "click"] in d["targets"])
        submitting = next(d for d in dependencies if [page, "submit"] in d["targets"])
        refresh = next(d for d in dependencies if d["api_name"] == "tick")
        shown = sorting["outputs"]  # the table, its label, the page number (and the view)

        def run(dependency: dict[str, Any], values: dict[int, Any], tab: str) -> list[Any]:
            out = predict(url, dependency, values, tab)
            return [out[dependency["outputs"].index(i)] for i in shown[:3]]

        first = run(refresh, {}, "new-tab")
        assert first[1:] == ["Page 1 of 2 · 31 documents", 1]
        assert first == run(sorting, {box: "", sort: DEFAULT_SORT}, "other-tab")

        largest = "Size (largest first)"
        run(sorting, {box: "", sort: largest}, "one-tab")
        turned = run(turning, {box: "", sort: largest, page: 1}, "one-tab")
        assert turned[1:] == ["Page 2 of 2 · 31 documents", 2]
        before = {box: "", sort: DEFAULT_SORT, page: 1}  # the page's values when it was sent
        assert run(refresh, before, "one-tab") == turned
        # Another page: sorted by size, page 2 typed (a page's refresh runs once per change).
        run(sorting, {box: "", sort: largest}, "two-tab")
        typed = run(submitting, {box: "", sort: largest, page: 2}, "two-tab")
        assert typed == turned
        assert run(refresh, before, "two-tab") == typed
    finally:
        app.close()


def test_a_heading_at_a_pages_top_is_on_its_page_and_its_sections_chunk(tmp_path: Path) -> None:
    """The page before ends as a sentence the break cut ("... on the pages that follow") and
    this one starts in lower case with a heading ("pumpctl"). Before, the heading was read as
    the end of that sentence: joined to it with a space, given to the page before, and chunked
    apart from its section's text."""
    make(tmp_path / "a.pdf", HEADING_AFTER_A_CUT_SENTENCE)
    document = load_document(tmp_path / "a.pdf")
    assert "that follow\n\npumpctl\n\npumpctl starts" in document.text
    chunks = chunk_document(
        "a.pdf", document.text, size=700, overlap=0, pages=document.pages, blocks=document.blocks
    )
    assert [(c.page, c.section, c.text) for c in chunks] == [
        (
            1,
            "Commands",
            "Commands\n\nThe commands of the pump unit are described on the pages that follow",
        ),
        (2, "Commands > pumpctl", "pumpctl\n\npumpctl starts the pump."),
    ]
