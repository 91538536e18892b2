"""The Markdown export of a conversation, from the turns the browser keeps: each passage with its
page, a refusal with the passages that came closest, and no turn for an answer that failed.

Tests written for deliberate bugs a review planted in ui/export.py that the suite let through."""

from __future__ import annotations

from ui.export import conversation_markdown
from ui.handlers import ChatSession, Turn

VALVE = "When does the relief valve open?"
LOGS = "Who reads the pressure log?"


def session_with_a_failed_answer() -> ChatSession:
    """An answer citing page 3 of a PDF, an answer that failed (an error), then a refusal."""
    cited = {"key": "c1", "index": 1, "source": "pumps/manual.pdf", "page": 3,
             "text": "The relief valve opens\nat  4 bar."}  # fmt: skip
    nearest = {"key": "n1", "index": 1, "source": "notes.txt", "page": None,
               "text": "The pressure is logged every hour."}  # fmt: skip
    turns = [
        Turn(VALVE, "At 4 bar [1].", False, citations=(cited,)),
        None,
        Turn(LOGS, "No passage answers it.", True, closest=(nearest,), history=(VALVE,)),
    ]
    messages = []
    for question in (VALVE, "What is the rated flow?", LOGS):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "."}]
    return ChatSession(messages=messages, turns=turns)


def test_an_export_quotes_each_passage_with_its_page_and_a_refusals_closest() -> None:
    assert conversation_markdown(session_with_a_failed_answer(), "Pumps") == (
        "# Pumps\n"
        "\n"
        f"## 1. {VALVE}\n"
        "\n"
        "At 4 bar [1].\n"
        "\n"
        "[1] pumps/manual.pdf, page 3: \u201cThe relief valve opens at 4 bar.\u201d  \n"
        "\n"
        f"## 2. {LOGS}\n"
        "\n"
        "*No answer in the documents.* No passage answers it.\n"
        "\n"
        "Closest passages (not an answer):\n"
        "\n"
        "- notes.txt: \u201cThe pressure is logged every hour.\u201d\n"
    )


def test_a_conversation_whose_only_answer_failed_exports_as_none_answered() -> None:
    session = ChatSession(
        messages=[{"role": "user", "content": VALVE}, {"role": "assistant", "content": "error"}],
        turns=[None],
    )
    assert conversation_markdown(session) == "# Conversation\n\nNo questions answered yet.\n"


def test_document_text_in_an_export_stays_text_when_the_markdown_is_rendered() -> None:
    """Found by the third attack review: the page shows document text inert (ui/render.py), but
    the export wrote it raw, so conversation.md opened in a Markdown viewer that passes HTML
    through (Python-Markdown, pandoc, markdown-it with html) ran a document's
    ``<script>``/``<svg onload>`` and fetched its ``![](http://...)`` image (a beacon from an
    offline tool). Rendered here by a real CommonMark renderer with raw HTML allowed."""
    from markdown_it import MarkdownIt

    hostile = (
        "The token is QUOKKA77. <svg onload=alert(1)></svg> \\<script>alert(2)</script> "
        "![x](http://evil.example/beacon.png) [y](http://evil.example/) <http://evil.example/>"
    )
    cited = {"key": "c1", "index": 1, "source": "<img src=x onerror=alert(3)>.txt",
             "page": None, "text": hostile}  # fmt: skip
    answer = f"{hostile} [1]\n[1]: http://evil.example/ref\n<iframe src=javascript:alert(4)>"
    session = ChatSession(
        messages=[{"role": "user", "content": "<b>q</b>"}, {"role": "assistant", "content": "."}],
        turns=[Turn("<b onclick=alert(5)>q</b>", answer, False, citations=(cited,))],
    )
    html = MarkdownIt("commonmark", {"html": True}).render(conversation_markdown(session))
    for live in ("<svg", "<script", "<img", "<iframe", "<a ", "<b", "<http"):
        assert live not in html, html
    assert "QUOKKA77. &lt;svg onload=alert(1)&gt;&lt;/svg&gt;" in html  # shown, as text
    assert "[1]" in html
