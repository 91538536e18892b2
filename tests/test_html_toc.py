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
