"""A list of class "toc" is a table of contents only when it is links: texi2html (GNU gettext's
manual) writes every bullet-less ``@itemize`` as ``<ul class="toc">``, and that list is content."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import load_document


def loaded(tmp_path: Path, body: str) -> str:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>xgettext Invocation</title></head><body>"
        f"<h1>xgettext Invocation</h1><p>The default keywords depend on the language.</p>{body}"
        "<p>Use --keyword to add more.</p></body></html>",
        encoding="utf-8",
    )
    return load_document(path).text


def test_a_texi2html_itemize_named_toc_is_content(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        '<ul class="toc"><li>For C: <code>gettext</code>, <code>dgettext:2</code>.</li>'
        '<li>For Python: <code>gettext</code>, <code>ugettext</code>, see <a href="#py">'
        "Python</a>.</li><li>For Lisp: <code>gettext-noop</code>.</li></ul>",
    )
    assert "For C: gettext, dgettext:2." in text
    assert "For Python: gettext, ugettext, see Python." in text
    assert "For Lisp: gettext-noop." in text


def test_a_table_of_contents_is_still_dropped(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        '<div class="toc"><p><b>Table of Contents</b></p><dl><dt><a href="#s1">Pitfalls with '
        'submodules</a></dt></dl></div><ul id="toc"><li>1.1 <a href="#a">Invoking the '
        'program</a></li><li>1.2 <a href="#b">Options of the program</a></li></ul>'
        '<ul class="toc"><li><a href="#c">3.1 Keyword specifications</a></li></ul>',
    )
    assert "Table of Contents" not in text
    assert "Pitfalls" not in text
    assert "Invoking the program" not in text and "Options of the program" not in text
    assert "Keyword specifications" not in text
    assert "The default keywords depend on the language." in text
    assert "Use --keyword to add more." in text


def test_a_table_of_navigation_links_is_dropped_a_table_of_topics_kept(tmp_path: Path) -> None:
    bar = (
        '<table cellpadding="1"><tr><td>[<a href="g6.html#S44"> &lt;&lt; </a>]</td>'
        '<td>[<a href="#S46"> &lt; </a>]</td><td>[<a href="#S45"> Up </a>]</td>'
        '<td>[<a href="#S47"> &gt; </a>]</td><td>[<a href="g8.html"> &gt;&gt; </a>]</td>'
        '<td> &nbsp; </td><td>[<a href="index.html#Top">Top</a>]</td>'
        '<td>[<a href="toc.html">Contents</a>]</td><td>[<a href="g21.html">Index</a>]</td>'
        '<td>[<a href="about.html"> ? </a>]</td></tr></table>'
    )
    text = loaded(
        tmp_path,
        f"{bar}<table><tr><td><a href='alter.html'>ALTER TABLE</a></td>"
        "<td><a href='analyze.html'>ANALYZE</a></td></tr></table>"
        "<table><tr><td><a href='a.html'>Top</a></td><td>Seen at the top.</td></tr>"
        f"<tr><td><a href='b.html'>Index</a></td><td>Seen last.</td></tr></table>{bar}"
        # One link is no bar (as for bars in text: two links at least).
        "<table><tr><td>[<a href='c.html'>Index</a>]</td></tr></table>",
    )
    assert text.count("[Index]") == 1 and "\n[Index]\n" in text
    assert "<<" not in text and "[Top]" not in text and "[Contents]" not in text
    assert "ALTER TABLE | ANALYZE" in text  # an index of the documents' topics is content
    assert "Top | Seen at the top." in text  # a table with words of its own is content
