"""The page's HTML, piece by piece: what each bubble, note, source entry and header says, with
the classes and ids the page's CSS and script rely on (fast: no index, no browser)."""

from __future__ import annotations

import pytest

from rag import Answer, Citation
from ui import render

TEXT = "Alpha beta gamma. The cited words are here. Delta epsilon zeta."
CITED = "The cited words are here."


def cite(index: int = 1, **changes: object) -> Citation:
    start = TEXT.index(CITED)
    fields: dict[str, object] = {
        "index": index,
        "source": "notes/a_b.txt",
        "text": CITED,
        "start": start,
        "end": start + len(CITED),
        "score": 0.876,
    }
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def test_text_is_escaped_for_html_and_inert_for_markdown() -> None:
    assert render.question_message('a <b> & "c"\r\nd [x]*_`~\\!') == (
        '<div class="question">a &lt;b&gt; &amp; &quot;c&quot;<br>d '
        "&#91;x&#93;&#42;&#95;&#96;&#126;&#92;&#33;</div>"
    )
    assert render.confirm_html("Delete 'x.txt'?\nIt goes.") == (
        '<p class="confirm-question">Delete &#x27;x.txt&#x27;?<br>It goes.</p>'
    )


def test_link_markers_links_cited_markers_and_leaves_the_others() -> None:
    html = render.link_markers("One [1] two [7] three [2]\nend", [cite(1, page=4), cite(2)], 5)
    assert html == (
        'One <a class="cite" href="#src-5-1" data-turn="5" data-cite="1" '
        'title="notes/a&#95;b.txt, page 4">[1]</a>'
        ' two &#91;7&#93; three <a class="cite" href="#src-5-2" data-turn="5" data-cite="2" '
        'title="notes/a&#95;b.txt">[2]</a><br>end'
    )


def test_a_file_name_cannot_leave_the_links_title() -> None:
    html = render.link_markers("One [1]", [cite(1, source='a" onclick="x.txt')], 2)
    assert 'title="a&quot; onclick=&quot;x.txt"' in html and 'onclick="' not in html


def test_a_code_citation_not_at_the_end_of_its_segment_stays_text() -> None:
    code = cite(1, text="cargo build", kind="code")
    html = render.link_markers("run cargo build now [1]", [code], 1)
    assert html.startswith("run cargo build now <a ")
    # Empty span or text kind: no code block either.
    for citation in (cite(1, text="", kind="code"), cite(1, text="cargo build")):
        assert "<pre" not in render.link_markers("run cargo build [1]", [citation], 1)
    # The code block, then the whitespace that followed it.
    html = render.link_markers("Run: cargo build  [1]", [code], 1)
    assert html.startswith('Run: <pre class="answer-code"><code>cargo build</code></pre>  <a ')
    assert render.code_html("a <b>\n \t\nc\r\nd\n\ne") == (
        '<span class="code-intro">a &lt;b&gt;</span>'
        '<pre class="answer-code"><code>c&#10;d&#10;&#10;e</code></pre>'
    )
    assert render.code_html('x = "<1>"') == (
        '<pre class="answer-code"><code>x = "&lt;1&gt;"</code></pre>'
    )


def test_an_answer_with_unverified_citations_and_removed_claims() -> None:
    answer = Answer(
        "Q?",
        "The cited words are here. [1]",
        [cite(1, verified=False)],
        unsupported=["It is <big>", "It is <big>"[:5]],
    )
    note = (
        ' <span class="unverified-note">(some citations could not be verified)</span>'
        '<div class="unsupported-note">{}Left out of the answer (no cited passage supports it). '
        "Not supported by the documents: “It is &lt;big&gt;”; “It is”</div>"
    )
    link = (
        '<a class="cite" href="#src-2-1" data-turn="2" data-cite="1" '
        'title="notes/a&#95;b.txt">[1]</a>'
    )
    body = f'<div class="answer">The cited words are here. {link}'
    assert render.answer_message(answer, 2) == body + note.format("") + "</div>"
    assert render.answer_message(answer, 2, draft=f" {answer.text} ") == (
        body + note.format("") + "</div>"
    )
    assert render.answer_message(answer, 2, draft="More words.") == (
        body + note.format("Removed from the draft. ") + "</div>"
    )
    verified = Answer("Q?", "The cited words are here. [1]", [cite(1)])
    assert render.answer_message(verified, 2, draft="x") == body + "</div>"


def test_a_refusal_says_so_and_whether_a_draft_was_withdrawn() -> None:
    refusal = Answer("Q?", "Nothing in the documents says.", refused=True)
    plain = (
        '<div class="refusal"><span class="refusal-title">No answer in your documents.</span> '
        "Nothing in the documents says.{}</div>"
    )
    withdrawn = (
        '<div class="unsupported-note revised-note">The draft above was withdrawn: no '
        "passage supports its claims.</div>"
    )
    assert render.answer_message(refusal, 1) == plain.format("")
    assert render.answer_message(refusal, 1, draft="  ") == plain.format("")
    assert render.answer_message(refusal, 1, draft=" Nothing in the documents says.\n") == (
        plain.format("")
    )
    assert render.answer_message(refusal, 1, draft="It is big.") == plain.format(withdrawn)


def test_the_streaming_bubble_and_its_draft_label() -> None:
    assert render.streaming_message("a\nb") == (
        '<div class="answer streaming">a<br>b<span class="cursor">▍</span></div>'
    )
    assert render.streaming_message("a", checked_at_end=True) == (
        '<div class="answer streaming">a<span class="cursor">▍</span>'
        '<div class="unverified-note draft-note">Draft: each claim is checked against your '
        "documents when the reply is complete; unsupported sentences will be removed.</div></div>"
    )


def test_notices_banner_progress_and_header() -> None:
    assert render.notice("a<b>") == (
        '<div class="notice notice-warning" role="status">a&lt;b&gt;</div>'
    )
    assert render.notice("ok", "success").startswith('<div class="notice notice-success" ')
    assert render.notice("x", 'a"b').startswith('<div class="notice notice-a&quot;b" ')
    assert render.banner_html("") == "" and render.progress_line("") == ""
    assert render.banner_html("Indexing <3>") == (
        '<div class="index-banner" role="status">Indexing &lt;3&gt;</div>'
    )
    assert render.progress_line("Reading 1/2") == (
        '<div class="docs-progress" role="status"><span class="spinner"></span>Reading 1/2</div>'
    )
    assert render.incomplete_note("Indexing 3/9 files - about 1 min left") == (
        '<div class="unverified-note incomplete-note">Answered while the index was being built '
        "(Indexing 3/9 files): the answer may be incomplete.</div>"
    )
    assert render.no_documents_hint("/d<x>") == (
        '<div class="notice notice-info" role="status">Nothing is indexed yet: add documents on '
        "the Documents tab (upload), or put files in /d&lt;x&gt; and press Re-sync. No example "
        "questions until then.</div>"
    )
    header = (
        '<div id="app-header"><h1>Ask your documents</h1>'
        '<p class="folder-line">Answering from <code class="folder">/docs&lt;1&gt;</code>: '
        '<span class="doc-count">{}</span>{}. Answers come only from these documents, '
        "each claim linked to the passage it quotes; everything runs on this machine.</p></div>"
    )
    assert render.header_html("/docs<1>", 1) == header.format("1 document", "")
    assert render.header_html("/docs<1>", 1234, indexing=True) == header.format(
        "1,234 documents", " (indexing…)"
    )
    assert render.header_html("/docs<1>", 0) == header.format("0 documents", "")


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (1024**2 - 1, "1024.0 KB"),
        (5 * 1024**2, "5.0 MB"),
        (3 * 1024**3, "3.0 GB"),
        (3 * 1024**4, "3072.0 GB"),
    ],
)
def test_human_size(size: int, shown: str) -> None:
    assert render.human_size(size) == shown


def test_a_passage_shows_its_span_in_context_cut_at_spaces() -> None:
    words = " ".join(f"w{i:02d}" for i in range(40))  # 40 words of 3 letters: 159 characters
    start, end = words.index("w20"), words.index("w20") + 3
    assert render.passage_html(words, start, end, context=10) == (
        "…w18 w19 <mark>w20</mark> w21 w22…"
    )
    # Near the edges: no cut, no ellipsis on that side (and a cut near the start is at a space).
    assert render.passage_html(words, 4, 7, context=10) == "w00 <mark>w01</mark> w02 w03…"
    assert render.passage_html(words, 152, 155, context=10) == "…w36 w37 <mark>w38</mark> w39"
    assert render.passage_html(words, 0, 3, context=3) == "<mark>w00</mark>…"
    # A cut one character from the start is snapped forward to a space, like any other.
    assert render.passage_html("ab cd", 1, 2, context=0) == "…<mark>b</mark>…"
    assert render.passage_html(words, 12, 15, context=11).startswith("…w01 w02 <mark>w03</mark>")
    # An exact fit of the context reaches the start or the end.
    assert render.passage_html(words, 10, 13, context=10).startswith("w00 ")
    assert render.passage_html(words, 144, 147, context=12).endswith(" w39")
    assert render.passage_html(words, 144, 147, context=11).endswith(" w38…")
    # Offsets out of range are clamped; the span is escaped.
    assert render.passage_html("a <b> c", -5, 99) == "<mark>a &lt;b&gt; c</mark>"
    assert render.passage_html("abc", 2, 1) == "ab<mark></mark>c"
    # No space near the cut: cut where the context ends.
    solid = "x" * 100
    assert render.passage_html(solid, 50, 51, context=5) == ("…xxxxx<mark>x</mark>xxxxx…")


def test_the_default_context_is_about_280_characters() -> None:
    text = "y" * 1000
    html = render.passage_html(text, 500, 501)
    assert html == "…" + "y" * 280 + "<mark>y</mark>" + "y" * 280 + "…"


def test_a_source_entry() -> None:
    def load(source: str) -> str:
        assert source == "notes/a_b.txt"
        return TEXT

    assert render.citation_html(cite(3, page=2), 4, load) == (
        '<div class="source" id="src-4-3"><div class="source-head">'
        '<span class="source-index">[3]</span> '
        '<span class="source-file">notes/a&#95;b.txt</span> · '
        '<span class="source-page">page 2</span> · '
        '<span class="source-score">score 0.88</span></div>'
        '<div class="passage">Alpha beta gamma. <mark>The cited words are here.</mark> '
        "Delta epsilon zeta.</div></div>"
    )
    unverified = render.citation_html(cite(1, verified=False), 4, load)
    assert unverified.startswith('<div class="source unverified" id="src-4-1">')
    assert (
        ' · <span class="badge-unverified" title="The model cited this, but the words were not '
        'found in the passage">unverified</span></div>'
    ) in unverified
    closest = render.citation_html(cite(1, verified=False), 4, load, closest=True)
    assert closest.startswith(
        '<div class="source closest" id="src-4-1-closest"><div class="source-head">'
        '<span class="source-file">'
    )
    assert (
        ' · <span class="badge-closest" title="The closest passage found: it does not answer '
        'the question">not an answer</span></div>'
    ) in closest
    assert "unverified" not in closest


def test_a_source_entry_without_its_document_shows_the_span_alone() -> None:
    def gone(source: str) -> str:
        raise FileNotFoundError(source)

    alone = '<div class="passage"><mark>The cited words are here.</mark></div>'
    assert alone in render.citation_html(cite(1), 1, gone)
    short = cite(1, text="XX", start=0, end=2)  # whatever the span, no text stands in for the file
    assert '<div class="passage"><mark>XX</mark></div>' in render.citation_html(short, 1, gone)
    # The document changed since: the stored span no longer matches.
    assert alone in render.citation_html(cite(1), 1, lambda s: TEXT.replace("cited", "CITED"))
    empty = cite(1, text="", start=0, end=0)
    assert '<div class="passage"><mark></mark></div>' in render.citation_html(
        empty, 1, lambda s: TEXT
    )


def test_the_sources_of_one_answer() -> None:
    def load(source: str) -> str:
        return TEXT

    question = "q<" + "x" * 400
    head = f'<div class="turn" data-turn="7"><div class="turn-question">q&lt;{"x" * 298}</div>'
    answered = Answer(question, "a [1] b [2]", [cite(1), cite(2, page=1)])
    assert render.turn_sources(answered, 7, load) == (
        head
        + render.citation_html(cite(1), 7, load)
        + render.citation_html(cite(2, page=1), 7, load)
        + "</div>"
    )
    uncited = Answer(question, "a")
    assert render.turn_sources(uncited, 7, load) == (
        head + '<div class="sources-empty">This answer cites no passage.</div></div>'
    )
    nothing = (
        '<div class="sources-empty">No passage answers this question, so nothing is cited.</div>'
    )
    refusal = Answer(question, "No.", refused=True)
    assert render.turn_sources(refusal, 7, load) == head + nothing + "</div>"
    near = Answer(question, "No.", refused=True, closest=[cite(1), cite(2)])
    assert render.turn_sources(near, 7, load) == (
        head
        + nothing
        + '<div class="closest-title">Closest passages (not an answer)</div>'
        + render.citation_html(cite(1), 7, load, closest=True)
        + render.citation_html(cite(2), 7, load, closest=True)
        + "</div>"
    )


def test_the_sources_panel_shows_the_latest_and_folds_the_earlier() -> None:
    empty = (
        "<h3>Sources</h3>"
        '<div class="sources-empty">Ask a question: the passages behind the answer appear '
        "here, with the cited words highlighted.</div>"
    )
    assert render.sources_panel([]) == render.EMPTY_SOURCES == empty
    assert render.sources_panel(["A"]) == '<h3>Sources</h3><div class="sources">A</div>'
    assert render.sources_panel(["A", "B", "C"]) == (
        '<h3>Sources</h3><div class="sources">C'
        '<details class="earlier"><summary>Sources of answer 2</summary>B</details>'
        '<details class="earlier"><summary>Sources of answer 1</summary>A</details></div>'
    )


def test_the_context_is_cut_at_a_space_within_40_characters() -> None:
    # Forward from a start: just after the first space in the next 40 characters, else there.
    assert render._snap_start("ab cd", 0) == 0 and render._snap_start("ab cd", -3) == 0
    assert render._snap_start("ab cd", 1) == 3
    assert render._snap_start("x" * 10 + " " + "y" * 60 + " z", 11) == 11  # the space is too far
    assert render._snap_start("x" * 50 + " z", 10) == 10  # a space 40 characters on: too far
    assert render._snap_start("x" * 49 + " z", 10) == 50
    # Back from an end: at the last space in the 40 characters before it, else there.
    assert render._snap_end("ab", 5) == 2 and render._snap_end("a b", 3) == 3  # the text's end
    assert render._snap_end("a " + "b" * 60, 50) == 50
    assert render._snap_end(" " + "b" * 20, 10) == 0
    assert render._snap_end("a " + "b" * 50, 42) == 42  # a space 41 characters back: too far
    assert render._snap_end("a " + "b" * 50, 41) == 1
