"""Regions cut at page boundaries in one walk (rag/chunking.py ``_cut_at_pages``): the same
pieces, each with the same page, as comparing every region with every page (the definition,
kept here), which took 2.8 s in ``chunk_document`` for a 3,000-page PDF with an outline."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunking import Region, _cut_at_pages

Pages = list[tuple[int, int, int]]


def every_pair(regions: Sequence[Region], pages: Pages) -> list[Region]:
    """Every region against every page; a piece's page is the first page that holds its start."""
    out = []
    for region in regions:
        for s, e, _ in pages:
            start, end = max(region.start, s), min(region.end, e)
            if end > start:
                number = next(n for s2, e2, n in pages if s2 <= start < e2)
                out.append(Region(start, end, region.kind, region.path, number))
    return out


@st.composite
def layout(draw: st.DrawFn) -> tuple[list[Region], Pages]:
    """Pages in document order with gaps ("\\n\\n") and empty pages (a page a sentence filled),
    and regions in order inside the text, some across page breaks."""
    pages: Pages = []
    at = 0
    for number in range(1, draw(st.integers(1, 12)) + 1):
        at += draw(st.sampled_from([0, 0, 1, 2]))
        length = draw(st.sampled_from([0, 1, 5, 30]))
        pages.append((at, at + length, number))
        at += length
    cuts = sorted(draw(st.lists(st.integers(0, at + 3), max_size=16)))
    regions = [
        Region(a, b, "paragraph", (f"s{i}",))
        for i, (a, b) in enumerate(itertools.pairwise(cuts))
        if b > a
    ][::2]
    return regions, pages


@settings(max_examples=400, deadline=None)
@given(layout())
def test_one_walk_cuts_as_every_pair_does(case: tuple[list[Region], Pages]) -> None:
    regions, pages = case
    assert _cut_at_pages(regions, pages) == every_pair(regions, pages)


def test_a_region_over_three_pages_and_an_empty_one() -> None:
    pages = [(0, 10, 1), (12, 20, 2), (20, 20, 3), (22, 30, 4)]
    regions = [Region(5, 25, "paragraph"), Region(26, 28, "code")]
    assert [(r.start, r.end, r.kind, r.page) for r in _cut_at_pages(regions, pages)] == [
        (5, 10, "paragraph", 1),
        (12, 20, "paragraph", 2),
        (22, 25, "paragraph", 4),
        (26, 28, "code", 4),
    ]


def test_thousands_of_pages_are_walked_once() -> None:
    """3,000 pages and a region each: far fewer comparisons than the 9 million pairs."""
    pages = [(i * 10, i * 10 + 8, i + 1) for i in range(3000)]
    regions = [Region(i * 10 + 1, i * 10 + 7, "paragraph") for i in range(3000)]

    class Counted(Sequence[tuple[int, int, int]]):
        """The pages, counting each read (iterating them reads each one too)."""

        reads = 0

        def __len__(self) -> int:
            return len(pages)

        def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
            Counted.reads += 1
            return pages[index]

    cut = _cut_at_pages(regions, Counted())
    assert [r.page for r in cut] == list(range(1, 3001))
    assert Counted.reads < 20 * len(pages)
