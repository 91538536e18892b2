"""An XHTML page (DocBook's, AsciiDoc's, many generated manuals') opens with an XML declaration,
and bs4 warns that it parses XML as HTML. The loader silenced that warning once per process, with
a global filter: a process that resets its filters or turns warnings into errors (pytest between
tests, a script run with ``-W error``) then failed every such page ("reading it failed
(XMLParsedAsHTMLWarning ...): please report this"). git's manual pages were all lost so."""

from __future__ import annotations

import warnings
from pathlib import Path

from rag.loaders import load_document
from rag.loaders.html import html_to_text

XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
    '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en"><head><title>git-stash(1)</title>'
    "</head><body><h1>git-stash(1)</h1><h2>DESCRIPTION</h2>"
    "<p>Use git stash when you want to record the current state of the working directory.</p>"
    + "<p>The command saves your local modifications away.</p>" * 12  # bs4 looks at 500 chars
    + "</body></html>"
)


def test_an_xhtml_page_loads_where_warnings_are_errors(tmp_path: Path) -> None:
    page = tmp_path / "git-stash.html"
    page.write_text(XHTML, encoding="utf-8")
    html_to_text(XHTML)  # a page read before: the process has done what it does once
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what pytest and ``-W error`` do to the loader's filter
        document = load_document(page)
        assert "Use git stash when you want to record" in document.text
        assert "Use git stash when you want to record" in html_to_text(XHTML)


def test_the_declaration_goes_but_nothing_of_the_page() -> None:
    html_to_text(XHTML)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = html_to_text(XHTML)
    assert "xml version" not in text and "encoding" not in text
    assert text.startswith("git-stash(1)")
