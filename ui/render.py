"""HTML for the chat page: answers with linked [n] markers, the sources panel, the documents table.

Every piece of text that comes from a document, a file name or the user is HTML-escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape

from rag import Answer, Citation

MARKER = re.compile(r"\[(\d+)\]")
CONTEXT_CHARS = 280
SOURCES_TITLE = "<h3>Sources</h3>"
EMPTY_SOURCES = SOURCES_TITLE + (
    '<div class="sources-empty">Ask a question: the passages behind the answer appear here, '
    "with the cited words highlighted.</div>"
)

TextLoader = Callable[[str], str]


def source_id(turn: int, index: int) -> str:
    """The element id of citation ``index`` of answer number ``turn`` in the sources panel."""
    return f"src-{turn}-{index}"


# Markdown's active characters as HTML character references: shown the same, never read as an
# image, link, emphasis or code mark, should a component render our HTML as Markdown.
_MARKDOWN_INERT = str.maketrans({ch: f"&#{ord(ch)};" for ch in "[]!*_`~\\"})


def _esc(text: str, quote: bool = True) -> str:
    """``text`` as HTML that shows it literally, whether rendered as HTML or as Markdown."""
    return escape(text, quote=quote).translate(_MARKDOWN_INERT)


def _multiline(text: str) -> str:
    """Escaped text on one line (the chat renders Markdown; an HTML block must not break)."""
    return _esc(text).replace("\r\n", "\n").replace("\n", "<br>")


# Where a code citation's words end and its code starts: the blank line before the code block
# if there is one (the words may take two lines: an HTML <br>), else the first line break (a
# text file, a line a sentence).
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LINE_BREAK = re.compile(r"\n")


def code_html(text: str) -> str:
    """A cited span that ends with code: the words that introduce it, then the code in
    <pre><code> (escaped; line breaks as references, so a Markdown renderer keeps one block)."""
    split = _BLANK_LINE.search(text) or _LINE_BREAK.search(text)
    intro, code = (text[: split.start()], text[split.end() :]) if split else ("", text)
    block = _esc(code, quote=False).replace("\r\n", "\n").replace("\n", "&#10;")
    lead = f'<span class="code-intro">{_multiline(intro)}</span>' if intro else ""
    return f'{lead}<pre class="answer-code"><code>{block}</code></pre>'


def _segment(segment: str, citation: Citation | None) -> str:
    """The answer text before a marker; the span of a code citation shown as code."""
    body = segment.rstrip()
    if citation is None or citation.kind != "code" or not citation.text:
        return _multiline(segment)
    if not body.endswith(citation.text):
        return _multiline(segment)
    head = body[: len(body) - len(citation.text)]
    return _multiline(head) + code_html(citation.text) + _multiline(segment[len(body) :])


def link_markers(text: str, citations: Sequence[Citation], turn: int) -> str:
    """Escape ``text`` and turn each ``[n]`` with a citation into a link to its source entry;
    a citation of kind code shows its code as code."""
    by_index = {c.index: c for c in citations}
    out: list[str] = []
    last = 0
    for match in MARKER.finditer(text):
        citation = by_index.get(int(match.group(1)))
        if citation is None:
            continue
        out.append(_segment(text[last : match.start()], citation))
        title = _esc(_place(citation), quote=True)
        out.append(
            f'<a class="cite" href="#{source_id(turn, citation.index)}" '
            f'data-turn="{turn}" data-cite="{citation.index}" title="{title}">'
            f"[{citation.index}]</a>"
        )
        last = match.end()
    out.append(_multiline(text[last:]))
    return "".join(out)


def answer_message(answer: Answer, turn: int, draft: str = "") -> str:
    """The chat bubble of a finished answer, or a distinct note for a refusal.

    ``draft``: the text that streamed in. A generated draft is checked when complete; if the
    answer differs (claims no cited passage supports were removed), a note says so.
    """
    if answer.refused:
        withdrawn = ""
        if draft.strip() and draft.strip() != answer.text:
            withdrawn = (
                '<div class="unsupported-note revised-note">The draft above was withdrawn: no '
                "passage supports its claims.</div>"
            )
        return (
            '<div class="refusal"><span class="refusal-title">No answer in your documents.</span> '
            f"{_multiline(answer.text)}{withdrawn}</div>"
        )
    notes = ""
    if any(not c.verified for c in answer.citations):
        notes += ' <span class="unverified-note">(some citations could not be verified)</span>'
    if answer.unsupported:
        claims = "; ".join(f"“{_esc(claim)}”" for claim in answer.unsupported)
        revised = (
            "Removed from the draft. " if draft.strip() and draft.strip() != answer.text else ""
        )
        notes += (
            f'<div class="unsupported-note">{revised}Left out of the answer (no cited passage '
            f"supports it). Not supported by the documents: {claims}</div>"
        )
    return f'<div class="answer">{link_markers(answer.text, answer.citations, turn)}{notes}</div>'


def streaming_message(text: str, checked_at_end: bool = False) -> str:
    """The chat bubble while the answer streams in; ``checked_at_end``: a generated draft whose
    claims are checked when it is complete (sentences may then be removed)."""
    label = ""
    if checked_at_end:
        label = (
            '<div class="unverified-note draft-note">Draft: each claim is checked against your '
            "documents when the reply is complete; unsupported sentences will be removed.</div>"
        )
    return (
        f'<div class="answer streaming">{_multiline(text)}<span class="cursor">▍</span>'
        f"{label}</div>"
    )


def question_message(question: str) -> str:
    return f'<div class="question">{_multiline(question)}</div>'


def confirm_html(question: str) -> str:
    """The delete confirmation: the whole text escaped, so a file name shows as it is."""
    return f'<p class="confirm-question">{_multiline(question)}</p>'


def notice(message: str, kind: str = "warning") -> str:
    """A message shown on the page: kind is ``warning``, ``error``, ``info`` or ``success``."""
    css_class = _esc(f"notice notice-{kind}", quote=True)
    return f'<div class="{css_class}" role="status">{_multiline(message)}</div>'


def _place(citation: Citation) -> str:
    page = f", page {citation.page}" if citation.page is not None else ""
    return f"{citation.source}{page}"


def _snap_start(text: str, start: int) -> int:
    if start <= 0:
        return 0
    space = text.find(" ", start, start + 40)
    return space + 1 if space != -1 else start


def _snap_end(text: str, end: int) -> int:
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", max(0, end - 40), end)  # a negative start would count from the end
    return space if space != -1 else end


def passage_html(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> str:
    """The cited span of ``text`` in a <mark>, inside about ``context`` characters each side."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    lo = _snap_start(text, start - context) if start - context > 0 else 0
    hi = _snap_end(text, end + context) if end + context < len(text) else len(text)
    lo, hi = min(lo, start), max(hi, end)
    before = "…" if lo > 0 else ""
    after = "…" if hi < len(text) else ""
    return (
        f"{before}{_esc(text[lo:start])}<mark>{_esc(text[start:end])}</mark>"
        f"{_esc(text[end:hi])}{after}"
    )


def citation_html(
    citation: Citation, turn: int, load_text: TextLoader, *, closest: bool = False
) -> str:
    """One entry of the sources panel: file, page, score, and the highlighted passage.

    ``closest``: a refusal's nearest passage, marked as not an answer (never a citation).
    """
    meta = [f'<span class="source-file">{_esc(citation.source)}</span>']
    if citation.page is not None:
        meta.append(f'<span class="source-page">page {citation.page}</span>')
    meta.append(f'<span class="source-score">score {citation.score:.2f}</span>')
    if closest:
        meta.append(
            '<span class="badge-closest" title="The closest passage found: it does not answer '
            'the question">not an answer</span>'
        )
    elif not citation.verified:
        meta.append(
            '<span class="badge-unverified" title="The model cited this, but the words were not '
            'found in the passage">unverified</span>'
        )
    try:
        text = load_text(citation.source)
    except Exception:  # the file may have been removed since the answer; show the span alone
        text = ""
    if text[citation.start : citation.end] == citation.text and citation.text:
        body = passage_html(text, citation.start, citation.end)
    else:
        body = f"<mark>{_esc(citation.text)}</mark>"
    classes = (
        "source closest" if closest else "source" if citation.verified else "source unverified"
    )
    # A closest passage has no [n] in the text: no number, and an anchor of its own.
    anchor = (
        f"{source_id(turn, citation.index)}-closest" if closest else source_id(turn, citation.index)
    )
    label = "" if closest else f'<span class="source-index">[{citation.index}]</span> '
    return (
        f'<div class="{classes}" id="{anchor}">'
        f'<div class="source-head">{label}'
        f"{' · '.join(meta)}</div>"
        f'<div class="passage">{body}</div></div>'
    )


def turn_sources(answer: Answer, turn: int, load_text: TextLoader) -> str:
    """The sources of one answer (the panel shows the latest open and earlier ones folded)."""
    if answer.refused:
        body = (
            '<div class="sources-empty">No passage answers this question, so nothing is cited.'
            "</div>"
        )
        if answer.closest:
            body += '<div class="closest-title">Closest passages (not an answer)</div>'
            body += "".join(citation_html(c, turn, load_text, closest=True) for c in answer.closest)
    elif not answer.citations:
        body = '<div class="sources-empty">This answer cites no passage.</div>'
    else:
        body = "".join(citation_html(c, turn, load_text) for c in answer.citations)
    return (
        f'<div class="turn" data-turn="{turn}">'
        f'<div class="turn-question">{_esc(answer.question[:300])}</div>{body}</div>'
    )


def sources_panel(turns: Sequence[str]) -> str:
    """All answers' sources: the latest shown, the earlier ones in closed <details>."""
    if not turns:
        return EMPTY_SOURCES
    latest, earlier = turns[-1], turns[:-1]
    folded = "".join(
        f'<details class="earlier"><summary>Sources of answer {i + 1}</summary>{html}</details>'
        for i, html in reversed(list(enumerate(earlier)))
    )
    return f'{SOURCES_TITLE}<div class="sources">{latest}{folded}</div>'


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# Page furniture: header, indexing banner, notes ------------------------------------------------


def header_html(folder: str, documents: int, indexing: bool = False) -> str:
    """The page header: what it answers from (the folder and how many documents it holds)."""
    count = f"{documents:,} document" + ("" if documents == 1 else "s")
    state = " (indexing…)" if indexing else ""
    return (
        '<div id="app-header"><h1>Ask your documents</h1>'
        f'<p class="folder-line">Answering from <code class="folder">{_esc(folder)}</code>: '
        f'<span class="doc-count">{count}</span>{state}. Answers come only from these documents, '
        "each claim linked to the passage it quotes; everything runs on this machine.</p></div>"
    )


def banner_html(text: str) -> str:
    """The indexing banner above the page ("" hides it)."""
    if not text:
        return ""
    return f'<div class="index-banner" role="status">{_esc(text)}</div>'


def incomplete_note(banner: str) -> str:
    """Added under an answer given while the index was still being built."""
    return (
        '<div class="unverified-note incomplete-note">Answered while the index was being built '
        f"({_esc(banner.split(' - ')[0])}): the answer may be incomplete.</div>"
    )


def no_documents_hint(folder: str) -> str:
    return notice(
        f"Nothing is indexed yet: add documents on the Documents tab (upload), or put files in "
        f"{folder} and press Re-sync. No example questions until then.",
        "info",
    )


def progress_line(text: str) -> str:
    if not text:
        return ""
    return (
        f'<div class="docs-progress" role="status"><span class="spinner"></span>{_esc(text)}</div>'
    )
