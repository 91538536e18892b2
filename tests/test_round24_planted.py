r"""Round 24's planted bugs that the other tests let through, each seen failing on its mutant.

rag/loaders/pdf_headings.py ``definition_heads`` and ``_defined``, and its call in
rag/loaders/pdf.py (lines, and real PDFs made with fpdf2 read by pypdf):

- ``_DEFINITION``'s category with ``{0,1}`` more words for ``{0,2}``, or its later words lower
  case only (``[a-z]+``): "[Obsolete library function]", "[Library Function]" were prose;
  ``(.*)`` for ``(\S.*)``: "[Note] Call lib_init (ctx) once." became a heading; the line not
  stripped: " [Constant]LIB_MAX_SIZE" was missed; ``if not found`` without ``or not name``:
  "[Figure]12" headed "Figure: ".
- ``_DEFINED`` with ``\s+\(`` (a name glued to its parameters, "lib_f(int x)", was named
  "x"), or ``\w*`` (a qualified name "Stream::write" was "write"); ``_LAST_WORD`` without
  ``\W*`` ("int lib_errno;" defined nothing).
- the wrapped signature's ``i + count < len(lines)`` dropped: an unclosed signature on its
  page's last line raised IndexError; ``i += 1`` for ``i += count`` after a definition, and for
  ``i += max(count, 1)`` after a heading: a line a heading covers headed a definition too.
- the section reset on each page: a definition at a page's top lost the section it is in;
  ``definition_heads`` called only without an outline, or given the pages' lines before their
  running heads were left out (each definition heading then one line off).

rag/lexical.py ``holds_an_ending`` and rag/entities.py ``_known_identifier`` (a real
LexicalIndex in tmp_path):

- ``bisect_right`` for ``bisect_left``, the backwards terms ``term[:0:-1]`` (one letter short),
  or kept only with an underscore past their first letter: an ending that is a whole indexed
  term ("_set_nonc" of "UMAC<N>_set_nonce", "_flag" of "CMAKE_<LANG>_FLAGS") was not held;
  ``at <= len(backwards)``: an ending sorting after every term raised IndexError; the backwards
  terms not sorted: the binary search missed most.
- ``"_" + stem`` without ``lstrip("_")``: "_set_key" was unknown beside "umac32_set_key";
  ``"_" in stem`` for ``"_" in stem.strip("_")``, or the condition dropped: a camelCase name
  ("readFile_", "setNonce") was known from the end of "fs_readFile_", "lib_setNonce".

ui/handlers.py and ui/app.py, the question box written only when the question is taken (the
real create_app, its wired ``ask``):

- ``question or ""`` back in the ``ChatUpdate`` of an unconfigured backend or of a question
  asked before any document is indexed; ``question=""`` in the update that ends an answer with
  a RagError, another error, or a stream that stopped: each wiped a question typed meanwhile.

A defect found, mended after the probe: ``_defined`` named a definition without parameters
by its last word, cut at a hyphen: "[User Option]fill-column" was "User Option: column", and
"[Function]mapcar function sequence" (a Lisp manual's @defun) "Function: sequence"; the two
tests below were strict xfails until then.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

import rag
from rag import Settings
from rag.entities import unknown_names
from rag.lexical import LexicalIndex
from rag.loaders.pdf_headings import Heads, definition_heads
from rag.text import terms
from tests.test_pdf_size_headings import BODY, blocks, make
from tests.test_ui import SERBIA, ask_all
from ui import render
from ui.app import create_app
from ui.handlers import GENERIC_ERROR, ChatSession
from ui.indexing import READING, IndexTracker

# PDF: Texinfo's definition lines (rag/loaders/pdf_headings.py, rag/loaders/pdf.py) ------------


def test_a_category_is_up_to_three_words_its_later_words_in_either_case() -> None:
    """Texinfo writes "@deftypefn {Library Function}" and "{Obsolete library function}"."""
    lines = [
        "[Library Function]int lib_init (void)",
        "[Obsolete library function]int lib_old (void)",
        "[Very old library function]int lib_older (void)",  # four words: not a category
    ]
    assert definition_heads([lines], [{}]) == [
        {
            0: (1, ("Library Function: lib_init",)),
            1: (1, ("Obsolete library function: lib_old",)),
        }
    ]


def test_what_a_definition_line_is() -> None:
    lines = [
        "[Note] Call lib_init (ctx) once.",  # a space after the bracket: prose, not a definition
        "  [Constant]LIB_MAX_SIZE",  # pypdf's leading space
        "[Figure]12",  # a category defining no name
        "The end.",
    ]
    assert definition_heads([lines], [{}]) == [{1: (1, ("Constant: LIB_MAX_SIZE",))}]


def test_the_name_a_definition_defines() -> None:
    lines = [
        "[Function]int lib_f(int x)",  # no space before the parameters
        "[Method]void Stream::write (const char *data)",  # a qualified name
        "[Variable]int lib_errno;",  # punctuation after the last word
    ]
    assert definition_heads([lines], [{}]) == [
        {
            0: (1, ("Function: lib_f",)),
            1: (1, ("Method: Stream::write",)),
            2: (1, ("Variable: lib_errno",)),
        }
    ]


def test_a_signature_on_its_pages_last_line_takes_that_line_only() -> None:
    lines = ["The functions.", "[Function]int lib_f (int a,"]
    assert definition_heads([lines], [{}]) == [{1: (1, ("Function: lib_f",))}]


def test_a_line_a_heading_covers_never_heads_a_definition_of_its_own() -> None:
    """A wrapped heading's lines, and the lines a wrapped signature took, are that heading's."""
    wrapped = ["Chapter", "[Constant]LIB_MAX", "Text."]
    heads: Heads = {0: (2, ("Chapter [Constant]LIB_MAX",))}
    assert definition_heads([wrapped], [heads]) == [heads]
    signature = ["[Function]int lib_g (int a,", "[Constant]B (x,", "int y)", "Text."]
    assert definition_heads([signature], [{}]) == [{0: (3, ("Function: lib_g",))}]


def test_a_definition_at_a_pages_top_is_in_the_section_of_the_page_before(tmp_path: Path) -> None:
    """In a PDF with an outline, too: the definition is one level below the section that
    started on the page before."""
    make(
        tmp_path / "lib.pdf",
        [
            [(16, "3 Versions"), (BODY, "The library checks its own version.")],
            [
                (BODY, "[Function]const char * lib_check_version (const char * req)"),
                (BODY, "Check that the version of the library is at minimum the requested one."),
            ],
        ],
        outline=True,
    )
    assert blocks(tmp_path / "lib.pdf") == [
        ("heading", ("3 Versions",), "3 Versions"),
        ("paragraph", ("3 Versions",), "The library checks its own version."),
        (
            "heading",
            ("3 Versions", "Function: lib_check_version"),
            "[Function]const char * lib_check_version (const char * req)",
        ),
        (
            "paragraph",
            ("3 Versions", "Function: lib_check_version"),
            "Check that the version of the library is at minimum the requested one.",
        ),
    ]


def test_definition_lines_are_found_on_pages_without_their_running_heads(tmp_path: Path) -> None:
    """The line numbers of the definitions are those of the page's lines once its running head
    is left out, as the other headings' are."""
    names = ["open", "read", "seek", "write", "flush", "close"]
    pages: list[list[tuple[float, str]]] = [
        [
            (BODY, "Lib Manual"),
            (BODY, f"[Function]int lib_{name} (int fd)"),
            (BODY, f"Does what {name} says to the file descriptor it is given, or fails."),
        ]
        for name in names
    ]
    make(tmp_path / "lib.pdf", pages)
    found = blocks(tmp_path / "lib.pdf")
    assert [text for kind, _, text in found if kind == "heading"] == [
        f"[Function]int lib_{name} (int fd)" for name in names
    ]
    assert ("heading", ("Function: lib_close",), "[Function]int lib_close (int fd)") in found


# A defect the probe found in rag/loaders/pdf_headings.py ``_defined`` (mended since).


def test_a_hyphenated_name_is_named_whole() -> None:
    """Lisp, Scheme and command names hold hyphens (Emacs's "@defopt fill-column", Guile's
    "string-append"): ``_LAST_WORD`` takes only the part after the last hyphen."""
    assert definition_heads([["[User Option]fill-column"]], [{}]) == [
        {0: (1, ("User Option: fill-column",))}
    ]


def test_a_lisp_definition_is_named_by_its_first_word() -> None:
    """A Lisp or Scheme definition line has no parentheses ("[Function]mapcar function
    sequence", the Emacs Lisp manual's @defun): its name is the first word, but ``_defined``
    takes the last, an argument ("Function: sequence"), and an answer from its description is
    then led by that argument's name."""
    assert definition_heads([["[Function]mapcar function sequence"]], [{}]) == [
        {0: (1, ("Function: mapcar",))}
    ]


# Names: an identifier known as the end of longer ones (rag/lexical.py, rag/entities.py) ------


def index_of(tmp_path: Path, *texts: str) -> LexicalIndex:
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build([(f"c-{n}", text) for n, text in enumerate(texts)])
    return lexical


def test_an_ending_the_documents_index_as_a_whole_term_is_held(tmp_path: Path) -> None:
    """A placeholder form, "UMAC<N>_set_nonce", is indexed as "umac", "n", "_set_nonc": the
    ending asked for is then a whole term (the first of the backwards terms it starts)."""
    lexical = index_of(tmp_path, "Call UMAC<N>_set_nonce before each message.")
    assert lexical.holds_an_ending("_set_nonc") and lexical.holds_an_ending("_nonc")
    assert unknown_names("Must I call set_nonce first?", lexical) == []


def test_an_ending_sorting_after_every_indexed_one_is_not_held(tmp_path: Path) -> None:
    lexical = index_of(tmp_path, "umac32_set_nonce sets the nonce.")
    assert not lexical.holds_an_ending("_zzz")
    assert unknown_names("Is xyz_zzz set?", lexical) == ["xyz_zzz"]


def test_an_identifier_written_with_a_leading_underscore_is_known_by_its_end(
    tmp_path: Path,
) -> None:
    lexical = index_of(tmp_path, "umac32_set_key sets the key.")
    assert unknown_names("What does _set_key do?", lexical) == []


def test_a_camel_case_identifier_is_never_known_by_an_ending(tmp_path: Path) -> None:
    """Only an identifier with an underscore inside it is looked up as an end ("set_nonce"):
    "setNonce" (or "readFile_") is not known from "lib_setNonce" ("fs_readFile_"). This pins
    the current choice; the review that planted the bug could not tell it was intended."""
    lexical = index_of(tmp_path, "Call lib_setNonce first, then fs_readFile_.")
    assert unknown_names("What does setNonce do?", lexical) == ["setNonce"]
    assert unknown_names("What does readFile_ do?", lexical) == ["readFile_"]


def test_every_indexed_identifiers_ends_are_held(tmp_path: Path) -> None:
    """Whatever order the documents write them in (the look-up is a binary search), and an
    indexed term that begins with its underscore ("_flag" of "CMAKE_<LANG>_FLAGS") too."""
    text = (
        "Call zeta_set_nonce, then yarrow_update, xts_encrypt, umac32_digest, sha256_init, "
        "poly1305_aes_digest, gcm_set_iv, des_fix_parity, chacha_crypt, base64_encode_raw, "
        "aes128_set_encrypt_key and arcfour_set_key; set CMAKE_<LANG>_FLAGS."
    )
    lexical = index_of(tmp_path, text)
    identifiers = [term for term in terms(text) if "_" in term.strip("_")]
    assert len(identifiers) == 12
    for term in identifiers:
        assert lexical.holds_an_ending(term[term.index("_") :]), term
        assert lexical.holds_an_ending(term[term.rindex("_") :]), term
    assert lexical.holds_an_ending("_flag")


# UI: only taking a question writes the question box (ui/handlers.py, ui/app.py) ---------------


def boxes(updates: list[Any]) -> list[Any]:
    """What each update writes into the question box (gr.skip(): left as it is)."""
    return [update[3] for update in updates]


def test_a_question_never_taken_leaves_the_box_alone(settings: Settings) -> None:
    """A backend the server lacks, or no document indexed yet: the question is not taken, and
    the box keeps what it holds (a question typed meanwhile too)."""
    updates = ask_all(create_app(settings), SERBIA, ChatSession(), backend="openai")
    assert "backend is not configured" in updates[-1][4]
    assert boxes(updates) == [gr.skip()]
    tracker = IndexTracker(settings)
    tracker._update(running=True, files_total=1, phase=READING)  # a first sync reading
    updates = ask_all(create_app(settings, tracker), SERBIA, ChatSession())
    assert "no document is indexed yet" in updates[-1][4]
    assert boxes(updates) == [gr.skip()]


def test_an_answer_that_fails_writes_the_box_only_when_taking_the_question(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question is taken (the box emptied) at once; the error that ends the answer then
    leaves the box alone: a question typed while it came is kept for Enter."""
    missing = Settings(docs_dir=tmp_path / "missing", store_dir=tmp_path / "store")
    updates = ask_all(create_app(missing), SERBIA, ChatSession())  # a RagError
    assert "does not exist" in updates[-1][0][-1]["content"]
    assert boxes(updates) == ["", gr.skip()]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(rag, "stream_answer", broken)
    updates = ask_all(create_app(settings), SERBIA, ChatSession())
    assert updates[-1][0][-1]["content"] == render.notice(GENERIC_ERROR, "error")
    assert boxes(updates) == ["", gr.skip()]

    def stops(*args: object, **kwargs: object) -> Iterator[str]:
        yield "The president"  # and no answer after it

    monkeypatch.setattr(rag, "stream_answer", stops)
    updates = ask_all(create_app(settings), SERBIA, ChatSession())
    assert "stopped before it was complete" in updates[-1][0][-1]["content"]
    assert boxes(updates) == ["", gr.skip()]
