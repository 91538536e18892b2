"""The page shows code in answers as code: a citation of kind code renders in <pre><code>."""

from __future__ import annotations

from rag import Answer, Citation
from ui import render

INTRO = "To build the project, run"
CODE = "$ cargo build --bin <name>\n$ ./target/debug/hello_cargo"


def test_a_code_citation_renders_its_code_in_pre_code_escaped() -> None:
    span = f"{INTRO}\n\n{CODE}"
    code = Citation(1, "book.html", span, 10, 10 + len(span), 0.9, kind="code")
    text = Citation(2, "book.html", "Cargo keeps the output apart.", 0, 29, 0.8)
    answer = Answer("How do I build it?", f"{span} [1] {text.text} [2]", [code, text])
    html = render.answer_message(answer, 3)
    assert html == (
        '<div class="answer"><span class="code-intro">To build the project, run</span>'
        '<pre class="answer-code"><code>$ cargo build --bin &lt;name&gt;&#10;'
        "$ ./target/debug/hello&#95;cargo</code></pre> "
        '<a class="cite" href="#src-3-1" data-turn="3" data-cite="1" title="book.html">[1]</a>'
        " Cargo keeps the output apart. "
        '<a class="cite" href="#src-3-2" data-turn="3" data-cite="2" title="book.html">[2]</a>'
        "</div>"
    )
    # One line of HTML: a Markdown renderer cannot end the block inside the code.
    assert "\n" not in html


def test_a_text_citation_is_not_code() -> None:
    plain = Citation(1, "book.html", "Run cargo build.", 0, 16, 0.9)
    html = render.link_markers("Run cargo build. [1]", [plain], 1)
    assert "<pre" not in html and html.startswith("Run cargo build. <a class=")


def test_a_code_citation_whose_words_take_two_lines_shows_them_before_its_code() -> None:
    """Found by review: the page split a code citation at its first line break. A section's
    lead (or a paragraph) of two lines (an HTML <br>) before its code was shown with its
    second line, "To build it, run:", inside the code block. The blank line before the code
    block splits it when there is one."""
    span = "You need a compiler.\nTo build it, run:\n\nmake install"
    html = render.code_html(span)
    assert html.endswith('<pre class="answer-code"><code>make install</code></pre>')
    assert "To build it, run:" in html.split("<pre")[0]
    # Without a blank line (a text file: a line a sentence), the first line break splits it.
    assert render.code_html("Run:\n$ make") == (
        '<span class="code-intro">Run:</span><pre class="answer-code"><code>$ make</code></pre>'
    )
