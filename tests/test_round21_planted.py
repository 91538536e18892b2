"""Round 21's two changes at their edges: the retrieval's skipping of a passage that repeats a
better-ranked kept one (rag/retrieval.py: ``sentences_of``, ``repeats``, ``Retriever._distinct``)
and the HTML loader's note labels and XML declaration (rag/loaders/html.py: ``_admonition_label``,
``_ADMONITIONS``, ``_XML_DECLARATION``).

Tests written for deliberate bugs a review planted one at a time that the suite let through:

- ``sentences_of`` comparing sentences without collapsing the white space inside them (as
  written, or only stripped at their ends): a copy whose sentences hold a tab, two spaces or a
  no-break space took a second place;
- ``sentences_of`` folding case (documented: only white space is normalised), or reading a
  chunk's sentence spans as offsets in its file instead of in its text (every chunk after a
  file's first then said nothing but "");
- ``repeats`` rounding the share's threshold (``round(0.8 * n)``): two sentences of three were a
  repeat; comparing with the first kept passage only, or the last only;
- ``Retriever._distinct`` remembering the sentences of the passages it skipped (a passage that
  repeats only a skipped one was skipped too), stepping ``k + 1`` from batch to batch (the
  candidate right after the first batch was never read), and ``search`` skipping repeats in
  hybrid retrieval but not in dense;
- ``_admonition_label`` without ``tip``, ``important``, ``caution`` or ``danger`` in
  ``_ADMONITIONS`` (the suite's page has "Note" and "Warning:" only), without the white space of
  AsciiDoc's own markup collapsed, with its node limit off by one or dropped, or stripping
  colons at both ends (":Note:", a reST field's name, was a label);
- ``_XML_DECLARATION`` without ``\\A``: an instruction left in a listing went with the line
  break before it.

And two defects the probe found (not planted), each test failing on the code before:

- a follow-up's fusion of its two searches read a page and a page that includes it when each
  search had kept one of them (``search_follow_up`` now skips repeats in the fused order);
- a label whose colon follows its word's tag (``<b>Note</b>:``) read "note :" and framed
  nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.config import Mode, Settings
from rag.lexical import LexicalIndex
from rag.loaders.html import load_html
from rag.retrieval import Retriever, repeats, sentences_of
from rag.store import VectorStore
from tests.test_mutation_holes import PALLET, QUOKKA, TableEmbedder, retriever
from tests.test_retrieval_repeats import STASH, chunk

# ------------------------------------------------------------------------------- the sentences


def test_the_white_space_inside_a_sentence_is_collapsed_too() -> None:
    # A tab, two spaces, a no-break space (an HTML page's &nbsp;): the same five sentences.
    spaced = STASH.replace("git stash when", "git\u00a0stash  when").replace(
        "saves your", "saves\tyour"
    )
    assert len(sentences_of(chunk(spaced))) == 5
    assert sentences_of(chunk(spaced)) == sentences_of(chunk(STASH))
    assert repeats(sentences_of(chunk(spaced)), [sentences_of(chunk(STASH))])


def test_sentences_keep_their_case() -> None:
    # C's page and JavaScript's: not the same sentence, though they differ only in case.
    c_page = "Returns NULL when the key is missing."
    js_page = "Returns null when the key is missing."
    assert sentences_of(chunk(c_page)) == {c_page}
    assert not repeats(sentences_of(chunk(js_page)), [sentences_of(chunk(c_page))])


def test_a_chunks_sentence_spans_are_offsets_in_its_own_text() -> None:
    # A file's second chunk starts past its first: its spans still count from its own text.
    later = chunk(STASH, start=700)
    assert later.start == 700 and later.sentences == chunk(STASH).sentences
    assert sentences_of(later) == sentences_of(chunk(STASH))
    assert "Use git stash when you want to record the current state of the working directory." in (
        sentences_of(later)
    )


@pytest.mark.parametrize("n", range(1, 11))
def test_a_passage_repeats_from_four_fifths_of_its_sentences_on(n: int) -> None:
    """Every share of a passage of 1 to 10 sentences: a repeat from 0.8 on (4 * n <= 5 *
    shared, in integers), whatever the kept passage holds besides."""
    said = {f"s{i}" for i in range(n)}
    for shared in range(n + 1):
        other = {f"s{i}" for i in range(shared)} | {"another", "and another"}
        assert repeats(said, [other]) is (5 * shared >= 4 * n), (n, shared)


# ------------------------------------------------------------------ through Retriever.search
#
# A real Chroma collection and BM25 index in tmp_path; the query vector comes from
# tests/test_mutation_holes.py's table (PALLET: (1, 0, 0)), and each page's vector turns away
# from it a little more than the one before, so the dense ranking is the order written. No page
# holds the query's words: BM25 finds none, and hybrid retrieval fuses the dense ranking alone.


def topic(name: str, n: int = 5) -> list[str]:
    """``n`` sentences of their own about ``name``."""
    return [f"The {name} page says its {word} thing here." for word in WORDS[:n]]


WORDS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"]
A, B, C, D = topic("alpha"), topic("bravo"), topic("charlie"), topic("delta")


@contextmanager
def library(tmp_path: Path, pages: dict[str, list[str]], k: int) -> Iterator[Retriever]:
    """A retriever over ``pages`` (id: sentences), ranked for PALLET as written (QUOKKA's
    query, (0, 1, 0), ranks them the other way round)."""
    settings = Settings(
        docs_dir=tmp_path / "docs", store_dir=tmp_path / "store", k=k, candidates=len(pages)
    )
    store = VectorStore(settings)
    store.set_embedding(TableEmbedder.id)
    chunks = [
        replace(chunk(" ".join(sentences)), id=cid, source=f"{cid}.txt")
        for cid, sentences in pages.items()
    ]
    angles = 0.1 * np.arange(len(chunks))
    vectors = np.stack([np.cos(angles), np.sin(angles), np.zeros(len(chunks))], axis=1)
    store.add(chunks, vectors.astype(np.float32), [c.id for c in chunks])
    lexical = LexicalIndex(tmp_path / "store" / "bm25")
    lexical.build((c.id, c.text) for c in chunks)
    try:
        yield retriever((settings, store, lexical))
    finally:
        store.close()


def retrieve(
    tmp_path: Path, pages: dict[str, list[str]], k: int, mode: Mode = "hybrid"
) -> list[str]:
    """The ids ``Retriever.search`` returns over ``pages`` for PALLET."""
    with library(tmp_path, pages, k) as found:
        return [p.chunk.id for p in found.search(PALLET, k, mode=mode)]


def test_the_candidate_right_after_the_first_batch_takes_the_copys_place(tmp_path: Path) -> None:
    # k=2: the first batch is a and its copy; the next candidate read is b, not c after it.
    pages = {"a": A, "a-copy": A, "b": B, "c": C}
    assert retrieve(tmp_path, pages, k=2) == ["a", "b"]


def test_a_copy_of_any_kept_passage_is_skipped_not_only_of_the_first_or_last(
    tmp_path: Path,
) -> None:
    # b's copy repeats the second kept passage, a's copy the first one (b kept after it).
    pages = {"a": A, "b": B, "b-copy": B, "a-copy": A, "c": C, "d": D}
    assert retrieve(tmp_path, pages, k=3) == ["a", "b", "c"]


def test_a_passage_that_repeats_only_a_skipped_one_is_read(tmp_path: Path) -> None:
    # a-near holds four of a's five sentences: skipped. c-near holds three of a's (not a repeat
    # of a) and four of a-near's: a-near was not kept, so c-near is read.
    a_near = [*A[:4], "Another page ends differently here."]
    c_near = [*A[1:4], "Another page ends differently here.", "And it adds a sentence."]
    assert len(set(c_near) & set(A)) == 3 and len(set(c_near) & set(a_near)) == 4
    pages = {"a": A, "b": B, "a-near": a_near, "c-near": c_near, "d": D}
    assert retrieve(tmp_path, pages, k=3) == ["a", "b", "c-near"]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_every_mode_skips_a_copy(tmp_path: Path, mode: Mode) -> None:
    pages = {"a": A, "a-copy": A, "b": B}
    assert retrieve(tmp_path, pages, k=2, mode=mode) == ["a", "b"]


def test_the_pages_are_ranked_as_written(tmp_path: Path) -> None:
    # Without copies, the order written (the helper's premise).
    pages = {"a": A, "b": B, "c": C, "d": D}
    assert retrieve(tmp_path, pages, k=4) == ["a", "b", "c", "d"]


def test_no_passage_asked_for_is_none_returned(tmp_path: Path) -> None:
    """``search(q, 0)`` returned [] before repeats were skipped in batches of k, then raised
    (range() with a step of 0)."""
    with library(tmp_path, {"a": A, "b": B}, k=1) as found:
        assert found.search(PALLET, 0) == []


def test_a_follow_up_reads_no_passage_twice(tmp_path: Path) -> None:
    """A follow-up fuses two searches (the merged query's and its own words'); each skipped
    the other's pick: the page for one, a page that includes it (five of its six sentences
    the page's) for the other, and both were read. Fused, the included one is a repeat."""
    near = [*A, "The including page adds a sentence of its own."]
    pages = {"page": A, "x": B, "y": C, "page-near": near}
    with library(tmp_path, pages, k=2) as found:
        assert [p.chunk.id for p in found.search(PALLET, 2)] == ["page", "x"]
        assert [p.chunk.id for p in found.search(QUOKKA, 2)] == ["page-near", "y"]
        follow_up = found.search_follow_up(QUOKKA, PALLET, 2)
    assert [p.chunk.id for p in follow_up] == ["page", "x"]


# ------------------------------------------------------------------------------ note labels

# An AsciiDoc admonition block as asciidoc and Asciidoctor write it (git's manual pages): each
# tag on a line of its own, so the label's cell holds line breaks around its title.
NOTE = """<html><body><div id="content"><div class="sect1"><h2>DESCRIPTION</h2>
<div class="admonitionblock">
<table><tr>
{label}
<td class="content">Stash your changes before you switch branches.</td>
</tr></table>
</div>
</div></div></body></html>"""
LABEL = '<td class="icon">\n<div class="title">{word}</div>\n</td>'


def blocks(label: str) -> list[tuple[str, str]]:
    document = load_html(NOTE.format(label=label))
    return [(b.kind, document.text[b.start : b.end]) for b in document.blocks]


def read_as_a_note(word: str) -> list[tuple[str, str]]:
    return [
        ("heading", "DESCRIPTION"),
        ("paragraph", word),
        ("paragraph", "Stash your changes before you switch branches."),
    ]


def read_as_a_table(label: str) -> list[tuple[str, str]]:
    return [
        ("heading", "DESCRIPTION"),
        ("table", f"{label} | Stash your changes before you switch branches."),
    ]


@pytest.mark.parametrize(
    "word",
    # AsciiDoc's five, then reStructuredText's other admonitions.
    ["Note", "Tip", "Important", "Warning", "Caution", "Hint", "Attention", "Danger"],
)
def test_each_admonitions_label_frames_its_note(word: str) -> None:
    assert blocks(LABEL.format(word=word)) == read_as_a_note(word)
    assert blocks(LABEL.format(word=word.upper() + ":")) == read_as_a_note(word.upper() + ":")


@pytest.mark.parametrize("word", ["Notebook", "Tips", "Dangerous", ":Note:"])
def test_a_word_that_only_starts_like_a_label_is_data(word: str) -> None:
    # A one-row table whose first cell is another word (or a reST field's name, ":note:"):
    # a row of data, as the suite's "Name | The branch to reset." is.
    assert blocks(f"<td>{word}</td>") == read_as_a_table(word)


def test_a_label_is_at_most_five_nodes_of_its_cell() -> None:
    # An anchor and a title with their line breaks: five nodes, a label.
    five = '<td class="icon">\n<a id="n1"></a>\n<div class="title">Note</div>\n</td>'
    assert blocks(five) == read_as_a_note("Note")
    # With an icon too (no text): six, more than a word in a tag or two.
    six = '<td class="icon"><a id="n1"></a>\n<img alt="">\n<div class="title">Note</div>\n</td>'
    assert blocks(six) == read_as_a_table("Note")


def test_a_label_whose_colon_is_outside_its_bold_word_frames_its_note() -> None:
    # The cell's words were read with a space between elements ("Note :"), so the colon
    # after </b> was not stripped: a row of data, "Note: | Stash ...". Framed, the two cells
    # are lines of a paragraph, as the suite's "Warning:" row is.
    for label, shown in (("<b>Note</b>:", "Note:"), ("<strong>Warning</strong> :", "Warning :")):
        assert blocks(f"<td>{label}</td>") == [
            ("heading", "DESCRIPTION"),
            ("paragraph", f"{shown}\nStash your changes before you switch branches."),
        ]


# --------------------------------------------------------------------------- XML declaration


def test_only_a_leading_declaration_goes_a_listing_keeps_its_lines() -> None:
    # An instruction left unescaped in a listing (a browser hides it, as lxml does) is no
    # declaration of the page: the line break before it stays, the listing's lines with it.
    page = (
        "<html><body><h1>config.xml</h1>"
        '<pre>$ cat config.xml\n<?xml version="1.0"?>\n&lt;config/&gt;</pre></body></html>'
    )
    document = load_html(page)
    assert [(b.kind, document.text[b.start : b.end]) for b in document.blocks] == [
        ("heading", "config.xml"),
        ("code", "$ cat config.xml\n\n<config/>"),
    ]
