"""Round 19's HTML loader rules, each at an edge the earlier tests passed over: found by
planting one small bug at a time in the page's own table of contents and the link names that say
where a bar goes (each test fails with its bug applied)."""

from __future__ import annotations

from rag.loaders.html import load_html

PROSE = (
    "The engine keeps each table in a single file on disk, and reads it back in pages of a "
    "fixed size whenever a statement needs them. "
)
SECTIONS = (
    f'<h1 id="overview"><span>1. </span>Overview</h1><p>{PROSE}</p>'
    f'<a name="wal"></a><h2>1.1. The WAL file</h2><p>Writes go to the log first.</p>'
    f'<section id="limits"><h1>2. Limits</h1><p>A row holds at most a gigabyte.</p></section>'
)
BODY = (
    "1. Overview\n\n" + PROSE.strip() + "\n\n1.1. The WAL file\n\nWrites go to the log first."
    "\n\n2. Limits\n\nA row holds at most a gigabyte."
)


def page(body: str, title: str = "") -> str:
    head = f"<head><title>{title}</title></head>" if title else ""
    return f"<html>{head}<body>{body}</body></html>"


def test_a_contents_entry_whose_name_is_nested_in_its_link_is_still_an_entry() -> None:
    """The words of elements inside a link are the link's, however deep (a theme's
    ``<a><span><b>Overview</b></span></a>``): read as words of their own, they kept the list."""
    toc = "".join(
        f'<li><a href="#{key}"><span><b>{name}</b></span></a></li>'
        for key, name in (("overview", "Overview"), ("wal", "WAL"), ("limits", "Limits"))
    )
    assert load_html(page(f"<div><ul>{toc}</ul></div>" + SECTIONS)).text == BODY


def test_a_contents_list_with_numbering_a_label_a_comment_and_a_script_is_left_out() -> None:
    """Besides its links a table of contents has numbering outside them ("1."), a label ("On
    this page"), a generator's comment and the script that folds it: none is a word of the
    page's own."""
    toc = (
        "<div><p>On this page</p><ul><li>1. <a href='#overview'>Overview</a></li>"
        "<li>2. <a href='#wal'>WAL</a></li><li>3. <a href='#limits'>Limits</a></li></ul>"
        "<!-- toc generated --><script>toggleContents()</script></div>"
    )
    assert load_html(page(toc + SECTIONS)).text == BODY


def test_words_of_their_own_deeper_in_a_block_of_links_keep_it() -> None:
    """A block is judged with all that its children hold: "Use one of:" one level down keeps
    the <div> around it too."""
    links = (
        '<div><p>Use one of: <a href="#overview">Overview</a>, <a href="#wal">WAL</a>, '
        '<a href="#limits">Limits</a>.</p></div>'
    )
    assert load_html(page(links + SECTIONS)).text.startswith("Use one of: Overview, WAL, Limits.")


def test_a_list_with_a_link_to_another_page_besides_the_headings_is_kept() -> None:
    """A table of contents links to the page's headings only: one link elsewhere ("FAQ") makes
    the list the page's content."""
    links = (
        '<ul><li><a href="#overview">Overview</a></li><li><a href="#wal">WAL</a></li>'
        '<li><a href="#limits">Limits</a></li><li><a href="faq.html">FAQ</a></li></ul>'
    )
    assert load_html(page(links + SECTIONS)).text == "Overview\nWAL\nLimits\nFAQ\n\n" + BODY


HEADED = (
    f'<h2><a id="a"></a>Alpha</h2><p>{PROSE}</p><h2><span id="b">Beta</span></h2><p>Two.</p>'
    '<h2 id="c">Gamma</h2><p>Three.</p><h2>Delta</h2><p>Four.</p>'
)
HEADED_TEXT = f"Alpha\n\n{PROSE.strip()}\n\nBeta\n\nTwo.\n\nGamma\n\nThree.\n\nDelta\n\nFour."
ABC = '<li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li><li><a href="#c">Gamma</a></li>'


def test_an_anchor_inside_a_heading_marks_the_heading() -> None:
    """``<h2><a id="a"></a>Alpha</h2>``: the place a contents entry goes to is the heading's."""
    assert load_html(page(f"<ul>{ABC}</ul>" + HEADED)).text == HEADED_TEXT


def test_a_list_of_other_pages_stays_beside_the_pages_own_contents() -> None:
    """Links to other pages go to no place on this page ("one.html" has no fragment), not to
    its headings without an id: the list of the manual's pages is content."""
    others = (
        '<ul><li><a href="one.html">One</a></li><li><a href="two.html">Two</a></li>'
        '<li><a href="three.html">Three</a></li></ul>'
    )
    text = load_html(page(f"<ul>{ABC}</ul>" + others + HEADED)).text
    assert text == "One\nTwo\nThree\n\n" + HEADED_TEXT


def test_links_to_notes_before_headings_are_no_contents() -> None:
    """An element with words of its own is not a heading's anchor because a heading follows it
    (only an empty ``<a name>`` right before one is)."""
    notes = (
        '<ul><li><a href="#a">first note</a></li><li><a href="#b">second note</a></li>'
        '<li><a href="#c">third note</a></li></ul>'
        f'<p id="a">Note one.</p><h2>X</h2><p id="b">Note two.</p><h2>Y</h2>'
        f'<p id="c">Note three.</p><h2>Z</h2><p>{PROSE}</p>'
    )
    assert load_html(page(notes)).text.startswith("first note\nsecond note\nthird note\n\n")


def test_three_links_to_two_headings_are_no_table_of_contents() -> None:
    """A page with fewer headings linked to than a table of contents has is left alone, however
    many links go to them."""
    links = (
        '<ul><li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li>'
        '<li><a href="#a">Alpha again</a></li></ul>'
        f'<h2 id="a">Alpha</h2><p>{PROSE}</p><h2 id="b">Beta</h2><p>Two.</p>'
    )
    assert load_html(page(links)).text.startswith("Alpha\nBeta\nAlpha again\n\n")


def test_headings_and_code_that_link_to_headings_are_no_table_of_contents() -> None:
    """A heading's words are the page's even inside a link to itself, and so is code: a block
    of headings, or a synopsis whose lines link to their sections, is kept."""
    headings = (
        f'<p>{PROSE}</p><div><h2 id="a"><a href="#a">Alpha</a></h2>'
        '<h2 id="b"><a href="#b">Beta</a></h2><h2 id="c"><a href="#c">Gamma</a></h2></div>'
    )
    assert load_html(page(headings)).text == f"{PROSE.strip()}\n\nAlpha\n\nBeta\n\nGamma"
    synopsis = (
        f'<h1>Files</h1><p>{PROSE}</p><pre><a href="#open">open</a>()\n<a href="#read">read</a>'
        '()\n<a href="#close">close</a>()</pre><h2 id="open">open</h2><p>Opens.</p>'
        '<h2 id="read">read</h2><p>Reads.</p><h2 id="close">close</h2><p>Closes.</p>'
    )
    assert "\n\nopen()\nread()\nclose()\n\n" in load_html(page(synopsis)).text


def main(links: str) -> str:
    return load_html(page(f"<main><h1>SQL</h1><p>{PROSE}</p><p>{links}</p></main>")).text


def test_links_named_like_code_with_a_navigation_word_are_content() -> None:
    """``next()`` and ``iter()`` are functions, not "Next": a link named like code says no
    place it goes."""
    assert main('<a href="a.html">next()</a>, <a href="b.html">iter()</a>').endswith(
        "\n\nnext(), iter()"
    )


def test_previous_and_next_chapter_are_a_bar() -> None:
    """ "Previous chapter" and "Next chapter" (Sphinx's sidebar) say where they go."""
    bar = '<a href="a.html">Previous chapter</a> <a href="b.html">Next chapter</a>'
    assert main(bar) == f"SQL\n\n{PROSE.strip()}"
