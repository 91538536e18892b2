"""A PDF's accents set as glyphs of their own are joined to their letters (rag/loaders/pdf.py).

TeX draws "ö" as a spacing diaeresis before an "o", and pypdf writes it so: Nettle's manual
credits "Niels M¨oller" and "Micha¨el". A real file made with fpdf2 in DejaVu Sans (matplotlib
ships it), which writes the spacing accents as TeX's PDFs hold them; read back by pypdf."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loaders import load_document
from rag.loaders.pdf import accented
from tests.test_pdf_ligatures import make


def test_accents_set_before_their_letters_are_joined_to_them(tmp_path: Path) -> None:
    make(tmp_path / "a.pdf", "Written by Niels M¨oller and Micha¨el, a na¨ıve r´esum´e of ˇcesky.")
    assert load_document(tmp_path / "a.pdf").text == (
        "Written by Niels Möller and Michaël, a naïve résumé of česky."
    )


@pytest.mark.parametrize(
    ("line", "read"),
    [
        ("M¨oller", "Möller"),
        ("se˜nor", "señor"),
        ("Dvoˇr´ak", "Dvořák"),
        ("ˆetre", "être"),
        ("´Ecole, ¨Ubung", "École, Übung"),
        ("˚angstr¨om", "ångström"),
        # ASCII's "^", "~" and "`" are code as often as accents: left as written.
        ("x^y ~a `b", "x^y ~a `b"),
        # An accent before no letter, or before one Unicode has no accented form of.
        ("a ¨ b", "a ¨ b"),
        ("¨", "¨"),
        ("˝q", "˝q"),
        ("x¨", "x¨"),
    ],
)
def test_accented(line: str, read: str) -> None:
    assert accented(line) == read
