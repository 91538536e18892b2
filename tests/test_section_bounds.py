"""A chunk's section path is bounded (rag/chunking.py ``section_path``).

The path is stored, embedded and BM25-indexed with each chunk of its section: one <h1> of
100,000 characters over 300 <h2> sections made 442 chunks that each carried it, 44 MB of paths
from a 100 KB page. A heading past ``MAX_HEADING_CHARS`` is cut after a whole word; of a path
deeper than ``MAX_SECTION_DEPTH``, the innermost headings are kept."""

from __future__ import annotations

from pathlib import Path

from rag.chunking import MAX_HEADING_CHARS, MAX_SECTION_DEPTH, chunk_document, section_path
from rag.loaders import load_document


def test_a_long_heading_is_cut_after_a_word() -> None:
    long = "Overview of the " + "very " * 100 + "long heading"
    path = section_path("Guide", [long, "Usage"])
    title, heading, last = path.split(" > ")
    assert (title, last) == ("Guide", "Usage")
    assert len(heading) <= MAX_HEADING_CHARS and heading.endswith("very…")
    assert long.startswith(heading[:-1])


def test_a_deep_path_keeps_its_innermost_headings() -> None:
    path = [f"Level {i}" for i in range(1, 21)]
    expected = ["Guide", *path[-MAX_SECTION_DEPTH:]]
    assert section_path("Guide", path).split(" > ") == expected
    short = path[:MAX_SECTION_DEPTH]
    assert section_path("Guide", short).split(" > ") == ["Guide", *short]  # as before
    assert section_path("", ["a" * MAX_HEADING_CHARS]) == "a" * MAX_HEADING_CHARS


def test_a_page_with_a_huge_heading_makes_no_huge_sections(tmp_path: Path) -> None:
    huge = "word " * 20_000
    sections = "".join(f"<h2>Part {i}</h2><p>Text {i}. More text.</p>" for i in range(300))
    (tmp_path / "a.html").write_text(f"<h1>{huge}</h1>{sections}", encoding="utf-8")
    document = load_document(tmp_path / "a.html")
    chunks = chunk_document(
        "a.html", document.text, size=700, overlap=100, blocks=document.blocks,
        title=document.title,
    )  # fmt: skip
    assert len(chunks) > 300
    assert max(len(c.section) for c in chunks) <= 2 * MAX_HEADING_CHARS + 3
    assert chunks[-1].section.endswith(" > Part 299")
