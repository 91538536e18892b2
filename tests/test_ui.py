"""The chat page's handlers, called as Gradio would call them, without a server.

Real Chroma in tmp_path and the real embedding model; ``create_app`` wires the handlers and the
tests call the wired functions.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest

import rag
from evals.runner import load_questions
from rag import Answer, Citation, Settings
from rag.api import writing
from tests.conftest import system_calls
from tests.openai_server import Body, OpenAIServer, Reply, passage_with
from ui import feedback, render
from ui.app import NOISY_LOGGERS, create_app, main, parse_args, prepare_index, serve
from ui.export import KEEP_SECONDS, Exports, conversation_markdown, write_export
from ui.handlers import GENERIC_ERROR, ChatSession, Handlers
from ui.indexing import IndexProgress, IndexTracker
from ui.library import DEFAULT_SORT, Outline, View, outline
from ui.sealed import Sealer
from ui.uploads import UploadRejected, safe_name, save_upload

pytestmark = pytest.mark.slow

SERBIA = "Who is the president of Serbia?"
FIRST_SENTENCE = (
    "On this day, the Serbian president, Aleksandar Vučić, is set to speak by phone with "
    "Russia’s president, Vladimir Putin, to review a broad range of global and regional concerns."
)
MOON = (
    "Moonbase Tranquility Logbook.\n\n"
    "The station commander of Moonbase Tranquility is Ingrid Halvorsen, a geologist from Tromsø. "
    "The base grows potatoes in a greenhouse dug two metres under the regolith.\n"
)


def wired(app: gr.Blocks) -> dict[str, Callable[..., Any]]:
    """The functions create_app attached to events, by name."""
    return {str(block_fn.name): block_fn.fn for block_fn in app.fns.values() if block_fn.fn}


def ask_all(app: gr.Blocks, question: str, session: ChatSession, **options: Any) -> list[Any]:
    settings = {"k": 5, "mode": "hybrid", "backend": "extractive", **options}
    return list(
        wired(app)["ask"](question, session, settings["k"], settings["mode"], settings["backend"])
    )


def listed(app: gr.Blocks, query: str = "", sort: str = DEFAULT_SORT, page: int = 1) -> list[str]:
    """The file names of one page of the Documents table."""
    update, *_ = wired(app)["table"](query, sort, page)
    return [row[1] for row in update["value"]]


def files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


# Chat ------------------------------------------------------------------------------------------


def test_create_app_builds_the_page(settings: Settings) -> None:
    app = create_app(settings)
    assert isinstance(app, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
    assert {"chat", "question", "ask", "clear", "sources-panel", "upload", "delete"} <= ids
    assert {"ask", "upload", "resync", "delete", "clear"} <= set(wired(app))
    assert app.analytics_enabled is False


def test_restoring_the_conversation_leaves_a_typed_question_alone(settings: Settings) -> None:
    """The page's load event restores the stored conversation; a question typed before it
    returned was wiped, so Enter asked an empty question (seen in CI with two pages at once)."""
    app = create_app(settings)
    question = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "question")
    loads = [fn for fn in app.fns.values() if fn.name == "restore"]
    assert len(loads) == 1 and any("load" in str(t) for t in loads[0].targets)
    assert question not in loads[0].outputs
    assert len(loads[0].outputs) == 4


def test_enter_while_an_answer_comes_is_kept_for_after_it(settings: Settings) -> None:
    """Gradio's default trigger mode ("once") drops a submit while the last is pending."""
    app = create_app(settings)
    asks = [fn for fn in app.fns.values() if fn.name == "ask"]
    assert len(asks) == 3  # Enter, the Ask button, a picked example
    assert {fn.trigger_mode for fn in asks} == {"always_last"}


def test_the_queue_follows_the_settings(settings: Settings) -> None:
    """Issue 21: no "Queue is full" below the configured bound; the chat's concurrency too."""
    app = create_app(settings.with_(queue_size=300, chat_concurrency=7))
    assert app._queue.max_size == 300
    ask = next(fn for fn in app.fns.values() if fn.api_name == "ask")
    assert ask.concurrency_limit == 7
    # Monitoring is off: the queue keeps one event for it and does not summarise after each.
    assert app._queue.ANALYTICS_MAX_EVENTS == 1
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY >= 10**6


def test_extractive_answer_arrives_finished_with_markers_linked_to_highlighted_sources(
    seeded: Settings,
) -> None:
    app = create_app(seeded)
    session = ChatSession()
    updates = ask_all(app, SERBIA, session)

    messages, sources, state, question, notice, stored = updates[0]
    assert messages == [
        {"role": "user", "content": '<div class="question">Who is the president of Serbia?</div>'},
        {"role": "assistant", "content": render.streaming_message("")},
    ]
    assert (question, notice, state) == ("", "", session)
    # The question at once, then the answer finished: an extractive answer is complete before
    # its first word, and each update carries the whole conversation (issue 21). The first
    # leaves the sources panel and the stored conversation as they were (not sent again).
    assert sources == gr.skip() and stored == gr.skip()
    assert len(updates) == 2
    # Only taking the question empties the box: the answer's end leaves it alone, so a question
    # typed meanwhile is kept (a later "" wiped it, and Enter then asked an empty question).
    assert updates[-1][3] == gr.skip()
    stored_for = Sealer.for_store(seeded.store_dir).open  # sealed for its user (nobody here)
    assert stored_for(updates[-1][5], None) == json.loads(json.dumps(session.to_json()))

    expected = rag.answer(SERBIA, settings=seeded)
    messages, sources, *_ = updates[-1]
    assert messages[-1]["content"] == render.answer_message(expected, 1)
    assert '<a class="cite" href="#src-1-1" data-turn="1" data-cite="1"' in messages[-1]["content"]
    assert expected.citations[0].text.startswith(FIRST_SENTENCE)  # with its short paragraph
    assert 'id="src-1-1"><div class="source-head"><span class="source-index">[1]</span>' in sources
    assert f"<mark>{escape(expected.citations[0].text)}</mark>" in sources
    # The panel shows the score of the answer computed apart from the page, to two decimals.
    shown = re.findall(
        r'id="src-1-1">.*?<span class="source-score">score (\d\.\d\d)</span>', sources
    )
    assert shown == [f"{expected.citations[0].score:.2f}"]
    assert session.history == [(SERBIA, expected.text)]


def test_follow_up_passes_history_and_folds_earlier_sources(seeded: Settings) -> None:
    app = create_app(seeded)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    updates = ask_all(app, "When?", session)

    messages, sources, *_ = updates[-1]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert "Vučić" in messages[-1]["content"]
    assert 'href="#src-2-1"' in messages[-1]["content"]
    assert [q for q, _ in session.history] == [SERBIA, "When?"]
    # Alone, the follow-up means nothing: the history is what made it answerable.
    alone, *_ = ask_all(app, "When?", ChatSession())[-1]
    assert 'class="refusal"' in alone[-1]["content"]
    # The latest answer's sources come first; the first answer's are folded below.
    assert sources.index('id="src-2-1"') < sources.index("<details")
    assert sources.index("<details") < sources.index('id="src-1-1"')


def test_refusal_is_a_note_not_an_error(seeded: Settings) -> None:
    app = create_app(seeded)
    messages, sources, *_ = ask_all(app, "What is the boiling point of mercury?", ChatSession())[-1]
    assert messages[-1]["content"] == (
        '<div class="refusal"><span class="refusal-title">No answer in your documents.</span> '
        "The documents do not contain an answer to this question.</div>"
    )
    assert "No passage answers this question" in sources
    assert "notice-error" not in messages[-1]["content"]
    # The closest sentences are shown, marked as not an answer, never numbered as citations.
    expected = rag.answer("What is the boiling point of mercury?", settings=seeded)
    assert expected.refused and expected.closest
    assert "Closest passages (not an answer)" in sources
    assert sources.count('class="badge-closest"') == len(expected.closest)
    assert 'class="source-index"' not in sources
    for near in expected.closest:
        assert f"<mark>{render._esc(near.text)}</mark>" in sources


def test_clear_starts_a_new_session(seeded: Settings) -> None:
    app = create_app(seeded)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    messages, sources, state, question, notice, stored = wired(app)["clear"]()
    assert (messages, sources, question, notice) == ([], render.EMPTY_SOURCES, "", "")
    assert state == ChatSession() and state is not session
    # The browser forgets it too: what it keeps now opens as an empty conversation.
    assert Sealer.for_store(seeded.store_dir).open(stored, None) == ChatSession().to_json()


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Type a question first: the question is empty."),
        ("   \n ", "Type a question first: the question is empty."),
        (
            "x" * 100_000,
            "The question is 100,000 characters long; the limit is 2,000. "
            "Shorten it and ask again.",
        ),
    ],
)
def test_bad_questions_get_a_message_and_change_nothing(
    seeded: Settings, question: str, message: str
) -> None:
    app = create_app(seeded)
    session = ChatSession()
    updates = ask_all(app, question, session)
    assert len(updates) == 1
    messages, _, state, kept, notice, stored = updates[0]
    assert notice == render.notice(message)
    assert messages == [] and state == ChatSession()
    assert kept == gr.skip()  # the box is left alone: the text stays there to be edited
    assert Sealer.for_store(seeded.store_dir).open(stored, None) == ChatSession().to_json()


def test_unconfigured_backend_and_bad_mode_are_explained(seeded: Settings) -> None:
    app = create_app(seeded)
    *_, notice, _ = ask_all(app, SERBIA, ChatSession(), backend="openai")[-1]
    assert notice == render.notice(
        "The 'openai' backend is not configured on this server: set OPENAI_BASE_URL or "
        "OPENAI_API_KEY and restart, or pick extractive."
    )
    *_, notice, _ = ask_all(app, SERBIA, ChatSession(), mode="fuzzy")[-1]
    assert "Unknown retrieval mode &#x27;fuzzy&#x27;" in notice


def test_bad_k_is_explained(seeded: Settings) -> None:
    *_, notice, _ = ask_all(create_app(seeded), SERBIA, ChatSession(), k="many")[-1]
    assert notice == render.notice("k must be a whole number from 1 to 20 (got 'many').")


def test_session_settings_are_per_call(seeded: Settings) -> None:
    handlers = Handlers(seeded)
    assert handlers.session_settings(2, "bm25", "extractive") == seeded.with_(k=2, mode="bm25")
    assert handlers.settings == seeded  # the server's settings are untouched
    with_openai = Handlers(seeded.with_(openai_base_url="http://127.0.0.1:9/v1"))
    assert with_openai.session_settings(5, "dense", "openai").llm == "openai"


def test_bm25_mode_answers_with_one_passage(seeded: Settings) -> None:
    app = create_app(seeded)
    messages, sources, *_ = ask_all(app, SERBIA, ChatSession(), k=1, mode="bm25")[-1]
    assert 'href="#src-1-1"' in messages[-1]["content"]
    assert "Vučić" in sources


def test_unexpected_errors_show_a_generic_message(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(rag, "stream_answer", broken)
    app = create_app(seeded)
    with caplog.at_level(logging.ERROR, logger="ui"):
        messages, *_ = ask_all(app, SERBIA, ChatSession())[-1]
    assert messages[-1]["content"] == render.notice(GENERIC_ERROR, "error")
    assert "secret internal detail" not in messages[-1]["content"]
    assert "RuntimeError: secret internal detail" in caplog.text


def test_rag_errors_show_their_message(tmp_path: Path) -> None:
    missing = Settings(docs_dir=tmp_path / "missing", store_dir=tmp_path / "store")
    app = create_app(missing)
    messages, *_ = ask_all(app, SERBIA, ChatSession())[-1]
    assert 'class="notice notice-error"' in messages[-1]["content"]
    assert "does not exist: create it and add" in messages[-1]["content"]
    assert "Traceback" not in messages[-1]["content"]


def test_openai_backend_streams_and_flags_unverified_citations(seeded: Settings) -> None:
    claim = "Serbia joined BRICS as a full member in 2020"

    def reply(body: Body) -> str:
        phone = passage_with(body, "speak by phone")
        return f"Vučić speaks by phone with Putin today [{phone}]. {claim} [{phone}]."

    with OpenAIServer() as server:
        server.script(Reply(reply))
        app = create_app(seeded.with_(openai_base_url=server.url, openai_api_key="sk-test"))
        updates = ask_all(app, "When will Vučić speak with Putin?", ChatSession(), backend="openai")
        assert server.requests[0].body["stream"] is True

    assert len(updates) > 5  # the model's deltas arrive one by one
    # The box is emptied when the question is taken, and never written again while it streams.
    assert [update[3] for update in updates] == ["", *[gr.skip()] * (len(updates) - 1)]
    messages, sources, *_ = updates[-1]
    answer = messages[-1]["content"]
    assert '<a class="cite" href="#src-1-1"' in answer
    # The unsupported claim and its citation leave the answer, shown only in the note (issue 13).
    assert '<a class="cite" href="#src-1-2"' not in answer
    assert f"Not supported by the documents: “{claim}”" in answer
    assert '<div class="source" id="src-1-1">' in sources
    assert 'id="src-1-2"' not in sources
    assert f"<mark>{escape(FIRST_SENTENCE)}</mark>" in sources


# Rendering -------------------------------------------------------------------------------------


def test_passage_highlights_the_span_with_escaped_context() -> None:
    text = "Intro words here. The <b>cited</b> & quoted part. Trailing words after it."
    start = text.index("The")
    end = text.index(" Trailing")
    assert render.passage_html(text, start, end, context=12) == (
        "…here. <mark>The &lt;b&gt;cited&lt;/b&gt; &amp; quoted part.</mark> Trailing…"
    )
    assert render.passage_html(text, 0, 5, context=1000) == (
        "<mark>Intro</mark>" + escape(text[5:])
    )


def test_scores_are_shown_to_two_decimals() -> None:
    citation = Citation(1, "notes.md", "claimed words", 0, 13, 0.9666)
    html = render.citation_html(citation, 1, lambda source: "claimed words and more")
    assert '<span class="source-score">score 0.97</span>' in html


def test_unverified_citations_are_marked() -> None:
    citation = Citation(1, "notes.md", "claimed words", 0, 13, 0.4, page=3, verified=False)
    answer = Answer("q", "A claim [1].", [citation])
    html = render.citation_html(citation, 1, lambda source: "claimed words and more")
    assert '<div class="source unverified" id="src-1-1">' in html
    assert '<span class="source-page">page 3</span>' in html
    assert ">unverified</span>" in html
    assert "(some citations could not be verified)" in render.answer_message(answer, 1)


def test_markers_without_a_citation_stay_text_and_html_is_escaped() -> None:
    citation = Citation(1, "a<b>.txt", "x", 0, 1, 1.0)
    html = render.link_markers("<script>x</script> [1] and [7]\nnext", [citation], 4)
    assert html == (
        "&lt;script&gt;x&lt;/script&gt; "
        '<a class="cite" href="#src-4-1" data-turn="4" data-cite="1" title="a&lt;b&gt;.txt">[1]</a>'
        " and &#91;7&#93;<br>next"
    )


# Uploads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "saved_as"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("bad\x00na\nme<>.html", "badname.html"),
        ("ends with dots.txt...", "ends with dots.txt"),
    ],
)
def test_safe_name_keeps_only_a_plain_base_name(name: str, saved_as: str) -> None:
    assert safe_name(name) == saved_as


@pytest.mark.parametrize("name", ["", "   ", "..", "../", "dir/", ".hidden.txt", "../.env.md"])
def test_safe_name_refuses_hidden_and_empty_names(name: str) -> None:
    with pytest.raises(UploadRejected):
        safe_name(name)


def test_save_upload_never_writes_outside_the_folder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    source = tmp_path / "upload.bin"
    source.write_text("hello", encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    (docs / "linked.txt").symlink_to(outside)

    assert save_upload(source, "../outside.txt", docs, 1).path == docs.resolve() / "outside.txt"
    linked = save_upload(source, "linked.txt", docs, 1)
    assert linked.path == docs.resolve() / "linked.txt" and linked.replaced
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert not (docs / "linked.txt").is_symlink()
    assert files_under(docs) == {Path("outside.txt"), Path("linked.txt")}


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see the fsyncs")
def test_an_upload_is_on_the_disk_before_it_is_reported_added(tmp_path: Path) -> None:
    """Attack review: an upload was copied and renamed without fsync, so a power cut after the
    page said "Added" (and after the sync fsynced the index entry made from it) could leave an
    empty or missing file, which the next sync then dropped. The system calls of a real
    save_upload, seen by strace: the file is fsynced before its rename, the folder after."""
    docs = tmp_path / "docs"
    docs.mkdir()
    source = tmp_path / "upload.txt"
    source.write_text(MOON, encoding="utf-8")
    trace = tmp_path / "trace.log"
    code = (
        "import sys; from pathlib import Path; from ui.uploads import save_upload; "
        "save_upload(Path(sys.argv[1]), 'moon.txt', Path(sys.argv[2]), 1)"
    )
    calls = system_calls(
        code, [str(source), str(docs)], "openat,fsync,rename,renameat,renameat2", trace
    )
    renamed = next(i for i, line in enumerate(calls) if "rename" in line and "moon.txt" in line)
    synced, opened = [], {}  # (line, path) of each fsync; file descriptor -> path, as it goes
    for i, call in enumerate(calls):
        if found := re.search(r'openat\(.*?"([^"]+)".*= (\d+)$', call):
            opened[found[2]] = found[1]
        elif found := re.search(r"fsync\((\d+)", call):
            synced.append((i, opened.get(found[1], "")))
    assert any(i < renamed and ".upload-" in path for i, path in synced), calls
    assert any(i > renamed and path == str(docs.resolve()) for i, path in synced), calls
    assert (docs / "moon.txt").read_text(encoding="utf-8") == MOON


def _upload_file(folder: Path, name: str, content: bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return str(path)


def test_upload_saves_indexes_and_answers(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    fns = wired(app)
    before = files_under(tmp_path)
    upload = _upload_file(tmp_path / "gradio-cache", "moonbase.txt", MOON.encode())
    message = fns["upload"]([upload])

    assert message.startswith(
        '<div class="notice notice-success" role="status">Added moonbase.txt.'
    )
    assert (settings.docs_dir / "moonbase.txt").read_text(encoding="utf-8") == MOON
    assert listed(app) == ["000_f1c14fb623d5a113.txt", "moonbase.txt"]
    written = files_under(tmp_path) - before
    assert {p for p in written if p.parts[0] not in ("docs", "store", "gradio-cache")} == set()

    messages, sources, *_ = ask_all(
        app, "Who is the station commander of Moonbase Tranquility?", ChatSession()
    )[-1]
    assert "Ingrid Halvorsen" in messages[-1]["content"]
    assert '<span class="source-file">moonbase.txt</span>' in sources


def test_a_question_of_exactly_the_limit_is_asked(settings: Settings) -> None:
    handlers = Handlers(settings.with_(max_question_chars=40))
    limited = handlers.settings
    assert handlers.check_question("x" * 40, limited) is None
    assert handlers.check_question("  " + "x" * 40 + "\n", limited) is None  # counted stripped
    assert handlers.check_question("x" * 41, limited) == (
        "The question is 41 characters long; the limit is 40. Shorten it and ask again."
    )


def test_an_upload_the_sync_would_skip_never_replaces_the_document(
    settings: Settings, tmp_path: Path
) -> None:
    """A replacement over RAG_MAX_FILE_MB (under the upload limit) is refused before it
    replaces anything: the old document stays on disk and in the index. The old page checked
    only that it could be read, replaced the file, and then the sync skipped it: the old text
    was gone from the folder and the index, while the page said it was not added (a planted
    bug's review found it)."""
    small = settings.with_(max_file_mb=0.002)
    (settings.docs_dir / "notes.txt").write_text(MOON, encoding="utf-8")
    rag.ingest(settings=small)
    app = create_app(small)
    big = _upload_file(tmp_path / "gradio-cache", "notes.txt", b"Moonbase news. " * 400)
    message = wired(app)["upload"]([big])
    assert message == render.notice(
        "Nothing was uploaded. notes.txt: 0.0 MB is over the 0.002 MB limit for a file (raise "
        "RAG_MAX_FILE_MB to index it); it was not added.",
        "error",
    )
    assert (settings.docs_dir / "notes.txt").read_text(encoding="utf-8") == MOON
    assert "notes.txt" in listed(app)
    answer = rag.answer("Who is the station commander of Moonbase Tranquility?", settings=small)
    assert "Ingrid Halvorsen" in answer.text
    assert sorted(p.name for p in settings.docs_dir.iterdir() if p.name.startswith(".")) == []


def test_bad_uploads_are_refused_with_reasons(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.with_(max_upload_mb=0.01))
    fns = wired(app)
    cache = tmp_path / "gradio-cache"
    files = [
        _upload_file(cache / "a", "tool.exe", b"MZ binary"),
        _upload_file(cache / "b", "big.txt", b"word " * 5000),
        _upload_file(cache / "c", ".hidden.md", b"# hidden"),
        _upload_file(cache / "d", "empty.txt", b""),
    ]
    before = files_under(settings.docs_dir)
    message = fns["upload"](files)
    assert message == render.notice(
        "Nothing was uploaded. "
        "tool.exe: .exe cannot be indexed; upload .txt, .md, .markdown, .html, .htm, .rst, .pdf, "
        ".docx files. "
        "big.txt: 0.0 MB is over the 0.01 MB upload limit; split the file or raise "
        "RAG_MAX_UPLOAD_MB. "
        "'.hidden.md': hidden file names (starting with a dot) are not accepted; rename the file "
        "and retry. "
        "empty.txt: the file is empty.",
        "error",
    )
    assert files_under(settings.docs_dir) == before
    message = fns["upload"]([])
    assert message == render.notice("Choose one or more files to upload.")


def test_unreadable_upload_is_reported_and_not_kept(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    fake_pdf = _upload_file(tmp_path / "cache", "scan.pdf", b"not really a pdf")
    message = wired(app)["upload"]([fake_pdf])
    assert 'class="notice notice-error"' in message
    assert "scan.pdf: " in message and "it was not added." in message
    assert not (settings.docs_dir / "scan.pdf").exists()
    assert "scan.pdf" not in listed(app)


def _ask_moon(app: gr.Blocks) -> tuple[str, str]:
    messages, sources, *_ = ask_all(
        app, "Who is the station commander of Moonbase Tranquility?", ChatSession()
    )[-1]
    return messages[-1]["content"], sources


def test_bad_upload_over_a_document_keeps_it_and_its_index_entry(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings)
    fns = wired(app)
    good = _upload_file(tmp_path / "cache" / "a", "real.txt", MOON.encode())
    message = fns["upload"]([good])
    assert "Added real.txt." in message
    before = rag.documents(settings)

    binary = _upload_file(tmp_path / "cache" / "b", "real.txt", b"\x00\x01binary\x00" * 50)
    message = fns["upload"]([binary])
    assert message == render.notice(
        "Nothing was uploaded. real.txt: binary file (not text); it was not added.", "error"
    )
    assert (settings.docs_dir / "real.txt").read_text(encoding="utf-8") == MOON
    assert not [p for p in settings.docs_dir.iterdir() if p.name.startswith(".")]
    assert "real.txt" in listed(app)
    assert rag.documents(settings) == before
    answer, sources = _ask_moon(app)
    assert "Ingrid Halvorsen" in answer
    assert '<span class="source-file">real.txt</span>' in sources
    # A later sync still finds the original, unchanged.
    message = fns["resync"]()
    assert "0 updated, 0 removed" in message


def test_good_reupload_replaces_the_document_and_its_index_entry(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings)
    fns = wired(app)
    fns["upload"]([_upload_file(tmp_path / "cache" / "a", "real.txt", MOON.encode())])
    newer = MOON.replace("Ingrid Halvorsen, a geologist", "Tomasz Wierzbicki, a botanist")
    message = fns["upload"]([_upload_file(tmp_path / "cache" / "b", "real.txt", newer.encode())])
    assert message.startswith(
        '<div class="notice notice-success" role="status">Replaced real.txt. 2 files,'
    )
    assert "Added" not in message
    assert (settings.docs_dir / "real.txt").read_text(encoding="utf-8") == newer
    assert listed(app) == ["000_f1c14fb623d5a113.txt", "real.txt"]
    answer, sources = _ask_moon(app)
    assert "Tomasz Wierzbicki" in answer and "Ingrid Halvorsen" not in answer
    assert '<span class="source-file">real.txt</span>' in sources
    assert "Ingrid" not in rag.document_text("real.txt", settings)


# Documents -------------------------------------------------------------------------------------


def test_delete_asks_first_then_removes(settings: Settings) -> None:
    rag.ingest(settings=settings)
    app = create_app(settings)
    fns = wired(app)
    source = "000_f1c14fb623d5a113.txt"

    box, question, notice = fns["ask_delete"]([source])
    assert box["visible"] is True
    assert question == (
        '<p class="confirm-question">Delete 000&#95;f1c14fb623d5a113.txt from the index and the '
        "documents folder? This cannot be undone.</p>"
    )
    box, notice = fns["cancel_delete"]()
    assert box["visible"] is False and (settings.docs_dir / source).exists()

    chunks = rag.documents(settings).total_chunks
    box, notice, chosen = fns["delete"]([source])
    assert notice == render.notice(f"Deleted {source} ({chunks} chunks).", "success")
    assert chosen["value"] == [] and box["visible"] is False
    assert not (settings.docs_dir / source).exists()
    assert rag.documents(settings).documents == []
    assert listed(app) == []
    assert wired(app)["table"]("", DEFAULT_SORT, 1)[1].startswith("Nothing is indexed yet")

    box, notice, *_ = fns["delete"]("../../etc/passwd")
    assert notice == render.notice("../../etc/passwd is not indexed (any more): refresh the list.")
    box, question, notice = fns["ask_delete"]([])
    assert box["visible"] is False and "Select the rows" in notice


def test_resync_picks_up_new_files(settings: Settings) -> None:
    rag.ingest(settings=settings)
    (settings.docs_dir / "added.md").write_text("# Added\n\nA new note about otters.\n", "utf-8")
    app = create_app(settings)
    message = wired(app)["resync"]()
    assert message == render.notice(
        "Synced: 1 added, 0 updated, 0 removed, 1 unchanged; "
        f"{rag.documents(settings).total_chunks} chunks in 2 files.",
        "success",
    )
    assert "added.md" in listed(app)


def test_documents_table_lists_titles_and_sizes(seeded: Settings) -> None:
    update, label, page, _ = wired(create_app(seeded))["table"]("", DEFAULT_SORT, 1)
    status = rag.documents(seeded)
    (doc,) = status.documents
    text = rag.document_text(doc.source, seeded)
    title = "On this day, the Serbian president, Aleksandar Vučić, is set to speak by phone with…"
    assert text.startswith(title[:-1]) and outline(text, doc.source) == Outline(title, (), False)
    assert update["value"] == [
        [title, doc.source, "txt", doc.chunks, "3.3 KB", doc.synced_at[:16].replace("T", " ")]
    ]
    assert (label, page) == ("Page 1 of 1 · 1 documents", 1)


# Launch options --------------------------------------------------------------------------------


def test_host_and_port_from_flags_then_env_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_HOST", raising=False)
    monkeypatch.delenv("RAG_PORT", raising=False)
    args = parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    monkeypatch.setenv("RAG_HOST", "0.0.0.0")
    monkeypatch.setenv("RAG_PORT", "8123")
    args = parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 8123)
    args = parse_args(["--host", "127.0.0.2", "--port", "9000"])
    assert (args.host, args.port) == ("127.0.0.2", 9000)
    monkeypatch.setenv("RAG_PORT", "eighty")
    with pytest.raises(SystemExit):
        parse_args([])


@pytest.fixture
def restore_log_levels() -> Iterator[None]:
    """main() quiets some loggers; later tests of other modules expect them untouched."""
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_log_levels")
def test_main_explains_a_busy_port(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # the page is served first, then the folder synced: nothing was started
    assert err.startswith(f"error: cannot serve on 127.0.0.1:{port} (")
    assert err.endswith("pick another port with --port or RAG_PORT.\n")
    assert "Traceback" not in out + err


def test_an_empty_folder_is_served_for_uploads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-docs"
    settings = Settings(docs_dir=empty, store_dir=tmp_path / "store")
    tracker = IndexTracker(settings)
    prepare_index(settings, tracker)
    assert tracker._thread is not None
    tracker._thread.join(120)
    out, _ = capsys.readouterr()
    assert empty.is_dir()
    assert f"warning: No documents found in {empty}" in out
    assert "Add documents on the page's Documents tab." in out
    progress = tracker.progress
    assert (progress.running, progress.banner_text, progress.version) == (False, "", 1)
    assert progress.error.startswith("No documents found in")
    # No examples, and a line saying how to add documents.
    app = create_app(settings, tracker)
    tick = wired(app)["tick"](-1, View())
    banner, _, version, header, examples, hint = tick[:6]
    assert (banner["visible"], version, examples["examples"]) == (False, 1, None)
    assert "0 documents" in header
    assert "Nothing is indexed yet: add documents on the Documents tab" in hint["value"]
    assert hint["visible"] is True


# Indexing while serving ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_page_is_served_and_says_so_while_indexing(settings: Settings) -> None:
    """Another writer holds the index: the page answers at once, with a banner, and a question
    asked before any document is indexed gets a note, not a wait."""
    tracker = IndexTracker(settings)
    app = create_app(settings, tracker)
    port = free_port()
    with writing(settings):  # the sync below waits for this writer
        url = serve(app, settings, "127.0.0.1", port)
        try:
            tracker.start()
            deadline = time.monotonic() + 30
            while not tracker.running and time.monotonic() < deadline:
                time.sleep(0.05)
            page = httpx.get(url, timeout=30)
            assert page.status_code == 200 and "<html" in page.text.lower()
            banner, line, version, header, *_ = wired(app)["tick"](-1, View())
            assert banner["value"] == render.banner_html(
                "Indexing: read 0 of 1 files - answers may be incomplete"
            )
            assert banner["visible"] is True
            assert "Indexing: read 0 of 1 files" in line
            assert "(indexing…)" in header
            *_, notice, _ = ask_all(app, SERBIA, ChatSession())[-1]
            assert notice == render.notice(
                "Indexing: read 0 of 1 files: no document is indexed yet. Ask again soon.", "info"
            )
        finally:
            pass
    try:
        assert tracker._thread is not None
        tracker._thread.join(180)
        banner, line, version, header, _examples, *_ = wired(app)["tick"](0, View())
        assert (banner["value"], banner["visible"], line, version) == ("", False, "", 1)
        assert "1 document" in header and "(indexing" not in header
        messages, *_ = ask_all(app, SERBIA, ChatSession())[-1]
        assert "Vučić" in messages[-1]["content"]
        assert "incomplete" not in messages[-1]["content"]
    finally:
        app.close()


def test_an_open_tab_polls_and_the_page_refreshes_only_on_a_change(seeded: Settings) -> None:
    """Issue 21: every open tab asks each second. The timer sets one hidden value (poll); the
    page's refresh (tick, ten outputs: about 8 ms of the server's CPU even when it changes
    nothing) runs on its change: at the first poll, after a sync, after an upload."""
    tracker = IndexTracker(seeded)
    app = create_app(seeded, tracker)
    url = serve(app, seeded, "127.0.0.1", free_port())
    try:
        dependencies = httpx.get(url + "config", timeout=30).json()["dependencies"]
        timer = next(d for d in dependencies if any(t[1] == "tick" for t in d["targets"]))
        (polled,) = timer["outputs"]
        refresh = next(d for d in dependencies if [polled, "change"] in d["targets"])
        assert refresh["api_name"] == "tick" and len(refresh["outputs"]) == 10

        def poll() -> str:
            body = {"fn_index": timer["id"], "data": [None], "session_hash": "one-tab"}
            reply = httpx.post(url + "gradio_api/run/predict", json=body, timeout=30)
            assert reply.status_code == 200, reply.text
            (value,) = reply.json()["data"]
            return str(value)

        first = poll()
        assert poll() == first  # nothing changed: the page does not refresh
        tracker.sync()
        after_sync = poll()
        assert after_sync not in ("", first)  # a sync ended: the lists are refreshed
        assert poll() == after_sync
    finally:
        app.close()


def page_events(url: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The served page's components (id by elem_id) and its events, from Gradio's config."""
    config = httpx.get(url + "config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    return ids, config["dependencies"]


def predict(url: str, event: dict[str, Any], values: dict[int, Any], tab: str) -> list[Any]:
    """Run one event of the served page in the session ``tab``, its inputs taken from
    ``values`` by component id (None for the rest, as a State's); its outputs."""
    data = [values.get(i) for i in event["inputs"]]
    body = {"fn_index": event["id"], "data": data, "session_hash": tab}
    reply = httpx.post(url + "gradio_api/run/predict", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["data"])


def test_a_refresh_shows_the_filter_applied_last_not_the_one_it_was_sent_with(
    seeded: Settings,
) -> None:
    """A refresh (tick) the page sent before a filter was typed, carrying the old filter, ran
    after the filtered table and put the unfiltered one back (the browser test of deleting rows,
    under load). Over HTTP, in one page's session: the filter is applied, then a refresh arrives
    with what the page held before it; the table stays filtered."""
    app = create_app(seeded, IndexTracker(seeded))
    url = serve(app, seeded, "127.0.0.1", free_port())
    try:
        ids, dependencies = page_events(url)
        box, sort, page, label = (
            ids[name] for name in ("docs-filter", "docs-sort", "docs-page", "docs-page-label")
        )
        filtering = next(d for d in dependencies if [box, "change"] in d["targets"])
        refresh = next(d for d in dependencies if d["api_name"] == "tick")

        def run(dependency: dict[str, Any], values: dict[int, Any]) -> str:
            out = predict(url, dependency, values, "one-tab")
            return str(out[dependency["outputs"].index(label)])

        filtered = "Page 1 of 1 · 0 of 1 documents match"
        assert run(filtering, {box: "no such title", sort: DEFAULT_SORT}) == filtered
        before = {box: "", sort: DEFAULT_SORT, page: 1}  # the page's values when it was sent
        assert run(refresh, before) == filtered
        assert run(filtering, {box: "", sort: DEFAULT_SORT}) == "Page 1 of 1 · 1 documents"
    finally:
        app.close()


def test_answers_given_while_indexing_carry_a_note(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = IndexTracker(seeded)
    running = IndexProgress(
        running=True, files_done=1, files_total=3, chunks_total=10, phase="storing"
    )
    monkeypatch.setattr(IndexTracker, "progress", property(lambda self: running))
    monkeypatch.setattr(IndexTracker, "running", property(lambda self: True))
    messages, *_ = ask_all(create_app(seeded, tracker), SERBIA, ChatSession())[-1]
    assert messages[-1]["content"].endswith(
        render.incomplete_note("Indexing 1 of 3 files - answers may be incomplete")
    )
    assert "the answer may be incomplete" in messages[-1]["content"]


def test_examples_come_from_the_documents(seeded: Settings) -> None:
    app = create_app(seeded)
    _, _, _version, header, examples, hint, *_ = wired(app)["tick"](-1, View())
    (doc,) = rag.documents(seeded).documents
    # The seed has no title (its first line is a paragraph): the question names the file.
    assert examples["examples"] == [{"text": f"What is {doc.source} about?"}]
    assert hint == {"__type__": "update", "value": "", "visible": False}
    assert f"{seeded.docs_dir.resolve()}" in header and "1 document" in header


def test_outline_reads_titles_and_headings() -> None:
    markdown = "# Harbour guide\n\nIntro.\n\n## Opening hours\n\nText.\n\n## Fees ##\n"
    assert outline(markdown, "a.md") == Outline("Harbour guide", ("Opening hours", "Fees"))
    plain = "Harbour guide\n\nOpening hours\n\nThe harbour opens at 6.\nIt closes at 9.\n"
    assert outline(plain, "a.txt") == Outline("Harbour guide", ("Opening hours",))
    assert outline("", "dir/notes.txt") == Outline("notes", titled=False)
    assert outline("12345\n\nsome text.", "n.txt") == Outline("n", titled=False)
    untitled = "A first paragraph that is a sentence, not a title.\n\nConclusion\n\nEnd.\n"
    assert outline(untitled, "u.txt") == Outline(
        "A first paragraph that is a sentence, not a title.", ("Conclusion",), True
    )


# Documents table: filter, sort, pages, selection ---------------------------------------------


def test_documents_filter_sort_and_pages(settings: Settings) -> None:
    for i in range(30):
        kind = "Otter" if i % 3 == 0 else "Heron"
        body = f"{kind} note {i:02d}\n\nThe {kind.lower()} number {i} " + "swims. " * (i + 1)
        (settings.docs_dir / f"note-{i:02d}.txt").write_text(body, encoding="utf-8")
    rag.ingest(settings=settings)
    app = create_app(settings)
    table = wired(app)["table"]
    update, label, page, _ = table("", DEFAULT_SORT, 1)
    assert (label, page, len(update["value"])) == ("Page 1 of 2 · 31 documents", 1, 25)
    update, label, page, _ = table("", DEFAULT_SORT, 9)  # past the end: the last page
    assert (label, page) == ("Page 2 of 2 · 31 documents", 2)
    assert [row[1] for row in update["value"]][-1] == "note-29.txt"
    update, label, *_ = table("otter note", DEFAULT_SORT, 1)
    assert label == "Page 1 of 1 · 10 of 31 documents match"
    assert [row[0] for row in update["value"]] == [f"Otter note {i:02d}" for i in range(0, 30, 3)]
    update, *_ = table("otter", "Size (largest first)", 1)
    assert [row[1] for row in update["value"]][:2] == ["note-27.txt", "note-24.txt"]
    update, *_ = table("", "Title (A-Z)", 1)
    assert update["value"][0][0].startswith("Heron note 01")
    assert table("", DEFAULT_SORT, 2)[0]["value"][0][1] == "note-24.txt"


def test_selected_rows_are_named_in_the_confirmation(settings: Settings) -> None:
    (settings.docs_dir / "otters.md").write_text("# Otters\n\nOtters hold hands.\n", "utf-8")
    rag.ingest(settings=settings)
    fns = wired(create_app(settings))
    row = ["Otters", "otters.md", "md", 1, "1 KB", ""]
    event = gr.SelectData(None, {"index": [0, 1], "value": "otters.md", "row_value": row})
    chosen = fns["select_row"]([], event)
    assert chosen["value"] == ["otters.md"]
    assert fns["select_row"](["otters.md"], event)["value"] == []  # a second click unselects
    seed = "000_f1c14fb623d5a113.txt"
    _box, question, _ = fns["ask_delete"]([seed, "otters.md"])
    assert question == render.confirm_html(
        f"Delete {seed} and otters.md (2 documents) from the index and the documents folder? "
        "This cannot be undone."
    )
    _, notice, _ = fns["delete"]([seed, "otters.md"])
    assert notice.startswith('<div class="notice notice-success" role="status">Deleted ')
    assert "otters.md (1 chunk)." in notice
    assert rag.documents(settings).documents == []


# Conversations: kept in the browser, exported --------------------------------------------------


def test_conversation_survives_a_reload_as_json(seeded: Settings) -> None:
    app = create_app(seeded)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    finished = ask_all(app, "What is the boiling point of mercury?", session)[-1]
    stored = json.loads(json.dumps(finished[5]))  # what the browser keeps, sent with the answer
    messages, sources, restored, _notice = wired(app)["restore"](stored)
    assert restored == session
    assert messages == session.messages and sources == render.sources_panel(session.sources)
    assert wired(app)["restore"](None)[2] == ChatSession()
    assert wired(app)["restore"]({"version": 1, "messages": [{"role": "x"}]})[2] == ChatSession()
    sealer = Sealer.for_store(seeded.store_dir)  # the page's key, from the store folder
    opened = sealer.open(stored, None)
    assert opened is not None
    damaged = {**opened, "turns": opened["turns"][:1]}  # turns no longer match the answers
    assert wired(app)["restore"](sealer.seal(damaged, None))[2] == ChatSession()


def test_the_conversation_a_browser_keeps_opens_only_on_this_server_for_its_user(
    seeded: Settings, tmp_path: Path
) -> None:
    """Gradio encrypts the browser's storage with a secret every page is sent: another user
    of the same browser decrypted the last one's questions (an attacker's review). What the
    page stores is sealed with the server's key for the user who saved it: it holds none of
    the conversation's text, opens after a restart (the key is kept in the store folder,
    0600), and not for another user, once changed, or under another server's key."""
    app = create_app(seeded)
    session = ChatSession()
    stored = ask_all(app, SERBIA, session)[-1][5]
    assert isinstance(stored, str)
    raw = base64.urlsafe_b64decode(stored)
    assert b"Serbia" not in raw and "Vučić".encode() not in raw and b"president" not in raw
    key = seeded.store_dir / "conversations.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    restart = wired(create_app(seeded))["restore"]
    assert restart(stored)[2] == session
    bob = gr.Request(username="bob")
    assert restart(stored, bob)[2] == ChatSession()  # saved by nobody signed in: not bob's
    sealer = Sealer.for_store(seeded.store_dir)
    assert restart(sealer.seal(session.to_json(), "bob"), bob)[2] == session
    assert restart(sealer.seal(session.to_json(), "bob"), gr.Request(username="rita"))[2] == (
        ChatSession()
    )
    changed = stored[:-8] + ("A" if stored[-8] != "A" else "B") + stored[-7:]
    assert restart(changed)[2] == ChatSession()
    elsewhere = Sealer.for_store(tmp_path / "another-store")
    assert restart(elsewhere.seal(session.to_json(), None))[2] == ChatSession()
    assert restart({**session.to_json(), "user": None})[2] == ChatSession()  # the old plain form


def test_export_is_markdown_with_quoted_citations(seeded: Settings) -> None:
    app = create_app(seeded)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    ask_all(app, "What is the boiling point of mercury?", session)
    update = wired(app)["export"](session)
    text = Path(update["value"]).read_text(encoding="utf-8")
    answer = rag.answer(SERBIA, settings=seeded)
    assert text.startswith(f"# Conversation\n\n## 1. {SERBIA}\n\n{answer.text}\n\n")
    assert f"[1] 000_f1c14fb623d5a113.txt: “{FIRST_SENTENCE}" in text  # its paragraph goes on
    assert "## 2. What is the boiling point of mercury?\n\n*No answer in the documents.*" in text
    assert text == conversation_markdown(session)


def test_exports_do_not_pile_up(tmp_path: Path) -> None:
    """Attack review (left open in round one): each export wrote a new temporary folder that
    nothing removed, so a script clicking Export filled the disk. Exports older than
    KEEP_SECONDS go at the next export; recent ones stay for their download."""
    folder = tmp_path / "exports"
    first = write_export(folder, "# One", now=1000.0)
    os.utime(first.parent, (1000.0, 1000.0))
    second = write_export(folder, "# Two", now=1000.0 + KEEP_SECONDS - 1)
    assert first.read_text(encoding="utf-8") == "# One" and second.name == "conversation.md"
    third = write_export(folder, "# Three", now=1000.0 + KEEP_SECONDS + 1)
    assert not first.parent.exists()  # older than KEEP_SECONDS: gone
    assert second.exists() and third.read_text(encoding="utf-8") == "# Three"
    assert len(list(folder.iterdir())) == 2


def test_a_page_leaves_no_export_folder_behind(
    seeded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page made its exports' temporary folder when it was built and nothing removed it
    (537 in /tmp after a day of test runs). Now none is made until an export, and the one made
    is deleted when the process exits."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    app = create_app(seeded)
    assert list(scratch.iterdir()) == []  # built, nothing exported: no folder
    path = Path(wired(app)["export"](ChatSession())["value"])
    assert path.is_relative_to(scratch) and path.read_text(encoding="utf-8").startswith("# ")

    script = (
        "import sys; from ui.export import Exports\n"
        "exports = Exports(); path = exports.write('# One')\n"
        "assert exports.write('# Two').parent.parent == exports.folder == path.parent.parent\n"
        "print(exports.folder)"
    )
    env = {**os.environ, "TMPDIR": str(scratch / "child")}
    (scratch / "child").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    made = Path(done.stdout.strip())
    assert made.parent == scratch / "child" and made.name.startswith("rag-exports-")
    assert not made.exists()  # removed at exit, with both exports in it
    assert Exports().folder is None


# Feedback becomes evaluation -------------------------------------------------------------------


def test_feedback_that_cannot_be_saved_says_so_and_how(seeded: Settings, tmp_path: Path) -> None:
    """Attack review: a feedback file that cannot be written (here under a file, the same for a
    read-only folder) raised out of the handler: the page showed a bare "Error" and the log a
    traceback. Now the notice names the file and the setting."""
    (tmp_path / "evals").write_text("a file where the folder should be", encoding="utf-8")
    target = tmp_path / "evals" / "feedback.jsonl"
    app = create_app(seeded.with_(feedback_file=target))
    fns = wired(app)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    liked = fns["on_like"](session, gr.LikeData(None, {"index": 1, "value": "", "liked": True}))
    assert liked[2] == render.notice(
        f"The verdict was not saved: {target} cannot be written (File exists). Set "
        "RAG_FEEDBACK_FILE to a file this server can write and restart it.",
        "error",
    )
    fns["on_like"](session, gr.LikeData(None, {"index": 1, "value": "", "liked": False}))
    box, notice, _ = fns["save_wrong"](session, 1, feedback.NO_ANSWER)
    assert box["visible"] is False and "The verdict was not saved" in notice


# U+2028, U+2029 and U+0085 end a line for str.splitlines(); JSON keeps them raw in a string.
LINE_BREAKING = 'eve\u2028{"x": 1}\u2029 \u0085 end'


def test_jsonl_files_are_read_whole_when_a_value_holds_unicode_line_separators(
    tmp_path: Path,
) -> None:
    """A sign-in name, a question or a document's text can hold U+2028/U+2029/U+0085: the
    audit log, the feedback file and an eval run's results are read line by line at "\\n"
    only. Split at them, reading the audit log raised JSONDecodeError, and the others lost
    or broke the line."""
    from evals.runner import write_outputs
    from rag import audit

    log = tmp_path / "audit.jsonl"
    audit.append(log, audit.AuditEvent(LINE_BREAKING, None, "sign-in", (), "refused", "x", ""))
    audit.append(log, audit.AuditEvent("ed", "editor", "resync", (LINE_BREAKING,), "ok", "", ""))
    assert [(e["user"], e["files"]) for e in audit.read(log)] == [
        (LINE_BREAKING, []),
        ("ed", [LINE_BREAKING]),
    ]
    verdicts = tmp_path / "feedback.jsonl"
    rows = [{"question": LINE_BREAKING, "feedback": verdict} for verdict in ("right", "wrong")]
    verdicts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    found = feedback.status(verdicts)
    assert (found.questions, found.right, found.wrong) == (2, 1, 1)
    row = {"id": "q1", "question": "q", "answerable": True, "refused": False, "confidence": 0.9,
           "answer": LINE_BREAKING, "latency_ms": 1, "citations": [], "retrieved": []}  # fmt: skip
    summaries = write_outputs(tmp_path / "run", {"hybrid": [row]}, {"name": "x"})
    assert summaries["hybrid"]["questions"] == 1


def test_feedback_is_saved_as_eval_questions(seeded: Settings, tmp_path: Path) -> None:
    target = tmp_path / "evals" / "feedback.jsonl"
    app = create_app(seeded.with_(feedback_file=target))
    fns = wired(app)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    ask_all(app, "What is the boiling point of mercury?", session)
    ask_all(app, "When?", session)

    def like(index: int, liked: bool) -> tuple[Any, ...]:
        return tuple(
            fns["on_like"](
                session, gr.LikeData(None, {"index": index, "value": "", "liked": liked})
            )
        )

    box, _, notice, target_index, status = like(1, True)
    assert box["visible"] is False and "Saved as right" in notice
    assert "1 answers marked (1 right, 0 wrong)" in status
    assert like(0, True)[2] == render.notice("That message is not an answer.")
    box, choices, notice, target_index, _ = like(3, False)  # the refusal: which passage?
    assert box["visible"] is True and target_index == 3
    closest = session.turns[1].closest
    assert [key for _, key in choices["choices"]] == [
        *(c["key"] for c in closest),
        "",
        feedback.NO_ANSWER,
    ]
    fns["save_wrong"](session, 3, closest[0]["key"])
    fns["save_wrong"](session, 5, feedback.NO_ANSWER)
    box, notice, status = fns["save_wrong"](session, 5, "")
    assert "4 answers marked (1 right, 3 wrong)" in status and "Not measured yet" in status

    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    answer = rag.answer(SERBIA, settings=seeded)
    assert {
        k: rows[0][k] for k in ("question", "answerable", "answers", "evidence", "sources")
    } == {
        "question": SERBIA,
        "answerable": True,
        "answers": [],
        "evidence": [c.text for c in answer.citations],
        "sources": ["000_f1c14fb623d5a113"],
    }
    assert rows[0]["feedback"] == "right" and rows[0]["given_answer"] == answer.text
    assert (rows[1]["answerable"], rows[1]["evidence"]) == (True, [closest[0]["text"]])
    assert (rows[2]["answerable"], rows[2]["evidence"], rows[2]["history"]) == (
        False, [], [SERBIA, "What is the boiling point of mercury?"]
    )  # fmt: skip
    assert (rows[3]["answerable"], rows[3]["evidence"]) == (True, [])
    questions = load_questions(target)  # what rag eval --questions reads
    assert [q.question for q in questions] == [SERBIA, "What is the boiling point of mercury?",
                                               "When?", "When?"]  # fmt: skip
    assert questions[2].history == (SERBIA, "What is the boiling point of mercury?")
    assert len({q.id for q in questions}) == 4

    summary = feedback.summary_path(target)
    summary.parent.mkdir(parents=True)
    summary.write_text(json.dumps({"hybrid": {"questions": 4, "hit_at_5": 0.5,
                                              "balanced_accuracy": 0.75}}))  # fmt: skip
    latest = fns["tick"](-1, View())[-1]
    assert "Latest score: 4 questions, hit@5 0.50, balanced accuracy 0.75." in latest


# Headers ---------------------------------------------------------------------------------------


def test_every_response_forbids_framing(settings: Settings) -> None:
    app = create_app(settings)
    port = free_port()
    url = serve(app, settings, "127.0.0.1", port).rstrip("/")
    try:
        with httpx.Client(timeout=30) as client:
            for path, headers, status in (
                ("/", {}, 200),
                ("/config", {}, 200),
                ("/gradio_api/info", {}, 200),
                ("/", {"Host": "evil.example"}, 403),
                ("/no-such-page", {}, 404),
            ):
                response = client.get(url + path, headers=headers)
                assert response.status_code == status, path
                assert response.headers["x-frame-options"] == "DENY", path
                assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    finally:
        app.close()


class RecordingTracker(IndexTracker):
    """A tracker that keeps every state the page could have shown."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.seen: list[IndexProgress] = []

    def _update(self, **changes: object) -> IndexProgress:
        progress = super()._update(**changes)
        self.seen.append(progress)
        return progress


def test_the_banner_counts_files_while_they_are_read_then_stored(settings: Settings) -> None:
    for i in range(3):
        (settings.docs_dir / f"note-{i}.md").write_text(f"# Note {i}\n\nOtters {i}.\n", "utf-8")
    tracker = RecordingTracker(settings)
    tracker.sync()
    shown = [p.banner_text.split(" - ")[0] for p in tracker.seen if p.running]
    # The seed document and three notes: read one by one from 0, then the four stored.
    reading = [f"Indexing: read {i} of 4 files" for i in range(5)]
    assert [line for line in shown if line.startswith("Indexing: read")] == [
        reading[0],
        *reading,  # the tracker's own start, then the sync's "Reading 0/4"
    ]
    assert shown.index(reading[-1]) < shown.index("Indexing 0 of 4 files")
    assert shown[-1] == "Indexing 4 of 4 files"
    details = [p.detail for p in tracker.seen if p.running and p.phase == "storing"]
    assert details[-1].endswith("chunks (100%)")
    assert tracker.progress.running is False and tracker.progress.banner_text == ""


def test_uploads_go_to_the_folder_the_index_belongs_to(tmp_path: Path, settings: Settings) -> None:
    rag.ingest(settings=settings)
    # A page started without naming a folder (RAG_DOCS_DIR unset): the index's folder is used.
    plain = Settings(store_dir=settings.store_dir)
    assert plain.docs_dir != settings.docs_dir
    app = create_app(plain)
    header = wired(app)["tick"](-1, View())[3]
    assert render._esc(str(settings.docs_dir.resolve())) in header and "1 document" in header
    notice = wired(app)["upload"]([_upload_file(tmp_path / "up", "moonbase.txt", MOON.encode())])
    assert "Added moonbase.txt" in notice
    assert (settings.docs_dir / "moonbase.txt").read_text(encoding="utf-8") == MOON
    assert not (plain.docs_dir / "moonbase.txt").exists()


def test_a_page_whose_folder_is_gone_offers_no_changes_and_says_why(
    tmp_path: Path, settings: Settings
) -> None:
    rag.ingest(settings=settings)
    gone = settings.docs_dir.rename(tmp_path / "moved")
    plain = Settings(store_dir=settings.store_dir)
    app = create_app(plain)
    rows = {b.elem_id: b for b in app.blocks.values() if getattr(b, "elem_id", None)}
    assert rows["docs-actions"].visible is False and rows["docs-selection"].visible is False
    assert rows["read-only"].visible is True
    built = render._esc(f"The index was built from {settings.docs_dir.resolve()}")
    assert built in rows["read-only"].value
    upload = wired(app)["upload"]([_upload_file(tmp_path / "up", "moonbase.txt", MOON.encode())])
    assert "Nothing was uploaded. The index was built from" in upload
    assert "Nothing was synced" in wired(app)["resync"]()
    assert not any(gone.glob("moonbase*"))
    # A sync of it fails with a DocumentsError: the page shows its message.
    tracker = IndexTracker(plain)
    with pytest.raises(rag.RagError, match="which no longer exists"):
        tracker.sync()
    app = create_app(plain, tracker)
    hint = wired(app)["tick"](-1, View())[5]
    assert hint["visible"] is True
    assert "which no longer exists: restore that folder" in hint["value"]
    assert 'class="notice notice-error"' in hint["value"]


@pytest.mark.usefixtures("restore_log_levels")
def test_python_m_ui_checks_the_folder_as_rag_ui_does(tmp_path: Path, settings: Settings) -> None:
    import os

    rag.ingest(settings=settings)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.md").write_text("# A\n\nAnother folder.\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    root = Path(__file__).resolve().parents[1]
    env.update(RAG_STORE_DIR=str(settings.store_dir), PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-m", "ui", str(other), "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1
    assert "is another folder" in done.stderr and f"rag ui {other} --replace" in done.stderr
    assert not (settings.docs_dir / "a.md").exists()


def test_a_delete_moves_the_lists_version_on_for_every_page(tmp_path: Path) -> None:
    """Deleting is no sync, yet every open page (another user's too) must refresh its lists:
    the tracker's version moves on, which each page's tick compares with what it showed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "heron.md").write_text("# Herons\n\nHerons wade in shallow water.\n", "utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    tracker = IndexTracker(settings)
    tracker.sync()
    handlers = Handlers(settings, tracker)
    shown = tracker.progress.version
    assert "not indexed" in handlers.delete("crane.md")
    assert tracker.progress.version == shown  # nothing deleted: nothing to refresh
    assert "Deleted heron.md" in handlers.delete("heron.md")
    assert tracker.progress.version == shown + 1
    assert not tracker.progress.running


def test_a_verdict_on_an_oversized_turn_writes_nothing(seeded: Settings, tmp_path: Path) -> None:
    """The turn comes back from the browser's stored conversation, which its user can edit:
    one click must not write megabytes into the eval file."""
    target = tmp_path / "feedback.jsonl"
    app = create_app(seeded.with_(feedback_file=target))
    fns = wired(app)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    turn = session.turns[-1]
    assert turn is not None
    session.turns[-1] = replace(turn, answer="x" * (feedback.MAX_LINE_BYTES + 1))
    liked = fns["on_like"](session, gr.LikeData(None, {"index": 1, "value": "", "liked": True}))
    assert "The verdict was not saved: the verdict&#x27;s record is over 256 KiB" in liked[2]
    assert not target.exists()
    session.turns[-1] = turn
    liked = fns["on_like"](session, gr.LikeData(None, {"index": 1, "value": "", "liked": True}))
    assert "Saved as right" in liked[2] and len(target.read_text().splitlines()) == 1


def test_verdicts_are_limited_per_user(
    seeded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack review: verdicts had no rate limit, so a script could click in a loop until the
    feedback file reached its bound (then nobody's verdict was saved), and every verdict re-read
    the whole file. Now each user has MAX_VERDICTS per window; another user is not held up."""
    monkeypatch.setattr(feedback, "MAX_VERDICTS", 2)
    target = tmp_path / "feedback.jsonl"
    app = create_app(seeded.with_(feedback_file=target))
    fns = wired(app)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    like = gr.LikeData(None, {"index": 1, "value": "", "liked": True})
    alice, bob = gr.Request(username="alice"), gr.Request(username="bob")
    assert "Saved as right" in fns["on_like"](session, like, alice)[2]
    assert "Saved as right" in fns["on_like"](session, like, alice)[2]
    refused = fns["on_like"](session, like, alice)[2]
    assert "The verdict was not saved: at most 2 verdicts in 60 s. Try again in" in refused
    fns["on_like"](session, gr.LikeData(None, {"index": 1, "value": "", "liked": False}), alice)
    assert "at most 2 verdicts" in fns["save_wrong"](session, 1, feedback.NO_ANSWER, alice)[1]
    assert "Saved as wrong" in fns["save_wrong"](session, 1, feedback.NO_ANSWER, bob)[1]
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["feedback"] for row in rows] == ["right", "right", "wrong"]


def test_verdicts_behind_a_trusted_proxy_are_limited_per_forwarded_client(
    seeded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy every connection comes from the proxy's address: keyed by it, one script
    used up everyone's verdicts (a review found it). The key is the address the trusted proxy
    forwards, as for the sign-in throttle."""
    from starlette.requests import Request

    monkeypatch.setattr(feedback, "MAX_VERDICTS", 2)
    target = tmp_path / "feedback.jsonl"
    app = create_app(seeded.with_(feedback_file=target, trusted_proxies=("10.9.9.9",)))
    fns = wired(app)
    session = ChatSession()
    ask_all(app, SERBIA, session)
    like = gr.LikeData(None, {"index": 1, "value": "", "liked": True})

    def through_proxy(client: str) -> gr.Request:
        headers = [(b"x-forwarded-for", client.encode())]
        return gr.Request(Request({"type": "http", "headers": headers, "client": ("10.9.9.9", 1)}))

    script, person = through_proxy("203.0.113.5"), through_proxy("198.51.100.7")
    assert ["Saved as right" in fns["on_like"](session, like, script)[2] for _ in range(3)] == [
        True, True, False
    ]  # fmt: skip
    assert "Saved as right" in fns["on_like"](session, like, person)[2]


def test_a_verdict_limit_slides_with_time() -> None:
    now = [0.0]
    limit = feedback.VerdictLimit(per_window=3, window=60.0, clock=lambda: now[0])
    assert [limit.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.take("a") == pytest.approx(60.0) and limit.take("b") == 0.0
    now[0] = 30.0
    assert limit.take("a") == pytest.approx(30.0)  # refused verdicts do not count
    now[0] = 60.5  # the first three left the window
    assert [limit.take("a") for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(60.0)]


def test_verdicts_stop_at_the_file_bound(tmp_path: Path) -> None:
    """Clicks in a loop (by many users, each within the rate limit) must not fill the disk."""
    target = tmp_path / "feedback.jsonl"
    record = {"id": "feedback-1", "question": "q", "feedback": "right"}
    line = len(json.dumps(record, ensure_ascii=False)) + 1
    target.write_text("x" * (feedback.MAX_FILE_BYTES - line), encoding="utf-8")
    feedback.append(target, record)  # exactly at the bound: written
    assert target.stat().st_size == feedback.MAX_FILE_BYTES
    with pytest.raises(ValueError, match=r"has reached 64 MiB; measure it with rag eval"):
        feedback.append(target, record)
    assert target.stat().st_size == feedback.MAX_FILE_BYTES
