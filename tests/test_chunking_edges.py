"""The edges of chunking that the property tests pass over: what a chunk id is made of, where a
sentence too long for a chunk is cut, when units share a chunk or its overlap, and the sentence
rules at the ends of the text. Found by a mutation pass over rag/chunking.py (mutants that the
span invariants and the real-document tests did not notice)."""

from __future__ import annotations

import hashlib

import pytest

import rag.chunking as chunking
from rag.chunking import (
    Region,
    Unit,
    block_units,
    chunk_document,
    chunk_id,
    content_hash,
    inside_token,
    inside_word,
    lone_stop,
    pack_units,
    split_sentences,
)
from rag.loaders.base import Block

TEXT = "One sentence here. Another one there. A third one too."


def test_a_chunk_id_names_the_file_the_text_and_the_span() -> None:
    """Two files with the same text, or one file whose text changed, never share a chunk id (a
    shared id would make one file's chunk replace the other's in the store)."""
    first = chunk_document("a.txt", TEXT, size=25, overlap=0)
    ids = [c.id for c in first]
    assert len(first) == 3 and len(set(ids)) == 3
    assert ids == [c.id for c in chunk_document("a.txt", TEXT, size=25, overlap=0)]  # stable
    assert not set(ids) & {c.id for c in chunk_document("b.txt", TEXT, size=25, overlap=0)}
    changed = chunk_document("a.txt", TEXT + " More.", size=25, overlap=0)
    assert (changed[0].start, changed[0].end) == (first[0].start, first[0].end)
    assert changed[0].id != first[0].id
    assert ids[1] == chunk_id("a.txt", content_hash(TEXT), first[1].start, first[1].end)
    assert chunk_id("a.txt", "h", 0, 5) != chunk_id("a.txt", "h", 1, 5)
    assert chunk_id("a.txt", "h", 0, 5) != chunk_id("a.txt", "h", 0, 6)
    assert len(ids[0]) == 24 and int(ids[0], 16) >= 0
    assert content_hash(TEXT) == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # At the last word break in the second half of the limit.
        ("aaaa bbbb cccc dddd eeee ffff", ["aaaa bbbb cccc dddd", "eeee ffff"]),
        ("aa bb cc dd ee ff gg hh ii jj", ["aa bb cc dd ee ff", "gg hh ii jj"]),
        ("aaaa bbbb cccc ddddd", ["aaaa bbbb cccc ddddd"]),  # exactly the limit: not cut
        # A break only in the first half: the piece is cut at the limit (its second half is one
        # word), not short at that break.
        ("aaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbb", ["aaaaaaa bbbbbbbbbbbb", "bbbbbbbbbbbbbb"]),
        # No break at all: after the last punctuation run in the second half.
        ("aaaaaaaaaaaaaaa-bbbbbbbbbbbbbb", ["aaaaaaaaaaaaaaa-", "bbbbbbbbbbbbbb"]),
        ("aaa,aaaaaaaaaaa-bbbbbbbbbbbbbb", ["aaa,aaaaaaaaaaa-", "bbbbbbbbbbbbbb"]),
        # A mark past the limit is no cut point.
        ("aaaaaaaaaaaaa-aaaaaaaaa-bbbbbbb", ["aaaaaaaaaaaaa-", "aaaaaaaaa-bbbbbbb"]),
        # Punctuation only in the first half: cut at the limit.
        ("aaaaaaa-aaaaaaaaaaaaaaaaaaaaa", ["aaaaaaa-aaaaaaaaaaaa", "aaaaaaaaa"]),
        ("aaa,aaaaaaaaaaaaaaaaaaaaaaaaa", ["aaa,aaaaaaaaaaaaaaaa", "aaaaaaaaa"]),
        # Neither: cut at the limit.
        ("a" * 45, ["a" * 20, "a" * 20, "a" * 5]),
    ],
)
def test_a_sentence_longer_than_a_chunk_is_cut_where_the_rules_say(
    text: str, expected: list[str]
) -> None:
    pieces = chunking._split_long(text, (0, len(text)), 20)
    assert [text[s:e] for s, e in pieces] == expected


def test_units_that_fill_a_chunk_exactly_share_it_and_its_overlap() -> None:
    units = [Unit(0, 10, "text"), Unit(11, 20, "text"), Unit(21, 30, "text")]
    # 20 characters fit a 20-character chunk; the 9-character unit fits a 9-character overlap.
    assert pack_units(units, 20, 9) == [units[0:2], units[1:3]]
    assert pack_units(units, 20, 8) == [units[0:2], units[2:3]]
    assert pack_units(units, 19, 100) == [units[0:1], units[1:3]]  # 20 > 19; then 19
    assert pack_units(units, 30, 0) == [units]
    assert pack_units(units[:1], 5, 0) == [units[:1]]  # a unit over the size is still packed
    assert pack_units([], 5, 0) == []


def test_a_sentence_that_introduces_a_unit_keeps_it_in_its_chunk() -> None:
    """A chunk never ends on "Run the following:" when code follows: when the code does not fit
    after it, the chunk ends before the sentence and the next one starts with it (no overlap
    there), taking the code past the size if it must (split, the command was lost)."""
    intro, code = Unit(11, 20, "text", opens=True), Unit(21, 40, "code")
    units = [Unit(0, 10, "text"), intro, code, Unit(41, 50, "text")]
    assert pack_units(units, 20, 0) == [units[0:1], units[1:3], units[3:4]]
    assert pack_units(units, 20, 10) == [units[0:1], units[1:3], units[3:4]]  # no overlap there
    assert pack_units(units, 40, 0) == [units[0:3], units[3:4]]  # it fits: one chunk as before
    assert pack_units(units[1:], 5, 0) == [units[1:3], units[3:4]]  # the intro opens a chunk
    # Not after a sentence that introduces nothing, nor before a sentence or a heading.
    plain = [Unit(0, 10, "text"), Unit(11, 20, "text"), code]
    assert pack_units(plain, 20, 0) == [plain[0:2], plain[2:3]]
    for kind in ("text", "heading"):
        after = [Unit(0, 10, "text"), intro, Unit(21, 40, kind)]
        assert pack_units(after, 20, 0) == [after[0:2], after[2:3]]
    for kind in ("list", "table"):
        before = [Unit(0, 10, "text"), intro, Unit(21, 40, kind)]
        assert pack_units(before, 20, 0) == [before[0:1], before[1:3]]
    assert pack_units([Unit(0, 10, "text"), intro], 5, 0) == [[Unit(0, 10, "text")], [intro]]


def test_which_units_introduce_what_follows() -> None:
    text = "Streams are fast. Then run this command. Or not.\nA heading:"
    units = block_units(text, Region(0, text.index("\n"), "paragraph"), 100)
    assert [(text[u.start : u.end], u.opens) for u in units] == [
        ("Streams are fast.", False),
        ("Then run this command.", True),
        ("Or not.", False),
    ]
    assert not block_units(text, Region(text.index("A h"), len(text), "heading"), 100)[0].opens
    assert not block_units(text, Region(text.index("A h"), len(text), "caption"), 100)[0].opens


def test_a_document_keeps_a_command_with_the_sentence_before_it() -> None:
    lead = " ".join(f"Sentence number {i} says a little." for i in range(18))  # 576 characters
    text = f"{lead} Then run the following:\n\n{'cargo build --release ' * 9}\n\nAfter."
    code = text.index("cargo")
    blocks = [
        Block(0, code - 2, "paragraph"),
        Block(code, text.index("\n\nAfter"), "code"),
        Block(text.index("After"), len(text), "paragraph"),
    ]
    chunks = chunk_document("a.md", text, size=700, overlap=150, blocks=blocks)
    holding = [c for c in chunks if "run the following:" in c.text]
    assert holding and all("cargo build" in c.text for c in holding)
    assert [c.text.startswith("Then run the following:") for c in holding] == [True]
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_units_of_a_caption_and_of_blank_blocks() -> None:
    text = "Listing 1-2: A caption of the code.   \n\n   "
    assert block_units(text, Region(0, len(text), "caption"), 100) == [Unit(0, 35, "caption")]
    assert block_units(text, Region(0, len(text), "paragraph"), 100) == [Unit(0, 35, "text")]
    assert block_units(text, Region(35, len(text), "paragraph"), 100) == []
    heading = "A heading that runs far too long"
    assert block_units(heading, Region(0, 32, "heading"), 20) == [
        Unit(0, 19, "heading"),
        Unit(20, 32, "heading"),
    ]
    code = "  x = 1  \n  y = 2  "
    assert block_units(code, Region(0, len(code), "code"), 100) == [Unit(2, 17, "code")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Press the . (", ["Press the .", "("]),  # opening marks up to the end of the text
        ("It ends . (See above.)", ["It ends .", "(See above.)"]),  # a capital after the mark
        (" . (period) character.", [". (period) character."]),  # the mark opens the text
        ("The end .\nnext line.", ["The end .", "next line."]),  # lines never share a sentence
        ("Is it ? yes it is.", ["Is it ? yes it is."]),
        ("It ends.” ”", ["It ends.” ”"]),  # closing marks up to the end of the text
    ],
)
def test_a_lone_full_stop_at_the_ends_of_the_text(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_a_lone_stop_is_a_full_stop_after_white_space_before_lower_case() -> None:
    assert lone_stop("the . (x", 5, 6) and lone_stop("the . x", 5, 6)
    assert not lone_stop("the . (X", 5, 6)  # a capital opens the next sentence
    assert not lone_stop("Is it ? (yes)", 7, 8) and not lone_stop("Is it ! yes", 7, 8)
    assert not lone_stop("the. x", 4, 5)  # the mark closes a word


def test_word_and_token_checks_at_the_ends_of_the_text() -> None:
    assert inside_word("ab", 1)
    assert not inside_word("ab", 0) and not inside_word("ab", 2)  # no wrap-around, no IndexError
    assert not inside_word("a b", 1) and not inside_word("a b", 2)
    assert inside_token("a.b", 2)
    assert not inside_token("a.b", 0) and not inside_token("a.b", 3)
    assert not inside_token("ab", 1)  # no mark before it
    assert inside_token(".b", 1)  # a token opening the text (".NET", "./configure")
    assert not inside_token("b.", 0) and not inside_token("a.", 2)  # no wrap-around, no IndexError
    assert (
        not inside_token("a. b", 2) and not inside_token("a.(b", 2) and not inside_token("a.)", 2)
    )


def test_spans_stay_exact_whatever_white_space_the_splitter_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sentencex may return pieces whose white space differs from the text (it collapses or
    drops some): each is matched character by character; a piece not in the text at all leaves
    the rest cut at line ends."""
    text = "One   two.\tThree   four."
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["One two.", "Three four."])
    assert split_sentences(text) == [(0, 10), (11, 24)]
    # A piece that differs from the text in a letter, or runs past its end, is not in it.
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["One twX.", "Three four."])
    assert split_sentences(text) == [(0, 24)]
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["One two. More."])
    assert split_sentences("One  two.\n") == [(0, 9)]

    other = "First line here.\nSecond line here."
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["Not in it."])
    assert [other[s:e] for s, e in split_sentences(other)] == [
        "First line here.",
        "Second line here.",
    ]
    # A piece found only past text the splitter skipped is not taken there.
    skipped = "Alpha one. Beta two."
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["Beta two."])
    assert split_sentences(skipped) == [(0, 20)]
    # The pieces found are kept; from the first one not found, the rest is cut at line ends.
    monkeypatch.setattr(chunking, "segment", lambda language, t: ["First line", "here. Zzz"])
    assert [other[s:e] for s, e in split_sentences(other)] == [
        "First line",
        "here.",
        "Second line here.",
    ]


def test_section_paths() -> None:
    assert chunking.section_path("Guide", ()) == ""
    assert chunking.section_path("Guide", ("Install",)) == "Guide > Install"
    assert chunking.section_path("Guide", ("Guide", "Install")) == "Guide > Install"
    assert chunking.section_path("", ("A", "B")) == "A > B"
    assert chunking.section_path("T", ("a > b",)) == "T > a › b"  # splits back into its headings


def test_blocks_keep_their_kind_across_a_page_break_and_a_blank_block_drops_nothing() -> None:
    text = "Intro line.\n\nprint(1)\n   \n\nBody text here."
    blocks = [
        Block(0, 11, "paragraph"),
        Block(13, 21, "code"),
        Block(22, 25, "paragraph"),  # white space only: no units
        Block(27, 42, "paragraph"),
    ]
    chunks = chunk_document(
        "a.pdf", text, size=700, overlap=0, blocks=blocks, pages=((0, 13, 1), (13, 42, 2))
    )
    assert [(c.text, c.page, c.kinds) for c in chunks] == [
        ("Intro line.", 1, ("text",)),
        ("print(1)\n   \n\nBody text here.", 2, ("code", "text")),
    ]


def test_lines_of_code_fill_a_unit_exactly_and_long_lines_are_cut() -> None:
    code = "aaaa\nbbbb"
    assert block_units(code, Region(0, 9, "code"), 9) == [Unit(0, 9, "code")]
    assert block_units(code, Region(0, 9, "code"), 8) == [Unit(0, 4, "code"), Unit(5, 9, "code")]
    long = "x" * 30
    assert block_units(long, Region(0, 30, "code"), 20) == [
        Unit(0, 20, "code"),
        Unit(20, 30, "code"),
    ]


def test_trimming_and_blank_lines() -> None:
    assert chunking._trim("   ab  ", 0, 7) == (3, 5)
    assert chunking._trim("ab   ", 0, 5) == (0, 2)
    assert chunking._trim("   ", 0, 3) == (3, 3)
    assert split_sentences("A.\n   \nB.") == [(0, 2), (7, 9)]


def test_a_heading_starts_a_new_chunk_even_when_it_repeats_the_one_before() -> None:
    """Two sections with one name ("Notes" twice): the second heading's path is the first's, and
    it still starts a chunk of its own."""
    text = "Notes\n\nFirst note.\n\nNotes\n\nSecond note."
    blocks = [
        Block(0, 5, "heading", ("Notes",)),
        Block(7, 18, "paragraph", ("Notes",)),
        Block(20, 25, "heading", ("Notes",)),
        Block(27, 39, "paragraph", ("Notes",)),
    ]
    chunks = chunk_document("a.md", text, size=700, overlap=0, blocks=blocks)
    assert [c.text for c in chunks] == ["Notes\n\nFirst note.", "Notes\n\nSecond note."]


def test_no_chunk_is_only_the_overlap_of_the_one_before() -> None:
    """When the unit after the overlap does not fit beside it, the overlap alone was a chunk
    of its own: 141 such chunks over Python's documentation, each a copy of a sentence the
    chunk before holds ("There are various techniques.")."""
    short, long = Unit(0, 10, "text"), Unit(11, 40, "text")
    units = [Unit(0, 10, "text"), Unit(11, 18, "text"), Unit(19, 45, "text")]
    assert pack_units(units, 30, 10) == [units[0:2], units[2:3]]  # not [1:2] between them
    assert pack_units([short, long], 30, 10) == [[short], [long]]
    # Before a sentence that introduces code: the overlap neither stands alone nor joins it.
    intro, code = Unit(19, 25, "text", opens=True), Unit(26, 50, "code")
    units = [Unit(0, 10, "text"), Unit(11, 18, "text"), intro, code]
    assert pack_units(units, 20, 8) == [units[0:2], units[2:4]]


def test_a_heading_goes_with_the_sentence_that_introduces_code_after_it() -> None:
    """ "Examples" then "Run this:" and its code: the chunk ended before the sentence, so the
    heading was a chunk alone (138 over Python's documentation). A section's units start with
    its heading (each section is packed apart)."""
    heading, intro = Unit(0, 8, "heading"), Unit(9, 19, "text", opens=True)
    code = Unit(20, 50, "code")
    assert pack_units([heading, intro, code], 25, 0) == [[heading, intro, code]]
    assert pack_units([heading, intro, code], 25, 10) == [[heading, intro, code]]
    # A sentence between them still ends its chunk before the introducing one.
    text = Unit(9, 15, "text")
    intro = Unit(16, 22, "text", opens=True)
    units = [heading, text, intro, Unit(23, 50, "code")]
    assert pack_units(units, 25, 0) == [units[0:2], units[2:4]]
