"""A PDF's running heads, feet and page numbers are the layout's, not the author's text
(rag/loaders/pdf.py): left in, a head was read into each page's first sentence ("Shared
MIME-info Database directory is added to ...") and a page number into its last ("... errors
themselves. 3"). And a sentence the page break cut goes on as one sentence.

The rule on lines (``running_lines``) is tested on pages of lines; the loading on real files
made with fpdf2 and read back by pypdf."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loaders import load_document
from rag.loaders.pdf import running_lines

SENTENCES = [
    "The pump moves the water from the tank to the filter and back again.",
    "Each filter holds a cartridge that is replaced every three months.",
    "The relief valve opens when the pressure goes above four bar.",
    "A float switch in the tank stops the pump before it runs dry.",
    "The controller logs every start and stop of the pump with its time.",
    "Seals on the pump shaft are checked once a year and replaced if worn.",
    "The heater keeps the water above freezing in the winter months.",
    "An alarm sounds when the filter is blocked and the flow drops.",
    "Spare cartridges are kept dry in their sealed bags until they are used.",
    "The display shows the pressure, the flow and the water temperature.",
]
BODY = SENTENCES[:3]


MODELS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def body(n: int, lines: int = 5) -> list[str]:
    """Page ``n``'s own lines: no two pages of a test share one at their edges."""
    return [
        f"In the {MODELS[n]} model, " + sentence[0].lower() + sentence[1:]
        for sentence in (SENTENCES[(n * lines + i) % len(SENTENCES)] for i in range(lines))
    ]


def dropped(pages: list[list[str]]) -> list[list[str]]:
    return [[lines[i] for i in sorted(drop)] for lines, drop in zip(pages, running_lines(pages))]


def test_a_head_repeated_on_the_pages_edges_is_dropped_but_kept_as_the_first_pages_title() -> None:
    pages = [["Pump Manual", *body(n)] for n in range(6)]
    assert dropped(pages) == [[]] + [["Pump Manual"]] * 5


def test_a_foot_that_differs_only_in_its_digits_is_dropped() -> None:
    pages = [[*body(n), f"Page {n} of 6"] for n in range(1, 7)]
    assert dropped(pages)[1:] == [[f"Page {n} of 6"] for n in range(2, 7)]


def test_a_line_repeated_inside_the_pages_is_the_authors() -> None:
    """Only a page's first and last lines with words are the layout's places."""
    pages = [[*body(n)[:2], "Warning: stop the pump first.", *body(n)[2:]] for n in range(6)]
    assert dropped(pages) == [[]] * 6


def test_a_head_on_too_few_pages_is_kept() -> None:
    """Two pages of six with the same first line: a quarter is 1.5, but at least three pages."""
    pages = [["Pump Manual", *body(n)] for n in range(2)] + [body(n) for n in range(2, 6)]
    assert dropped(pages) == [[]] * 6


def test_the_printed_page_numbers_are_dropped_once_they_follow_the_pages() -> None:
    """Two pages of front matter without a number, then 1, 2, 3, 4: an offset of two."""
    pages = [["Pump Manual"], ["Contents", "Pumps 1"]]
    pages += [[*body(n), str(n)] for n in range(1, 5)]
    assert dropped(pages) == [[], [], ["1"], ["2"], ["3"], ["4"]]


def test_a_running_head_ending_in_the_page_number_is_dropped() -> None:
    pages = [[f"Chapter {1 + n // 3}: Pumps {n + 1}", *body(n)] for n in range(6)]
    assert [d for d in dropped(pages)] == [
        [f"Chapter {1 + n // 3}: Pumps {n + 1}"] for n in range(6)
    ]


def test_numbers_that_do_not_follow_the_pages_are_kept() -> None:
    """A short line ending in a number that does not step with the pages is the author's (each
    line its own words: a lone number at the edges of many pages is dropped by its shape)."""
    words = ["Pumps", "Valves", "Seals", "Tanks", "Filters", "Heaters"]
    pages = [[*body(i), f"{w} {n}"] for i, (w, n) in enumerate(zip(words, (7, 7, 3, 12, 5, 9)))]
    assert dropped(pages) == [[]] * 6
    stepping = [[*body(i), f"{w} {i + 4}"] for i, w in enumerate(words)]
    assert dropped(stepping) == [[f"{w} {i + 4}"] for i, w in enumerate(words)]


def test_one_printed_number_a_page_the_chapters_numbered_heading_kept() -> None:
    """On printed page 1 the chapter "1 Introduction" starts under the number "1": the line
    that is only the number is the page's, the heading the author's."""
    pages = [["1", "1 Introduction", *body(1)], ["2", "2 Pumps", *body(2)]]
    pages += [[str(n), *body(n)] for n in range(3, 6)]
    assert dropped(pages) == [["1"], ["2"], ["3"], ["4"], ["5"]]


def test_a_long_line_ending_in_the_page_number_is_text() -> None:
    long = "the relief valve opens when the pressure goes above four bar in tank " + "3"
    pages = [[*body(n), str(n)] for n in range(1, 6)]
    pages[2] = [*body(3), long]
    assert dropped(pages)[2] == []


def manual(path: Path, pages: list[list[str]], head: str | None = None) -> None:
    """A PDF of ``pages`` of lines, each page's lines written as they are, under ``head`` and
    over its page number when given."""
    from fpdf import FPDF

    class Manual(FPDF):
        def header(self) -> None:
            if head:
                self.cell(0, 10, head, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.cell(0, 10, str(self.page_no()), align="C")

    pdf = Manual()
    pdf.set_font("helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_a_manuals_heads_and_page_numbers_are_not_read_into_its_sentences(
    tmp_path: Path,
) -> None:
    manual(tmp_path / "m.pdf", [body(n) for n in range(5)], head="Pump Manual")
    document = load_document(tmp_path / "m.pdf")
    assert document.text.count("Pump Manual") == 1  # the first page's, its title
    assert document.text.startswith("Pump Manual\n")
    for n, (start, end, _) in enumerate(document.pages):
        assert document.text[start:end].endswith(body(n)[-1])  # no page number after it
    assert not any(ch.isdigit() for ch in document.text)


SENTENCE = (
    "When the tank is empty the pump stops and the controller waits until the float switch "
    "reports water again, then it starts the pump."
)


def sentences(path: Path) -> list[tuple[int | None, str]]:
    """Each sentence the chunks of the file at ``path`` hold, with its chunk's page."""
    from rag.chunking import chunk_document

    document = load_document(path)
    chunks = chunk_document(
        "m.pdf", document.text, size=700, overlap=0, pages=document.pages, blocks=document.blocks
    )
    return [(c.page, c.text[s:e]) for c in chunks for s, e in c.sentences]


def test_a_sentence_cut_by_the_page_break_goes_on_on_its_first_page(tmp_path: Path) -> None:
    """Pages are the chunks' hard boundaries: the sentence that goes on ends the first page."""
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    second = ["the float switch reports water again, then it starts the pump.", *body(1)]
    manual(tmp_path / "m.pdf", [first, second, body(2), body(3)])
    document = load_document(tmp_path / "m.pdf")
    (_, one, p1), (two, _, p2) = document.pages[:2]
    assert (p1, p2) == (1, 2)
    assert document.text[:one].endswith(SENTENCE)
    assert document.text[one:two] == " "
    assert document.text[two:].startswith(body(1)[0])
    assert (1, SENTENCE) in sentences(tmp_path / "m.pdf")


def test_a_word_hyphenated_at_a_pages_foot_is_joined(tmp_path: Path) -> None:
    first = [
        *body(0),
        "When the tank is empty the pump stops and the controller waits until the fl-",
    ]
    second = ["oat switch reports water again, then it starts the pump.", *body(1)]
    manual(tmp_path / "m.pdf", [first, second, body(2), body(3)])
    document = load_document(tmp_path / "m.pdf")
    (_, one, _), (two, _, _) = document.pages[:2]
    assert document.text[:one].endswith(SENTENCE)
    assert document.text[two:].startswith(body(1)[0])
    assert (1, SENTENCE) in sentences(tmp_path / "m.pdf")


def test_a_page_that_goes_on_without_a_full_stop_ends_with_its_line(tmp_path: Path) -> None:
    """The sentence's rest ends at its line's end when no full stop comes first."""
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    second = ["the float switch reports water again", "Float switches", *body(1)]
    manual(tmp_path / "m.pdf", [first, second, body(2), body(3)])
    document = load_document(tmp_path / "m.pdf")
    (_, one, _), (two, _, _) = document.pages[:2]
    assert document.text[:one].endswith("waits until the float switch reports water again")
    assert document.text[two:].startswith("Float switches")


@pytest.mark.parametrize(
    ("last", "then"),
    [
        (
            "When the tank is empty the pump stops and the controller waits for water.",
            "the float switch reports water again, then it starts the pump.",
        ),
        ("Float switches", "the float switch reports water again, then it starts the pump."),
        (
            "When the tank is empty the pump stops and the controller waits until the",
            "Float switch reports water again, then it starts the pump.",
        ),
    ],
    ids=["sentence-ended", "heading-at-the-foot", "next-page-in-upper-case"],
)
def test_a_page_that_ends_its_sentence_or_a_heading_is_not_joined(
    tmp_path: Path, last: str, then: str
) -> None:
    manual(tmp_path / "m.pdf", [[*body(0), last], [then, *body(1)], body(2), body(3)])
    document = load_document(tmp_path / "m.pdf")
    (_, end, _), (start, _, _) = document.pages[:2]
    assert document.text[end:start] == "\n\n"


def test_a_sentence_across_pages_is_one_block_under_the_first_pages_heading(
    tmp_path: Path,
) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pages = [
        ("Pumps", [*BODY, "When the tank is empty the pump stops and the controller waits until"]),
        ("Filters", ["the float switch reports water again, then it starts the pump.", BODY[1]]),
    ]
    for title, lines in pages:
        pdf.add_page()
        pdf.start_section(title)
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "m.pdf"))
    document = load_document(tmp_path / "m.pdf")
    texts = [(b.path, document.text[b.start : b.end]) for b in document.blocks]
    assert texts[0][0] == ("Pumps",)
    assert texts[0][1].endswith(
        "waits until the float switch reports water again, then it starts the pump. " + BODY[1]
    )
    assert len(texts) == 1


def test_a_paragraphs_short_last_line_ends_it_however_long_the_paragraph() -> None:
    """Whether a line ran to the margin is that line's length, not the length of the text joined
    so far: after two full lines, every next line was joined, a bullet item swallowed the
    paragraphs after it (900 characters of shared-mime-info-spec.pdf in one unit)."""
    from rag.loaders import unwrap_lines

    lines = [
        "• It must be possible to install applications in /usr, /usr/local and the home",
        "directory and have the MIME information used.",
        "This specification uses the XDG Base Directory Specification to define the",
        "prefixes below which it is stored.",
        "Each application installs a single XML file.",
    ]
    assert unwrap_lines("\n".join(lines)).split("\n") == [
        "• It must be possible to install applications in /usr, /usr/local and the home "
        "directory and have the MIME information used.",
        "This specification uses the XDG Base Directory Specification to define the "
        "prefixes below which it is stored.",
        "Each application installs a single XML file.",
    ]


def test_a_superscript_digit_at_a_pages_edge_is_no_page_number() -> None:
    """ "²" is a digit to str.isdigit but no number to int(): a page ending "a unit of m ²" must
    load (it raised ValueError, and the file was skipped)."""
    pages = [[*body(n), "the area is given in m ²"] for n in range(4)]
    pages += [[*body(n), str(n)] for n in range(4, 8)]
    assert dropped(pages)[4:] == [["4"], ["5"], ["6"], ["7"]]
