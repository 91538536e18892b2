"""Plain text wrapped by its editor is read as the author wrote it: a paragraph, not a line at a
time (rag/loaders/text.py). Before, a sentence never crossed a line, so "The loaded entries take
priority over the" was a sentence of a text file wrapped at 72 columns, read and cited alone."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from rag.chunking import chunk_document, split_sentences
from rag.loaders import load_document
from rag.loaders.text import MAX_WRAP_WIDTH, load_text, unwrap

PROSE = (
    "When CMake is first run in an empty build tree, it creates a cache file and populates it "
    "with customizable settings for the project. This option may be used to specify a file "
    "from which to load cache entries before the first pass through the project's listfiles. "
    "The loaded entries take priority over the project's default values."
)


def wrapped(text: str, width: int = 72, indent: str = "") -> str:
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_a_wrapped_paragraph_is_one_line_and_its_sentences_cross_the_old_breaks() -> None:
    text = f"Options\n\n{wrapped(PROSE)}\n\n{wrapped(PROSE, 60)}\n"
    assert wrapped(PROSE).count("\n") >= 3
    out = unwrap(text)
    assert out == f"Options\n\n{PROSE}\n\n{PROSE}\n"
    assert "The loaded entries take priority over the project's default values." in sentences(out)


def test_the_file_loads_unwrapped_and_chunks_hold_whole_sentences(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(f"Cache\n\n{wrapped(PROSE)}\n", encoding="utf-8")
    document = load_document(path)
    assert document.text == f"Cache\n\n{PROSE}"
    chunk = chunk_document("notes.txt", document.text, size=700, overlap=0)[0]
    said = [chunk.text[s:e] for s, e in chunk.sentences]
    assert "The loaded entries take priority over the project's default values." in said
    assert not any(s.endswith(("over the", "it creates a")) for s in said)


def test_each_list_item_is_unwrapped_under_its_first_word_and_items_stay_apart() -> None:
    items = [
        "Explicit triggers. These can be activated by any program by running the trigger "
        "command at any time, ideally from a maintainer script.",
        "File triggers. These are activated automatically when a matching file is installed, "
        "upgraded or removed as part of a package.",
    ]
    body = "\n".join(
        textwrap.fill(item, 64, initial_indent=" * ", subsequent_indent="   ") for item in items
    )
    text = f"{wrapped(PROSE)}\n\nThere are two kinds:\n{body}\n"
    assert unwrap(text) == f"{PROSE}\n\nThere are two kinds:\n * {items[0]}\n * {items[1]}\n"


def test_code_indented_past_the_prose_keeps_its_lines() -> None:
    code = (
        "    add_custom_command(OUTPUT generated_source_file.c COMMAND generator --all\n"
        "    DEPENDS generator input_description_file.txt more_input_files.txt)"
    )
    text = f"{wrapped(PROSE)}\n\n{code}\n\n{wrapped(PROSE)}"
    assert unwrap(text) == f"{PROSE}\n\n{code}\n\n{PROSE}"


def test_fenced_and_delimited_blocks_keep_their_lines() -> None:
    long_line = "x" * 60 + " continues"
    for fence in ("```", "----------"):
        block = f"{fence}\n{long_line}\n{long_line}\n{fence}"
        text = f"{wrapped(PROSE)}\n\n{block}\n\n{wrapped(PROSE)}"
        assert unwrap(text) == f"{PROSE}\n\n{block}\n\n{PROSE}", fence


def test_an_underlined_heading_opens_no_block() -> None:
    text = f"Introduction\n============\n{wrapped(PROSE)}\n"
    assert unwrap(text) == f"Introduction\n============\n{PROSE}\n"


def test_columns_prompts_and_statements_keep_their_lines() -> None:
    blocks = [
        "  unpacked     never     maybe     no      postinst configure\n"
        "  installed    no        no        yes     nothing to be done",
        "$ git clone https://example.com/long/path/to/project.git here\n$ cd here && make",
        "static int first_helper_with_a_long_name(int argument) {\n"
        "    return second_helper_with_a_long_name(argument);\n}",
        "first_option_value = compute_the_default(argument, more)\\\n"
        "second_option_value = compute_the_default(argument, less)",
    ]
    for block in blocks:
        assert all(len(line) <= 72 for line in block.split("\n"))
        assert len(block.split("\n")[0]) >= 0.6 * 72
        text = f"{wrapped(PROSE)}\n\n{block}\n"
        assert unwrap(text) == f"{PROSE}\n\n{block}\n", block


def test_a_line_longer_than_the_width_was_not_wrapped() -> None:
    lines = [
        "'git stash' show [-u | --include-untracked | --only-untracked] [<diff-options>] [<s>]",
        "'git stash' drop [-q | --quiet] [<stash>]",
    ]
    text = f"{wrapped(PROSE)}\n\n" + "\n".join(lines) + "\n"
    assert len(lines[0]) > 1.1 * 72
    assert unwrap(text).endswith("\n".join(lines) + "\n")


def test_files_with_nothing_wrapped_are_left_as_they_are() -> None:
    one_per_line = "\n".join([PROSE, PROSE.upper(), PROSE])  # a paragraph a line, no blank line
    assert len(PROSE) > MAX_WRAP_WIDTH
    assert unwrap(one_per_line) == one_per_line
    names = "\n".join(["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"] * 5)
    assert unwrap(names) == names
    assert load_text("").text == ""


def test_items_written_a_line_each_are_not_joined_however_long() -> None:
    # SelQA's pages: one item a line, each about as long as the next, none ending a sentence.
    items = "\n".join(
        [
            "John Lennon – vocal, rhythm guitar, handclaps, tambourine",
            "Paul McCartney – vocal, bass guitar, handclaps, piano part",
            "George Harrison – lead guitar, handclaps, acoustic guitar",
            "Ringo Starr – drums, handclaps, maracas and the tambourine",
            '" Party Rock Anthem " ( Wideboys Radio Edit ) – 3:25 min',
            '" Party Rock Anthem " ( Benny Benassi Club Mix ) – 6:17 min',
        ]
    )
    assert unwrap(items) == items
    # The same lengths, going on in lower case: wrapped.
    prose = items.replace("\nPaul", "\npaul").replace("\nGeorge", "\ngeorge")
    prose = prose.replace("\nRingo", "\nringo").replace('\n"', "\nthe")
    assert unwrap(prose).count("\n") == 0


def framed(block: str, width: int = 72) -> str:
    """``block`` between two paragraphs wrapped at ``width`` (the file's width then)."""
    return f"{wrapped(PROSE, width)}\n\n{block}\n\n{wrapped(PROSE, width)}"


def kept(block: str, width: int = 72) -> bool:
    """Whether ``block`` keeps its lines between the two paragraphs, which are unwrapped."""
    return unwrap(framed(block, width)) == f"{PROSE}\n\n{block}\n\n{PROSE}"


@pytest.mark.parametrize(
    "block",
    [
        # Each is kept by one test alone: the line before is short (FULL_LINE), the next word
        # would have fitted (FITTED_LINE), the line ends a sentence or announces a list.
        "a line of forty characters, then a word\nconfiguration_variable_names_are_long here",
        "a line of fifty characters that stops short there\na word that would have fitted",
        "a full line that ends its sentence where the author did.\nlower case goes on after it",
        "a full line that announces the items that follow it here:\nlower case goes on after it",
        # Columns, before or after; a prompt, before or after; a list item's start.
        "name of the option     what it does to the build of the tree\nand the next line",
        "a full line of prose that runs to the width of the file so that\nname     value     more",
        "the output of the command that ran just before, as it printed it\n$ make install",
        "$ ./configure --prefix=/usr/local --enable-shared --with-ssl\nchecking for gcc... gcc",
        "a full line of prose that runs to the width of the file so that\n- an item of a list",
        # Indented past the paragraph: code.
        "a full line of prose that runs to the width of the file so that\n    indented code",
    ],
)
def test_each_guard_keeps_a_line_break(block: str) -> None:
    assert kept(block)


def test_files_too_narrow_or_too_wide_to_be_wrapped_are_left_as_they_are() -> None:
    narrow = "\n".join(["an old silent pond", "a frog jumps into the pond", "splash silence"] * 4)
    assert unwrap(narrow) == narrow
    wide = "\n".join(
        f"note {n}: the build reads its cache first and then the options given on the command "
        f"line, so an option given there wins over the cached value of the same name ({n})."
        for n in range(6)
    )
    assert all(len(line) > MAX_WRAP_WIDTH for line in wide.split("\n"))
    assert unwrap(wide) == wide


def test_a_rule_between_paragraphs_opens_no_block() -> None:
    # Taken for a block's opening, it kept every later paragraph wrapped (a planted-bug probe).
    for rule in ("----------", "==========", "**********", "##########"):
        text = f"{wrapped(PROSE)}\n\n{rule}\n\n{wrapped(PROSE)}\n"
        assert unwrap(text) == f"{PROSE}\n\n{rule}\n\n{PROSE}\n", rule


def test_a_listing_right_under_a_line_of_prose_keeps_its_lines() -> None:
    # AsciiDoc: "----" under a full line of prose opens a listing; it underlines only a heading
    # (a short line, or one about as long as the rule).
    listing = (
        "----\n./configure --prefix=/usr/local --enable-shared --with-openssl --quiet\n"
        "make && make install DESTDIR=/tmp/stage PREFIX=/usr/local V=1 -j4\n----"
    )
    intro = "To build it, run these two commands from the top of its source tree"
    assert len(intro) >= 0.6 * 72
    text = f"{wrapped(PROSE)}\n\n{intro}\n{listing}\n\n{wrapped(PROSE)}"
    assert unwrap(text) == f"{PROSE}\n\n{intro}\n{listing}\n\n{PROSE}"
    title = "A title about as long as the rule under it, which underlines it"
    underlined = f"{title}\n{'=' * len(title)}\n{wrapped(PROSE)}"
    assert unwrap(underlined) == f"{title}\n{'=' * len(title)}\n{PROSE}"


@pytest.mark.parametrize(
    "block",
    [
        # A line of marks only (a setext underline, a rule) joins nothing and is joined to none.
        "a full line of prose that runs to the width of the file so that\n---",
        # A Markdown heading, reStructuredText's explicit markup, an en dash item.
        "a full line of prose that runs to the width of the file so that\n## the installation",
        "## the installation of the package from its source with the tools\nit goes on",
        "a full line of prose that runs to the width of the file so that\n.. code-block:: sh",
        "a full line of prose that runs to the width of the file so that\n– cache entries",
    ],
)
def test_marks_headings_and_markup_keep_their_lines(block: str) -> None:
    assert kept(block)


def test_a_long_run_of_wrapped_lines_is_joined_in_linear_time() -> None:
    # Joined line by line into a growing string, 100,000 lines took 92 s; 200,000 take about
    # 4 s joined once (this bound only catches the square's minutes).
    line = "the quick brown fox jumps over the lazy dog and keeps running on far away\n"
    started = time.monotonic()
    text = unwrap(line * 200_000)
    assert time.monotonic() - started < 60
    assert "\n" not in text.strip()
