"""Behaviours of plain-text unwrapping (rag/loaders/text.py) and of the XML declaration's strip
(rag/loaders/html.py) that tests/test_text_unwrap.py and tests/test_xhtml_warnings.py left
open: each test here fails with one small planted bug (a bound, a character class, a dropped
guard) and passes on the code as written."""

from __future__ import annotations

import warnings

import pytest

from rag.loaders.html import html_to_text, parse
from rag.loaders.text import FITTED_LINE, FULL_LINE, unwrap
from tests.test_text_unwrap import PROSE, framed, kept, wrapped
from tests.test_xhtml_warnings import XHTML

# ------------------------------------------------------------------------- widths and bounds


def test_a_line_the_next_word_would_have_fitted_after_keeps_its_break() -> None:
    # 56 + 1 + 1 columns: more than 0.75 of 72, not more than FITTED_LINE (0.85) of it.
    line = "a line of fifty-six characters that stops before the end"
    assert len(line) == 56 and 0.75 * 72 < 58 <= FITTED_LINE * 72
    assert kept(f"{line}\na word that would have fitted on the line above")


def test_a_line_filled_to_exactly_the_fitted_share_keeps_its_break() -> None:
    # 60 + 1 + 7 = 68 = 0.85 of 80: the next word would just have fitted.
    line = "a line of sixty characters that stops a word short of the en"
    assert len(line) == 60 and len(line) + 1 + len("growing") == FITTED_LINE * 80
    assert kept(f"{line}\ngrowing on after it", 80)


def test_a_line_of_exactly_the_full_share_is_joined_when_a_long_word_did_not_fit() -> None:
    # 48 = 0.6 of 80 columns, wrapped before a link the line could not hold.
    line = "the manual for the option is on the project site"
    url = "https://example.com/docs/cmake/options.html"
    assert len(line) == FULL_LINE * 80
    out = unwrap(framed(f"{line}\n{url} under its name", 80))
    assert f"{line} {url} under its name" in out


def test_a_file_wrapped_narrower_than_forty_columns_is_left_as_it_is() -> None:
    verse = "\n".join(
        [
            "the rain came down on the old tin roof",
            "and ran along the gutter to the road",
            "where children waited with their boats",
            "of paper folded by the kitchen fire",
        ]
        * 3
    )
    assert 30 < max(len(line) for line in verse.split("\n")) < 40
    assert unwrap(verse) == verse


def test_a_file_of_lines_wider_than_the_most_an_editor_wraps_at_is_left_as_it_is() -> None:
    # 121 to 160 columns, each going on in lower case: a line each, not wrapped.
    log = "\n".join(
        f"worker {n} read the cache of the build tree and the options of the command line, "
        f"then wrote the result to the log file of run {n:03d} and"
        for n in range(8)
    )
    assert all(120 < len(line) < 160 for line in log.split("\n"))
    assert unwrap(log) == log


def test_a_rule_wider_than_the_prose_does_not_set_the_width() -> None:
    rule = "=" * 79
    prose = wrapped(PROSE, 60)
    text = f"{rule}\nCMake options\n{rule}\n\n{prose}\n"
    assert unwrap(text) == f"{rule}\nCMake options\n{rule}\n\n{PROSE}\n"


# ------------------------------------------------------------------------- lines kept apart


@pytest.mark.parametrize(
    "block",
    [
        # A numbered item past 99, a lettered item.
        "a full line of prose that runs to the width of the file so that\n100. the next item",
        "a full line of prose that runs to the width of the file so that\nb) the second case",
        # A line ending a question; a root prompt; a line with a tab in it.
        "a full line of prose that asks a question of the reader, does it?\nlower case goes on",
        "a full line of prose that runs to the width of the file so that\n# make install",
        "a full line of prose that runs to the width of the file so that\nname\tvalue",
        "name\tvalue of the option that runs to the width of the file here\nand the next line",
    ],
)
def test_more_guards_keep_a_line_break(block: str) -> None:
    assert kept(block)


def test_a_tilde_fence_keeps_its_lines() -> None:
    long_line = "x" * 60 + " continues"
    assert kept(f"~~~\n{long_line}\n{long_line}\n~~~")


def test_a_rule_of_hashes_delimits_a_block_like_one_of_dashes() -> None:
    long_line = "x" * 60 + " continues"
    assert kept(f"##########\n{long_line}\n{long_line}\n##########")


def test_a_backtick_fence_right_under_a_line_of_text_opens_a_block() -> None:
    long_line = "x" * 60 + " continues"
    assert kept(f"Run it so:\n```\n{long_line}\n{long_line}\n```")


def test_a_tilde_fence_right_under_an_underlined_heading_opens_a_block() -> None:
    long_line = "x" * 60 + " continues"
    assert kept(f"Usage\n=====\n~~~\n{long_line}\n{long_line}\n~~~")


def test_code_indented_with_a_tab_keeps_its_lines() -> None:
    code = (
        "\tadd_custom_command(OUTPUT generated_source_file.c COMMAND generator --all\n"
        "\tdepends_on(generator input_description_file.txt more_input_files.txt)"
    )
    assert kept(code)


# ------------------------------------------------------------------------- lines joined


def test_a_three_dash_rule_and_a_hashed_heading_do_not_stop_the_unwrapping() -> None:
    for line in ("---", "#### Options"):
        text = f"{wrapped(PROSE)}\n\n{line}\n\n{wrapped(PROSE)}\n"
        assert unwrap(text) == f"{PROSE}\n\n{line}\n\n{PROSE}\n", line


def test_a_continuation_line_opening_with_an_abbreviation_is_joined() -> None:
    # "e.g." and "3.5" open no list item: the line continues the one above.
    for word in ("e.g.", "3.5"):
        line = "a full line of prose that runs to the width of the file so that"
        out = unwrap(framed(f"{line}\n{word} the cache goes on", 72))
        assert f"{line} {word} the cache goes on" in out, word


def test_text_with_two_spaces_after_its_full_stops_is_unwrapped() -> None:
    # Emacs and many typists end a sentence with two spaces.
    spaced = PROSE.replace(". ", ".  ")
    text = f"{wrapped(spaced)}\n\n{wrapped(spaced)}\n"
    assert unwrap(text) == f"{spaced}\n\n{spaced}\n"


def test_paragraphs_of_two_lines_opening_with_capitals_are_unwrapped() -> None:
    paragraphs = [
        "Ninja builds the targets of the project in parallel by default and rebuilds\n"
        "only what changed since the last run of the build.",
        "Make reads the makefile the generator wrote and runs one job at a time unless\n"
        "told otherwise with the jobs option on its command line.",
        "Xcode opens the project the generator wrote and builds it with the settings\n"
        "of the scheme chosen in the editor.",
    ]
    text = "\n\n".join(paragraphs)
    assert unwrap(text) == text.replace("\nonly", " only").replace("\ntold", " told").replace(
        "\nof", " of"
    )


def test_half_of_the_breaks_going_on_in_lower_case_is_enough() -> None:
    first = "The generator writes the build files of the project into the build tree"
    second = "The generator writes the build files of the project into the build tree"
    text = f"{first}\nand then the build starts.\n\n{second}\nCMake then starts the build."
    assert len(first) == 71
    assert unwrap(text) == (
        f"{first} and then the build starts.\n\n{second} CMake then starts the build."
    )


# ------------------------------------------------------------------------- XML declaration


def test_an_xhtml_page_parses_without_a_budget_where_warnings_are_errors() -> None:
    # Every loader passes a budget; parse() without one takes the other branch.
    parse(XHTML)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "Use git stash when you want to record" in parse(XHTML).get_text()


def test_a_declaration_written_over_two_lines_goes_too() -> None:
    page = XHTML.replace('version="1.0" encoding', 'version="1.0"\n  encoding', 1)
    assert page.startswith('<?xml version="1.0"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert html_to_text(page).startswith("git-stash(1)")


def test_a_page_opening_with_a_stylesheet_instruction_loads_where_warnings_are_errors() -> None:
    page = XHTML.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml-stylesheet type="text/xsl" href="manpage.xsl"?>',
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert html_to_text(page).startswith("git-stash(1)")


def test_a_page_on_one_line_keeps_the_text_before_a_later_question_mark_and_bracket() -> None:
    # XHTML need not escape ">": a page written on one line shows PHP's closing "?>".
    page = XHTML.replace("\n", " ").replace(
        "<h2>DESCRIPTION</h2>", "<h2>DESCRIPTION</h2><p>Close the block with ?> at its end.</p>"
    )
    text = html_to_text(page)
    assert text.startswith("git-stash(1)")
    assert "Close the block with ?> at its end." in text
