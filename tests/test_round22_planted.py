"""Round 22's planted bugs that the other tests let through, each seen failing on its mutant.

rag/loaders/pdf.py, ``running_lines`` and its parts (tested on pages of lines):

- ``_EDGE_LINES`` 1: a running foot above the page number was kept.
- ``_RUNNING_SHARE`` 0.5: a chapter's head on its four of twelve pages was kept; 0.1: a line
  at the top of four of twenty pages was dropped.
- ``_MIN_PAGES`` 4, or ``shapes[...] > needed``: a head on all three pages of a file was kept.
- ``_HEAD_WORDS`` 6, or ``len(words) >= _HEAD_WORDS``: a twelve-word head ending in the page
  number was kept.
- ``_DIGITS`` ``\\d``: "Page 10 of 11" no longer the shape of "Page 9 of 11".
- the shapes counted per line, not per page (a list for the set): two table values at a page's
  edges counted as two pages; the offsets counted per line too: a page number printed twice on
  a page counted as two pages.
- ``numbered = count > needed``: page numbers on exactly the pages needed were kept.
- the printed number chosen by its depth alone (a one-word "3" lost to a footnote "3 See ...");
  by its words alone, by ``max`` depth or with the line itself counted after it (the outermost
  lost to a heading one line in); blank lines counted in its depth.
- ``_printed_numbers``: only the last word looked at ("3 Valves" no page number); five-digit
  numbers refused (``< 5``).
- ``_shape`` without ``lower()`` or without joining the white space: "PUMP MANUAL" and
  "Pump  Manual" not the head "Pump Manual".
- blank lines taken as a page's edge lines: a head under two blank lines was kept.

rag/loaders/pdf.py, ``load_pdf``'s page joins (real PDFs made with fpdf2, read by pypdf):

- ``_SENTENCE_END`` without its closing quotes, without its look-ahead (the "." of "3.5" ended
  the sentence) or with "." alone ("?" no end).
- ``_CLOSING`` without ":" or without ")": a page ending "the steps:" or "(see below)" joined.
- ``_continues`` with ``>`` for ``>=``: a last line of exactly the wrapping share not joined.
- ``_first_sentence_end`` returning 0 where nothing ends the sentence: the rest of the page
  given to the next page.
- the hyphen join on any "-" (``endswith``): "3-" at a page's foot lost its hyphen.
- ``bool(tail)`` dropped: an empty page before one that starts in lower case raised.

rag/numbers.py:

- ``_ASKS_LIMIT`` without ``re.IGNORECASE``, without its leading ``\\b`` ("admin number" asked
  for a minimum), with one space for ``\\s+`` before "number".
- ``_LIMIT`` without "at least", "no more than", "not more than", "no fewer than", "no less
  than", "maxima", "minima", "max", "min", or with "at most" spelt with one space; without its
  leading ``\\b`` ("admin") or its trailing one ("minutes"); "as many" for "as many as".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loaders import load_document
from rag.numbers import holds_number_asked
from tests.test_pdf_running_heads import MODELS, body, dropped, manual, sentences

TITLES = ["Pumps", "Valves", "Seals", "Tanks", "Filters", "Heaters"]


def lines(n: int) -> list[str]:
    """Page ``n``'s own lines, for up to 26 pages: no two pages share one at their edges."""
    return [f"Unit {chr(65 + n)}: {line}" for line in body(n % len(MODELS))]


# running_lines


def test_a_running_foot_above_the_page_number_is_dropped_too() -> None:
    """The edges are a page's two first and two last lines with words."""
    pages = [[*lines(n), "Pump Manual, revision B", str(n + 1)] for n in range(6)]
    assert dropped(pages) == [["1"]] + [
        ["Pump Manual, revision B", str(n + 1)] for n in range(1, 6)
    ]


def test_a_chapters_head_on_a_third_of_the_pages_is_dropped() -> None:
    """Twelve pages, three chapters of four, each chapter's pages under its head: a quarter of
    the pages is three, and each head is on four."""
    heads = ["Chapter 1: Pumps", "Chapter 2: Valves", "Chapter 3: Seals"]
    pages = [[heads[n // 4], *lines(n)] for n in range(12)]
    assert dropped(pages) == [[]] + [[heads[n // 4]] for n in range(1, 12)]


def test_a_line_at_the_top_of_four_of_twenty_pages_is_the_authors() -> None:
    """A quarter of twenty pages is five."""
    pages = [(["Warnings"] if n % 5 == 0 else []) + lines(n) for n in range(20)]
    assert dropped(pages) == [[]] * 20


def test_a_head_on_all_three_pages_is_dropped() -> None:
    """Three pages, the least a running head needs: exactly enough."""
    pages = [["Pump Manual", *lines(n)] for n in range(3)]
    assert dropped(pages) == [[], ["Pump Manual"], ["Pump Manual"]]


def test_a_twelve_word_head_ending_in_the_page_number_is_dropped() -> None:
    heads = [
        f"Part {chr(65 + n)}: how the {MODELS[n]} model moves water through the filter {n + 1}"
        for n in range(6)
    ]
    assert all(len(head.split()) == 12 for head in heads)
    pages = [[heads[n], *lines(n)] for n in range(6)]
    assert dropped(pages) == [[head] for head in heads]


def test_a_foot_whose_page_number_gains_a_digit_keeps_its_shape() -> None:
    """ "Page 10 of 11" is "Page 9 of 11" digits aside: a number is one "#", however long."""
    pages = [[*lines(n), f"Page {n + 1} of 11"] for n in range(11)]
    assert dropped(pages) == [[]] + [[f"Page {n + 1} of 11"] for n in range(1, 11)]


def test_two_lines_of_one_shape_on_a_page_count_it_once() -> None:
    """Table values at both edges of two pages of six: two pages, not four lines."""
    pages = [lines(n) for n in range(6)]
    for n in (2, 4):
        pages[n] = ["120", *lines(n), "450"]
    assert dropped(pages) == [[]] * 6


def test_a_page_number_printed_twice_on_a_page_counts_the_page_once() -> None:
    """Two pages of six with their number (in a head and in a foot) are too few to be sure the
    numbers follow the pages."""
    pages = [lines(n) for n in range(6)]
    pages[2] = ["Pumps 3", *lines(2), "Valves 3"]
    pages[3] = ["Seals 4", *lines(3), "Tanks 4"]
    assert dropped(pages) == [[]] * 6


def test_page_numbers_on_exactly_the_pages_needed_are_dropped() -> None:
    pages = [[*lines(n), str(n + 1)] for n in range(3)]
    assert dropped(pages) == [["1"], ["2"], ["3"]]


def test_the_line_that_is_only_the_number_is_the_page_number_not_a_footnote() -> None:
    """A footnote "3 See ..." at the foot of printed page 3, under the page number "3"."""
    pages = [[*lines(n), str(n + 1), f"{n + 1} See the {MODELS[n]} manual."] for n in range(6)]
    assert dropped(pages) == [[str(n + 1)] for n in range(6)]


def test_of_two_lines_with_the_number_the_outermost_is_the_page_number() -> None:
    """A chapter heading "3 Alpha" one line in at the top, the foot "Seals 3" last: the same
    number of words, and the foot is at the edge."""
    pages = [
        [lines(n)[0], f"{n + 1} {MODELS[n].title()}", *lines(n)[1:], f"{TITLES[n]} {n + 1}"]
        for n in range(6)
    ]
    assert dropped(pages) == [[f"{TITLES[n]} {n + 1}"] for n in range(6)]


def test_blank_lines_are_no_depth() -> None:
    """A head under blank lines is a page's first line with words: at its edge."""
    pages = [
        [
            "",
            "",
            f"{TITLES[n]} {n + 1}",
            *lines(n)[:-1],
            f"{n + 1} {MODELS[n].title()}",
            lines(n)[-1],
        ]
        for n in range(6)
    ]
    assert dropped(pages) == [[f"{TITLES[n]} {n + 1}"] for n in range(6)]


def test_a_head_under_blank_lines_is_dropped() -> None:
    pages = [["", "", "Pump Manual", *lines(n)] for n in range(4)]
    assert dropped(pages) == [[]] + [["Pump Manual"]] * 3


def test_a_head_starting_with_the_page_number_is_dropped() -> None:
    pages = [[f"{n + 1} {MODELS[n].title()} model", *lines(n)] for n in range(6)]
    assert dropped(pages) == [[f"{n + 1} {MODELS[n].title()} model"] for n in range(6)]


def test_a_five_digit_page_number_is_one() -> None:
    pages = [[*lines(n), f"{TITLES[n]} {10001 + n}"] for n in range(6)]
    assert dropped(pages) == [[f"{TITLES[n]} {10001 + n}"] for n in range(6)]


def test_a_head_is_the_same_in_any_case_and_spacing() -> None:
    for forms in (
        ["Pump manual", "PUMP MANUAL", "Pump manual", "PUMP MANUAL"],
        ["Pump Manual", "Pump  Manual", "Pump Manual  ", " Pump\tManual"],
    ):
        pages = [[form, *lines(n)] for n, form in enumerate(forms)]
        assert dropped(pages) == [[]] + [[form] for form in forms[1:]]


# load_pdf: the page joins


def first_and_second(path: Path) -> tuple[str, str, str]:
    """The first page's text, what is between it and the second page's, and the second's."""
    document = load_document(path)
    (_, one, _), (two, end, _) = document.pages[:2]
    return document.text[:one], document.text[one:two], document.text[two:end]


@pytest.mark.parametrize(
    ("then", "ends", "starts"),
    [
        (
            'the float switch reports "water again." Then it starts the pump.',
            'until the float switch reports "water again."',
            "Then it starts the pump.",
        ),
        (
            "the float switch reports 3.5 bar again. Then it starts the pump.",
            "until the float switch reports 3.5 bar again.",
            "Then it starts the pump.",
        ),
        (
            "the float switch reports water again? It does, then it starts the pump.",
            "until the float switch reports water again?",
            "It does, then it starts the pump.",
        ),
    ],
    ids=["closing-quote", "decimal-point", "question-mark"],
)
def test_the_sentence_that_goes_on_ends_at_its_own_end(
    tmp_path: Path, then: str, ends: str, starts: str
) -> None:
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    manual(tmp_path / "m.pdf", [first, [then, *body(1)], body(2), body(3)])
    one, between, two = first_and_second(tmp_path / "m.pdf")
    assert one.endswith(ends)
    assert between == " "
    assert two.startswith(starts)


@pytest.mark.parametrize(
    "last",
    [
        "When the tank is empty, the controller goes through the following steps:",
        "When the tank is empty the pump stops and the controller waits (see Floats)",
    ],
    ids=["colon", "bracket"],
)
def test_a_page_ending_in_a_colon_or_a_bracket_is_not_joined(tmp_path: Path, last: str) -> None:
    then = "the float switch reports water again, then it starts the pump."
    manual(tmp_path / "m.pdf", [[*body(0), last], [then, *body(1)], body(2), body(3)])
    assert first_and_second(tmp_path / "m.pdf")[1] == "\n\n"


def test_a_last_line_of_exactly_the_wrapping_share_goes_on(tmp_path: Path) -> None:
    widest = (
        "In the alpha model, the pump carries the water from the tank to the filter and back again."
    )
    last = "When the tank is empty, the pump stops and waits until"
    assert (len(widest), len(last)) == (90, 54)  # 0.6 of the widest
    then = "the float switch reports water again, then it starts the pump."
    manual(tmp_path / "m.pdf", [[widest, last], [then, *body(1)], body(2), body(3)])
    assert first_and_second(tmp_path / "m.pdf")[1] == " "


def test_a_page_that_goes_on_without_an_end_belongs_to_the_page_before(tmp_path: Path) -> None:
    """The next page is the sentence's rest, with no full stop and no line after: all of it
    stays with the page the sentence started on."""
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    manual(tmp_path / "m.pdf", [first, ["the float switch reports water again"], body(2), body(3)])
    one, between, two = first_and_second(tmp_path / "m.pdf")
    assert one.endswith("waits until the float switch reports water again")
    assert (between, two) == ("", "")


def test_a_number_and_its_hyphen_at_a_pages_foot_keep_the_hyphen(tmp_path: Path) -> None:
    """Only a word broken after a letter loses its hyphen across the page break: "3-" stays."""
    first = [*body(0), "When the tank is empty the pump stops and the controller closes the 3-"]
    then = "way valve until the float switch reports water again."
    manual(tmp_path / "m.pdf", [first, [then, *body(1)], body(2), body(3)])
    document = load_document(tmp_path / "m.pdf")
    assert "closes the 3- way valve" in document.text


def test_an_empty_page_before_one_that_starts_in_lower_case(tmp_path: Path) -> None:
    """A page with no text (its number dropped) goes on with no sentence: not joined."""
    then = "the float switch reports water again, then it starts the pump."
    manual(tmp_path / "m.pdf", [body(0), [], [then, *body(1)], body(3)])
    document = load_document(tmp_path / "m.pdf")
    assert "\n\nthe float switch reports water again" in document.text
    (_, one, _), empty = document.pages[:2]
    assert empty[:2] == (one + 2, one + 2)  # between its page breaks, not moved


# rag/numbers.py: the limit rule


@pytest.mark.parametrize(
    "question",
    [
        "WHAT IS THE MAXIMUM NUMBER OF PRESETS?",
        "What is the Maximum Number of presets?",
        "What is the maximum  number of presets?",
        "What is the maximum\nnumber of presets?",
    ],
)
def test_a_maximum_asked_in_capitals_or_across_spaces_asks_for_a_limit(question: str) -> None:
    assert not holds_number_asked(question, "There are two presets.")
    assert holds_number_asked(question, "There are at most two presets.")


# A maximum that names nothing counted: any count stated as a limit answers it (one that names
# what it counts must name it too: tests/test_numbers_limit.py).
ANY_LIMIT = "What is the maximum number it allows?"


def test_a_word_ending_in_min_asks_for_no_limit() -> None:
    """ "admin number": no minimum asked, nor any number (a question for none is never
    checked)."""
    assert holds_number_asked("Where is the admin number printed?", "It is on the label.")


@pytest.mark.parametrize(
    "text",
    [
        "A cluster needs at least 3 nodes.",
        "Keep no more than 8 presets.",
        "It holds not more than 8 presets.",
        "Run no fewer than 2 replicas.",
        "Use no less than 2 replicas.",
        "The local maxima are 3 and 5.",
        "The minima are 2 and 4.",
        "It accepts max 64 connections.",
        "It runs min 2 replicas.",
        "A build may define at\nmost 200 targets.",
        "A build may define at  most 200 targets.",
    ],
)
def test_every_way_of_stating_a_limit_answers(text: str) -> None:
    assert holds_number_asked(ANY_LIMIT, text)


@pytest.mark.parametrize(
    "text",
    [
        "A restart takes 5 minutes.",
        "The maxwell unit measures 3 kinds of flux.",
        "There are 3 admin accounts.",
        "Twice as many workers run on 8 cores.",
    ],
)
def test_a_limit_word_inside_another_word_states_none(text: str) -> None:
    assert not holds_number_asked(ANY_LIMIT, text)


# Real defects found by the attack review


@pytest.mark.parametrize("end", ["", "-"], ids=["joined", "hyphenated"])
def test_a_page_of_thousands_of_wrapped_lines_is_unwrapped_in_linear_time(end: str) -> None:
    """The text joined so far was searched for a hyphen at each next line and copied to join it:
    a one-page PDF of 5,000 lines in one paragraph (21 KB) took 56 s to load, past the PDF's
    deadline (which counts pypdf's reading, not the unwrapping after it)."""
    import time

    from rag.loaders import unwrap_lines

    line = "the pump moves the water from the tank to the filter and bac" + end
    started = time.perf_counter()
    text = unwrap_lines("\n".join([line] * 3000))
    assert time.perf_counter() - started < 2
    assert text == ("bac" if end else "bac ").join([line[: -3 - len(end)]] * 3000) + "bac" + end


def test_a_blank_line_before_a_line_in_lower_case_keeps_its_paragraph_break() -> None:
    """Nothing is joined to a blank line: the next paragraph starts on a line of its own."""
    from rag.loaders import unwrap_lines

    assert unwrap_lines("Tanks.\n\nthe pump runs.\n\n\nseals wear-\n\nout.") == (
        "Tanks.\n\nthe pump runs.\n\n\nseals wear-\n\nout."
    )


@pytest.mark.parametrize(
    "filled",
    [
        ["the float switch reports that the tank holds water"],
        ["the float switch reports that the tank holds wa-"],
        ["the float switch reports that", "the tank holds water"],
        ["the float switch reports that the", "tank holds wa-"],
    ],
    ids=["joined", "hyphenated", "two-pages", "two-pages-hyphenated"],
)
def test_a_sentence_across_pages_it_fills_ends_on_the_page_it_started_on(
    tmp_path: Path, filled: list[str]
) -> None:
    """Pages of one line each go on with the sentence page 1 broke off, and the next page ends
    it: all of it is page 1's, the pages it filled empty. Page 1 ended where the first filled
    page ended (with the hyphen gone, in the middle of "water"), the next page held the rest."""
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    then = ("ter again" if filled[-1].endswith("-") else "again") + ", then it starts the pump."
    manual(tmp_path / "m.pdf", [first, *([line] for line in filled), [then, *body(1)], body(3)])
    document = load_document(tmp_path / "m.pdf")
    one = document.pages[0][1]
    middle = document.pages[1 : 1 + len(filled)]
    after = document.pages[1 + len(filled)][0]
    sentence = (
        "When the tank is empty the pump stops and the controller waits until the float "
        "switch reports that the tank holds water again, then it starts the pump."
    )
    assert document.text[:one].endswith(sentence)
    assert all((start, end) == (one, one) for start, end, _ in middle)
    assert one < after and not document.text[one:after].strip()
    assert document.text[after:].startswith(body(1)[0])
    assert (1, sentence) in sentences(tmp_path / "m.pdf")


def test_a_sentence_whose_last_letter_is_on_the_page_after_the_page_it_filled(
    tmp_path: Path,
) -> None:
    """ "wate-" ends the page the sentence filled and "r" is all of it on the next page: the
    filled page's range, one short of empty once the hyphen is out, is made empty too."""
    first = [*body(0), "When the tank is empty the pump stops and the controller waits until"]
    filled = ["the float switch reports that the tank holds wate-"]
    manual(tmp_path / "m.pdf", [first, filled, ["r", *body(1)], body(3)])
    document = load_document(tmp_path / "m.pdf")
    (_, one, _), (start, end, _), (after, _, _) = document.pages[:3]
    assert document.text[:one].endswith("reports that the tank holds water")
    assert (start, end) == (one, one)
    assert document.text[after:].startswith(body(1)[0])
