"""HTML of generators the earlier rounds had not read: SQLite's hand-written pages, Sphinx's
grammar blocks and sidebars (Python's documentation). Each case is one a page of those manuals
showed, written small; the loader's output on the Node.js pages is unchanged by them."""

from __future__ import annotations

import pytest

from rag.loaders.html import load_html

PROSE = (
    "The engine keeps each table in a single file on disk, and reads it back in pages of a "
    "fixed size whenever a statement needs them. "
)


def page(body: str, title: str = "") -> str:
    head = f"<head><title>{title}</title></head>" if title else ""
    return f"<html>{head}<body>{body}</body></html>"


def blocks(html: str) -> list[tuple[str, str]]:
    document = load_html(html)
    return [(b.kind, document.text[b.start : b.end]) for b in document.blocks]


def test_a_line_break_in_a_term_or_heading_is_a_space() -> None:
    """SQLite's URI parameters: ``<dt>mode=ro<br>mode=rw</dt>`` read "mode=romode=rw"."""
    document = load_html(
        page(
            f"<main><h1>URI<br>Filenames<!-- generated --></h1><p>{PROSE}</p>"
            "<dl><dt>cache=shared<br>cache=private</dt><dd><p>Shares the cache.</p></dd></dl>"
            "</main>"
        )
    )
    assert document.title == "URI Filenames"
    assert "cache=shared cache=private" in document.text
    assert "sharedcache" not in document.text and "generated" not in document.text


@pytest.mark.parametrize(
    "marked",
    [
        '<div class="nosearch">{}</div>',
        '<div class="robots-nocontent">{}</div>',
        "<div data-nosnippet>{}</div>",
        '<div data-pagefind-ignore="all">{}</div>',
    ],
)
def test_what_a_page_marks_as_not_for_search_is_left_out(marked: str) -> None:
    chrome = (
        "<div>Small. Fast. Reliable.<br>Choose any three.</div>"
        '<ul><li><a href="about.html">About</a></li><li><a href="docs.html">Documentation</a>'
        '</li><li><a href="download.html">Download</a></li></ul>'
    )
    text = load_html(page(marked.format(chrome) + f"<h1>Storage</h1><p>{PROSE}</p>")).text
    assert text == f"Storage\n\n{PROSE.strip()}"


TOC = (
    '<div class="fancy_toc"><a onclick="toggle_toc()"><span>&#x25ba;</span> Table Of Contents'
    '</a><div id="toc_sub"><div class="fancy-toc1"><a href="#overview">1. Overview</a></div>'
    '<div class="fancy-toc2"><a href="#wal">1.1. The WAL file</a></div>'
    '<div class="fancy-toc1"><a href="#limits">2. Limits</a></div></div></div>'
)
SECTIONS = (
    f'<h1 id="overview"><span>1. </span>Overview</h1><p>{PROSE}</p>'
    f'<a name="wal"></a><h2>1.1. The WAL file</h2><p>Writes go to the log first.</p>'
    f'<section id="limits"><h1>2. Limits</h1><p>A row holds at most a gigabyte.</p></section>'
)


def test_the_pages_own_table_of_contents_is_left_out() -> None:
    """Links to the page's headings and nothing else say each heading twice: a question about
    a section found the list."""
    text = load_html(page(TOC + SECTIONS)).text
    assert "Table Of Contents" not in text
    assert text.count("1. Overview") == 1 and text.count("2. Limits") == 1
    assert "Writes go to the log first." in text


@pytest.mark.parametrize(
    ("links", "kept"),
    [
        # Words of their own beside the links: Node.js's "one of: assert.equal(), ...".
        (
            '<p>Use one of: <a href="#overview">Overview</a>, <a href="#wal">WAL</a>, '
            '<a href="#limits">Limits</a>.</p>',
            "Use one of: Overview, WAL, Limits.",
        ),
        # Links to other pages: a list of the manual's pages is the page's content.
        (
            '<ul><li><a href="a.html#overview">1. Overview</a></li><li><a href="b.html#wal">'
            'WAL</a></li><li><a href="c.html#limits">Limits</a></li></ul>',
            "1. Overview\nWAL\nLimits",
        ),
        # Two links only.
        (
            '<ul><li><a href="#overview">1. Overview</a></li><li><a href="#wal">WAL</a></li></ul>',
            "1. Overview\nWAL",
        ),
        # Links to places that are not headings (a table's rows).
        (
            '<ul><li><a href="#r1">first row</a></li><li><a href="#r2">second row</a></li>'
            '<li><a href="#r3">third row</a></li></ul>'
            '<table><tr id="r1"><td>one</td></tr><tr id="r2"><td>two</td></tr>'
            '<tr id="r3"><td>three</td></tr></table>',
            "first row\nsecond row\nthird row",
        ),
    ],
    ids=["own-words", "other-pages", "two-links", "not-headings"],
)
def test_other_lists_of_links_are_kept(links: str, kept: str) -> None:
    assert load_html(page(links + SECTIONS)).text.startswith(kept + "\n\n")


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        (
            '<ul><li><a href="create.html">CREATE INDEX</a></li><li><a href="drop.html">'
            'DROP INDEX</a></li><li><a href="select.html">SELECT</a></li></ul>',
            "CREATE INDEX\nDROP INDEX\nSELECT",
        ),
        (
            '<p><a href="#a">str.index()</a>, <a href="#b">list.index()</a></p>',
            "str.index(), list.index()",
        ),
        (
            '<ul><li><a href="a.html">Setting up</a></li><li><a href="b.html">Back to the '
            "Example</a></li></ul>",
            "Setting up\nBack to the Example",
        ),
    ],
    ids=["sql-statements", "methods", "toctree"],
)
def test_links_that_name_a_subject_with_a_navigation_word_are_content(
    subject: str, kept: str
) -> None:
    """A navigation bar's link says where it goes ("Next", "Up", "Table of Contents"); a link
    named "CREATE INDEX" or "Back to the Example" names what its page is about."""
    text = load_html(page(f"<main><h1>SQL</h1><p>{PROSE}</p>{subject}</main>")).text
    assert text.endswith("\n\n" + kept)


@pytest.mark.parametrize(
    "bar",
    [
        '<p><a href="a.html">Prev</a> | <a href="up.html">Up</a> | <a href="n.html">Next</a></p>',
        '<p><a href="toc.html">Table of Contents</a> <a href="n.html">Next page</a></p>',
    ],
)
def test_a_bar_of_links_that_say_where_they_go_is_still_chrome(bar: str) -> None:
    text = load_html(page(f"<main><h1>SQL</h1><p>{PROSE}</p>{bar}</main>")).text
    assert text == f"SQL\n\n{PROSE.strip()}"


@pytest.mark.parametrize(
    ("pre", "code"),
    [
        # Sphinx's productionlist: a <pre> of names, ``::=`` and <code> tokens; it read only the
        # tokens ("identifier", "digit").
        (
            '<pre><strong id="grammar-token-arg_name">arg_name</strong> ::=  '
            '[<a href="#grammar-token-identifier"><code>identifier</code></a> | '
            "<code>digit</code>+]\n<strong>conversion</strong> ::=  <code>r</code> | "
            "<code>s</code></pre>",
            "arg_name ::=  [identifier | digit+]\nconversion ::=  r | s",
        ),
        # Node.js's <pre> holds its ESM and CommonJS variants as two <code> and a copy button:
        # still two variants apart.
        (
            "<pre><code class='mjs'>import fs from 'node:fs';</code>"
            "<code class='cjs'>const fs = require('node:fs');</code>"
            "<button class='copy-button'>copy</button></pre>",
            "import fs from 'node:fs';\n\nconst fs = require('node:fs');",
        ),
    ],
    ids=["sphinx-grammar", "variants-beside-a-copy-button"],
)
def test_a_pre_of_several_code_elements(pre: str, code: str) -> None:
    """Several <code> directly in a <pre> are variants of one example only when nothing else
    is there but what the page never shows (a button)."""
    assert ("code", code) in blocks(page(f"<main><h1>Format</h1><p>{PROSE}</p>{pre}</main>"))


def test_an_authors_sidebar_is_content_and_a_sites_is_chrome() -> None:
    """reStructuredText's ``.. sidebar::`` (asyncio's "Hello World!" example) is the author's;
    a theme's ``div.sidebar`` of links is not."""
    text = load_html(
        page(
            '<div class="sidebar"><a href="a.html">Home</a> <a href="b.html">Modules</a></div>'
            f"<main><h1>asyncio</h1><p>{PROSE}</p>"
            '<aside class="sidebar"><p class="sidebar-title">Hello World!</p>'
            "<pre>import asyncio</pre></aside></main>"
        )
    ).text
    assert "Hello World!" in text and "import asyncio" in text
    assert "Modules" not in text


def test_a_page_without_a_heading_is_headed_by_its_title() -> None:
    """SQLite's C reference names each page only in its chrome: the <title> heads the text, so
    that every chunk's section path names the page."""
    document = load_html(
        page(
            f'<div class="nosearch"><h2>Closing A Database Connection</h2></div><p>{PROSE}</p>',
            title="Closing A Database Connection",
        )
    )
    assert document.text.startswith("Closing A Database Connection\n\n")
    assert document.blocks[0].kind == "heading"
    assert document.blocks[1].path == ("Closing A Database Connection",)


def test_a_page_with_a_heading_keeps_it_as_its_title_and_gains_no_other() -> None:
    """The <title> heads a page's text only when the page has no heading of its own: a page
    with one keeps its text and its title as they were ("Pumps", not "Pump manual - Site")."""
    document = load_html(
        page(f"<main><h1>Pumps</h1><p>{PROSE}</p></main>", title="Pump manual - Site")
    )
    assert document.title == "Pumps"
    assert document.text == f"Pumps\n\n{PROSE.strip()}"
