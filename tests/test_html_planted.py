"""HTML pages read from real files (rag/loaders/html.py through load_document): parts hidden
from readers are left out, a table nested in a cell is read once, and two code variants in one
<pre> stay two blocks of lines.

Tests written for deliberate bugs a review planted in rag/loaders/html.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import LoadedDocument, load_document


def read(tmp_path: Path, body: str) -> LoadedDocument:
    page = tmp_path / "page.html"
    page.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    return load_document(page)


def test_what_is_hidden_from_readers_is_left_out(tmp_path: Path) -> None:
    document = read(
        tmp_path,
        "<main><h1>Pumps</h1><p>The relief valve opens at 4 bar.</p>"
        '<div aria-hidden="true">Copy this page to your clipboard and share it.</div>'
        "<p>It closes at 2 bar.</p></main>",
    )
    assert document.text == "Pumps\n\nThe relief valve opens at 4 bar.\n\nIt closes at 2 bar."


def test_a_table_nested_in_a_cell_is_read_once(tmp_path: Path) -> None:
    document = read(
        tmp_path,
        "<main><h1>Pumps</h1><table>"
        "<tr><th>Model</th><th>Limits</th></tr>"
        "<tr><td>P-20</td><td><table><tr><td>Opens</td><td>4 bar</td></tr>"
        "<tr><td>Closes</td><td>2 bar</td></tr></table></td></tr>"
        "</table></main>",
    )
    table = next(b for b in document.blocks if b.kind == "table")
    assert document.text[table.start : table.end] == (
        "Model | Limits\nP-20 | Opens 4 bar Closes 2 bar"
    )


def test_two_code_variants_in_one_pre_stay_apart(tmp_path: Path) -> None:
    document = read(
        tmp_path,
        "<main><h1>Install</h1><p>Run one of these:</p>"
        "<pre><code>pip install pumps\n</code><code>conda install pumps</code></pre></main>",
    )
    (code,) = [b for b in document.blocks if b.kind == "code"]
    assert document.text[code.start : code.end] == "pip install pumps\n\nconda install pumps"
