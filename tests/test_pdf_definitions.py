"""Texinfo's definition lines head their entries in a PDF (rag/loaders/pdf_headings.py
``definition_heads``): "[Function]void sha256_init (struct sha256 ctx *ctx )" is a heading one
level below its section, named "Function: sha256_init", and the description under it is in
that entry. Before, the line was a sentence of the section's text: an answer from the
description ("Check that the version of the library is at minimum the requested one") never
named the function it describes (libtasn1's manual, the pdf validation set's pd-09 and pd-10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answering import section_label
from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.loaders.pdf_headings import definition_heads
from tests.test_pdf_size_headings import BODY, make


def test_a_definition_line_heads_its_entry_below_the_section() -> None:
    pages = [
        [
            "7.1 Hash functions",
            "[Context struct]struct sha256_ctx",
            "[Constant]SHA256_DIGEST_SIZE",
            "The size of a SHA256 digest, i.e. 32.",
            "[Function]void sha256_digest (struct sha256 ctx *ctx , size t length ,",
            "uint8 t *digest )",
            "Performs final processing and extracts the message digest.",
        ],
        ["It also resets the state.", "7.2 Ciphers", "[Macro]AES_BLOCK_SIZE"],
    ]
    section = ("Nettle", "7.1 Hash functions")
    heads = [{0: (1, section)}, {1: (1, ("Nettle", "7.2 Ciphers"))}]
    assert definition_heads(pages, heads) == [
        {
            0: (1, section),
            1: (1, (*section, "Context struct: sha256_ctx")),
            2: (1, (*section, "Constant: SHA256_DIGEST_SIZE")),
            4: (2, (*section, "Function: sha256_digest")),  # the signature's two lines
        },
        {
            1: (1, ("Nettle", "7.2 Ciphers")),
            2: (1, ("Nettle", "7.2 Ciphers", "Macro: AES_BLOCK_SIZE")),
        },
    ]


def test_only_a_bracketed_category_glued_to_a_definition_is_one() -> None:
    lines = [
        "[1] Smith, Applied Cryptography.",  # a reference: no category
        "[Function] ",  # nothing defined
        "See [Function]void f (int x) in the index.",  # not at the line's start
        "[note]x",  # not a category: lower case
        "[Deprecated function]int old_hash (void)",
    ]
    assert definition_heads([lines], [{}]) == [{4: (1, ("Deprecated function: old_hash",))}]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("[Context struct]struct sha256_ctx", "Context struct: sha256_ctx"),
        ("[Constant Struct]struct nettle_hash nettle_sha256", "Constant Struct: nettle_sha256"),
        ("[Context struct]rsa_public_key size n e", "Context struct: rsa_public_key"),
        ("[Variable]const char * program_name", "Variable: program_name"),
        ("[Variable]size_t buffer_size", "Variable: buffer_size"),
        ("[Command]find-file filename", "Command: find-file"),
        ("[Scheme Procedure]string-append arg . . .", "Scheme Procedure: string-append"),
        ("[Macro]AES_BLOCK_SIZE", "Macro: AES_BLOCK_SIZE"),
    ],
)
def test_a_definition_without_parameters_is_named_by_what_it_defines(line: str, name: str) -> None:
    """After a C type, the name is the last word; otherwise (Lisp, Scheme, a command, an
    option: the name, then its arguments) the first. Nettle's "rsa_public_key size n e" (a
    struct and its members) was named by its last member, "e"."""
    assert definition_heads([[line]], [{}]) == [{0: (1, (name,))}]


def test_a_cross_reference_wrapped_to_a_lines_start_is_no_definition() -> None:
    """Nettle: "(see Section 7.8 [Randomness], page 90. Returns one ...": the layout wrapped the
    reference so that a line starts with "[Randomness]", and the body text after it was taken
    for a definition, a heading (three lines of the manual)."""
    lines = ["Signing needs a random generator (see Section 7.8", "[Randomness], page 90. It fails"]
    assert definition_heads([lines], [{}]) == [{}]


def test_a_signature_never_takes_the_next_heading_nor_more_than_three_lines() -> None:
    unclosed = ["[Function]int f (int a,", "int b,", "int c,", "int d)", "Returns a."]
    assert definition_heads([unclosed], [{}]) == [{0: (3, ("Function: f",))}]
    before_heading = ["[Function]int g (int a,", "2 Next chapter"]
    heads = {1: (1, ("2 Next chapter",))}
    assert definition_heads([before_heading], [heads]) == [
        {0: (1, ("Function: g",)), 1: (1, ("2 Next chapter",))}
    ]


def test_an_answer_from_a_definitions_description_is_led_by_its_name(tmp_path: Path) -> None:
    make(
        tmp_path / "lib.pdf",
        [
            [
                (16, "3 Versions"),
                (BODY, "The library checks its own version."),
                (BODY, "[Function]const char * lib_check_version (const char * req_version)"),
                (BODY, "Check that the version of the library is at minimum the requested one."),
                (BODY, "[Constant]LIB_VERSION_NUMBER"),
                (BODY, "The version of the headers, as a number."),
            ]
        ],
    )
    document = load_document(tmp_path / "lib.pdf")
    chunks = chunk_document(
        "lib.pdf", document.text, size=700, overlap=0, pages=document.pages, blocks=document.blocks
    )
    labels = {section_label(c): c.text for c in chunks}
    check = labels["Function: lib_check_version"]
    assert check.startswith("[Function]const char * lib_check_version (")
    assert check.endswith("Check that the version of the library is at minimum the requested one.")
    constant = labels["Constant: LIB_VERSION_NUMBER"]
    assert constant.endswith("The version of the headers, as a number.")
    assert chunks[0].text == "3 Versions\n\nThe library checks its own version."
    assert len(chunks) == 3  # the section's lead, then one chunk per entry
