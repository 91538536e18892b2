"""The Gradio chat page: ``create_app(settings)`` builds it, ``main(argv)`` serves it.

Start it with ``rag ui [PATH] [--replace]`` or ``python -m ui [PATH] [--replace]`` (the same
command: rag/cli.py decides the folder, refusing another folder than the index's without
``--replace``; 127.0.0.1:7860; ``--host/--port`` or ``RAG_HOST``/``RAG_PORT``). Never shared
publicly; Gradio analytics are off. Requests must name this server as their Host (loopback
names, ``--host``, or ``RAG_ALLOWED_HOSTS``); see ui/guard.py.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import logging
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any

import gradio as gr

import rag
from rag import RagError, Settings, audit
from ui import feedback, render
from ui.assets import HEAD
from ui.auth import Access, ChangeGuard, Changes
from ui.export import Exports, conversation_markdown
from ui.guard import allowed_hosts, guard_lifespan
from ui.handlers import (
    MAX_K,
    MODES,
    ChatSession,
    ChatUpdate,
    Handlers,
    backends,
    read_only_reason,
)
from ui.indexing import IndexTracker
from ui.library import COLUMNS, DEFAULT_SORT, SORTS, Library, View
from ui.sealed import Sealer
from ui.uploads import UPLOAD_SUFFIXES

log = logging.getLogger("ui")

NOISY_LOGGERS = ("httpx", "httpx2", "chromadb", "sentence_transformers", "bm25s", "urllib3")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
TICK_SECONDS = 1.0
OPENAI_HINT = "openai is offered when OPENAI_BASE_URL or OPENAI_API_KEY is set."
MODE_LABELS = {"hybrid": "Hybrid", "dense": "Dense", "bm25": "BM25"}
# Monitoring is off (``serve``), yet Gradio's queue summarises its last 10,000 events in a pandas
# table after every event (measured 1.3 ms each at 100 events, 5.2 ms at 10,000): nothing reads
# the summary, so it keeps one event and is recomputed once in a million.
QUEUE_ANALYTICS_ENV = {
    "GRADIO_ANALYTICS_MAX_EVENTS": "1",
    "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000000",
}
# uvicorn's list of proxies whose X-Forwarded-For it believes: emptied by serve().
UVICORN_FORWARDED_ENV = "FORWARDED_ALLOW_IPS"
DONT_KNOW = "I don't know which passage"
NOT_ANSWERED = "The documents do not answer this question"

# The chat, the sources panel, the session, the question box, the notice, and the conversation
# the browser keeps (``ChatSession.to_json``); gr.skip() for what an update leaves as it was.
ChatOutputs = tuple[list[dict[str, str]], Any, ChatSession, str, str, Any]


def _outputs(update: ChatUpdate, user: str | None, sealer: Sealer) -> ChatOutputs:
    """What the chat's components show for ``update``; the conversation the browser keeps is
    sealed for its ``user`` (the browser's storage is shared by whoever uses it next, and
    Gradio's own encryption of it uses a secret every page is sent: ui/sealed.py)."""
    # A fresh copy each time: Gradio diffs streamed values against the previous one it was given.
    messages = copy.deepcopy(update.session.messages)
    question = gr.skip() if update.question is None else update.question
    if update.pending:  # an answer still coming: its sources and the stored turn come at its end
        return messages, gr.skip(), update.session, question, update.notice, gr.skip()
    stored = sealer.seal(update.session.to_json(), user)
    return messages, update.sources, update.session, question, update.notice, stored


def when(stamp: str) -> str:
    """``2026-12-03T16:17:25+00:00`` as ``2026-12-03 16:17`` (the table's last sync column)."""
    return stamp[:16].replace("T", " ") if len(stamp) >= 16 else stamp


def index_source(settings: Settings) -> rag.IndexSource:
    """``rag.index_source``; when the index cannot be opened, the settings' folder (the page
    still serves, and its actions show the error)."""
    try:
        return rag.index_source(settings)
    except RagError as exc:
        log.warning("%s", exc)
        shared = bool(settings.chroma_url)
        where = settings.chroma_url or str(settings.store_dir)
        return rag.IndexSource(settings.docs_dir, "", "", 0, shared, not shared, where, str(exc))


def folder_label(source: rag.IndexSource) -> str:
    """What the page answers from: the folder here, else the index (and the folder it records)."""
    if source.folder is not None:
        return str(source.folder.resolve())
    if source.recorded:
        writer = f" on {source.writer}" if source.writer else ""
        return f"{source.recorded}{writer} (the index on {source.where})"
    return f"the index on {source.where}"


def storage_names(settings: Settings) -> tuple[str, str]:
    """The browser storage key and secret of this index's conversations (stable across
    restarts, different for another index)."""
    where = f"{settings.store_dir.resolve()}|{settings.chroma_url or ''}|{settings.collection}"
    digest = hashlib.sha256(where.encode()).hexdigest()
    return f"rag-conversation-{digest[:12]}", digest[12:44]


def notice_parts(notice: str) -> tuple[str, str]:
    """A notice's kind (``success``, ``error`` ...) and its text, for the audit log."""
    found = re.search(r'class="notice notice-(\w+)"', notice)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", notice)).split())
    return (found.group(1) if found else ""), text


def requester(request: gr.Request | None, access: Access) -> tuple[str | None, str]:
    """The signed-in user (None without sign-in) and the client's address of a page event:
    from a trusted proxy, the address it forwards (``Access.client``), as the sign-in throttle
    and the audit log's other entries see it."""
    if request is None:
        return None, ""
    user = getattr(request, "username", None)
    connection = getattr(request, "request", None)
    if connection is not None:
        client = access.client(connection)
    else:  # a request Gradio rebuilt without its connection: the address it kept
        client = str(getattr(getattr(request, "client", None), "host", "") or "")
    return (str(user) if user else None), client


def create_app(
    settings: Settings | None = None,
    tracker: IndexTracker | None = None,
    access: Access | None = None,
) -> gr.Blocks:
    """Build the page for ``settings`` (default: from the environment). Nothing is launched.

    ``tracker``: the syncs of this server (main() starts the first one in the background);
    a new one if not given. ``access``: who may sign in and change the index (default: from
    the settings, see ui/auth.py).
    """
    settings = settings if settings is not None else Settings.from_env()
    tracker = tracker if tracker is not None else IndexTracker(settings)
    access = access if access is not None else Access.from_settings(settings)
    handlers = Handlers(settings, tracker)
    library = Library(settings)
    tracker.on_done.append(library.warm)
    choices = backends(settings)
    source = index_source(settings)
    folder = folder_label(source)
    read_only = read_only_reason(source)
    upload_label = (
        f"Upload {', '.join(UPLOAD_SUFFIXES)} files (up to {settings.max_upload_mb:g} MB)"
    )
    storage_key, secret = storage_names(settings)
    sealer = Sealer.for_store(settings.store_dir)

    # Chat ---------------------------------------------------------------------------------

    def ask(
        question: str,
        session: ChatSession,
        k: float,
        mode: str,
        backend: str,
        request: gr.Request | None = None,
    ) -> Iterator[ChatOutputs]:
        user, _ = requester(request, access)
        for update in handlers.ask(question, session or ChatSession(), k, mode, backend):
            yield _outputs(update, user, sealer)

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def clear(request: gr.Request | None = None) -> ChatOutputs:
        return _outputs(
            ChatUpdate(handlers.clear(), question=""), requester(request, access)[0], sealer
        )

    def restore(
        stored: Any, request: gr.Request | None = None
    ) -> tuple[list[dict[str, str]], str, ChatSession, str]:
        user, _ = requester(request, access)
        # Another user's conversation (or none, or one of before) opens as None: not shown.
        opened = sealer.open(stored, user)
        # Not the question box: a question typed while the page was loading must survive.
        messages, sources, session, _, notice, _ = _outputs(
            ChatUpdate(ChatSession.from_json(opened)), user, sealer
        )
        return messages, sources, session, notice

    exports = Exports()

    def export(session: ChatSession) -> Any:
        path = exports.write(conversation_markdown(session or ChatSession()))
        return gr.update(value=str(path), visible=True)

    # Feedback -----------------------------------------------------------------------------

    def feedback_line() -> str:
        found = feedback.status(settings.feedback_file)
        if not found.questions:
            text = (
                f"No feedback yet: mark answers right or wrong (the thumbs under each answer); "
                f"they are saved to {settings.feedback_file} as evaluation questions."
            )
        else:
            text = (
                f"{found.questions} answers marked ({found.right} right, {found.wrong} wrong) in "
                f"{settings.feedback_file}. Measure them: rag eval --questions "
                f"{settings.feedback_file} --docs {source.folder or source.recorded}."
            )
            text += f" Latest score: {found.score}." if found.score else " Not measured yet."
        return render.notice(text, "info")

    verdicts = feedback.VerdictLimit(feedback.MAX_VERDICTS)

    def save_feedback(record: dict[str, Any], verdict: str, request: gr.Request | None) -> str:
        """The notice for a verdict saved, or for one the feedback file could not take."""
        user, client = requester(request, access)
        wait = verdicts.take(user or client)
        if wait:
            return render.notice(
                f"The verdict was not saved: at most {verdicts.per_window} verdicts in "
                f"{verdicts.window:g} s. Try again in {math.ceil(wait)} s.",
                "error",
            )
        try:
            feedback.append(settings.feedback_file, record)
        except ValueError as exc:
            return render.notice(f"The verdict was not saved: {exc}.", "error")
        except OSError as exc:
            log.warning("saving feedback to %s failed: %s", settings.feedback_file, exc)
            return render.notice(
                f"The verdict was not saved: {settings.feedback_file} cannot be written "
                f"({exc.strerror or exc}). Set RAG_FEEDBACK_FILE to a file this server can "
                "write and restart it.",
                "error",
            )
        return render.notice(f"Saved as {verdict} to {settings.feedback_file}.", "success")

    def on_like(
        session: ChatSession, event: gr.LikeData, request: gr.Request | None = None
    ) -> tuple[Any, Any, str, int, str]:
        index = event.index if isinstance(event.index, int) else event.index[0]
        turn = (session or ChatSession()).turn_at(index)
        hidden = gr.update(visible=False)
        if turn is None:
            return hidden, gr.update(), render.notice("That message is not an answer."), -1, ""
        if event.liked is True:
            done = save_feedback(feedback.question_record(turn, "right"), "right", request)
            return hidden, gr.update(), done, -1, feedback_line()
        options = [(f"[{p['index']}] {p['source']}: {p['text'][:120]}", p["key"])
                   for p in turn.passages()]  # fmt: skip
        options += [(DONT_KNOW, ""), (NOT_ANSWERED, feedback.NO_ANSWER)]
        ask_which = render.notice(
            f"Wrong answer to “{turn.question[:120]}”: which passage answers it? "
            "Pick one (or say you do not know), then save.",
            "info",
        )
        return (
            gr.update(visible=True),
            gr.update(choices=options, value=""),
            ask_which,
            index,
            gr.skip(),
        )

    def save_wrong(
        session: ChatSession, index: int, passage: str | None, request: gr.Request | None = None
    ) -> tuple[Any, str, str]:
        turn = (session or ChatSession()).turn_at(int(index))
        if turn is None:
            return gr.update(visible=False), render.notice("Mark an answer wrong first."), gr.skip()
        record = feedback.question_record(turn, "wrong", passage or None)
        done = save_feedback(record, "wrong", request)
        return gr.update(visible=False), done, feedback_line()

    # Documents ----------------------------------------------------------------------------

    def table(query: str, sort: str, page: float | None) -> tuple[Any, str, int, View]:
        found = library.page(query, sort, page)
        rows = [
            [r.title, r.source, r.kind, r.chunks, render.human_size(r.size), when(r.synced_at)]
            for r in found.rows
        ]
        shown = (
            f"{found.matching} of {found.total} documents match"
            if (query or "").strip()
            else f"{found.total} documents"
        )
        label = f"Page {found.page} of {found.pages} · {shown}"
        if not found.total:
            label = "Nothing is indexed yet: upload documents above or press Re-sync."
            if read_only or access.signs_in:  # a reader cannot upload
                label = "Nothing is indexed yet."
        value = rows or [["", "", "", None, "", ""]][:0]
        shows = View(query or "", sort, found.page)
        return gr.update(value=value, headers=list(COLUMNS)), label, found.page, shows

    def turn_page(
        query: str, sort: str, page: float | None, step: int
    ) -> tuple[Any, str, int, View]:
        return table(query, sort, (int(page or 1)) + step)

    def select_row(selected: list[str] | None, event: gr.SelectData) -> Any:
        row = event.row_value or []
        source = str(row[1]) if len(row) > 1 else ""
        chosen = list(selected or [])
        if source:
            chosen = [s for s in chosen if s != source] if source in chosen else [*chosen, source]
        return gr.update(value=chosen, choices=chosen)

    def ask_delete(selected: list[str] | None) -> tuple[Any, str, str]:
        question = handlers.confirm_text(selected)
        if question is None:
            return (
                gr.update(visible=False),
                "",
                render.notice("Select the rows of the documents to delete first."),
            )
        return gr.update(visible=True), render.confirm_html(question), ""

    def change(action: audit.Action, files: list[str], request: gr.Request | None, run: Any) -> str:
        """Run one change if this user may make it here; log the attempt either way."""
        user, client = requester(request, access)
        refused = access.refusal(user)
        if refused is not None:
            access.record(user, action, files, "refused", refused, client)
            return render.notice(f"Nothing was changed. {refused}", "error")
        try:  # no change that could go unrecorded: the log is checked before, not only after
            audit.check_writable(settings.audit_path)
        except RagError as exc:
            log.error("change refused, the audit log cannot be written: %s", exc)
            return render.notice(f"Nothing was changed. {exc}", "error")
        replica = read_only_reason(index_source(settings))
        message: str = run()
        kind, text = notice_parts(message)
        result: audit.Result = "refused" if replica else ("error" if kind == "error" else "ok")
        access.record(user, action, files, result, replica or text, client)
        return message

    def delete(
        selected: list[str] | str | None, request: gr.Request | None = None
    ) -> tuple[Any, str, Any]:
        names = [selected] if isinstance(selected, str) else list(selected or [])
        message = change("delete", names, request, lambda: handlers.delete(selected))
        return gr.update(visible=False), message, gr.update(value=[], choices=[])

    def cancel_delete() -> tuple[Any, str]:
        return gr.update(visible=False), render.notice("Nothing was deleted.", "info")

    def upload(files: list[str] | None, request: gr.Request | None = None) -> str:
        names = [Path(f).name for f in files or []]
        return change("upload", names, request, lambda: handlers.upload(files))

    def resync(request: gr.Request | None = None) -> str:
        return change("resync", [], request, handlers.resync)

    def view(request: gr.Request | None = None) -> tuple[Any, Any, Any, Any]:
        """What this user sees: the change buttons only for an editor on a page that may
        change the index (not a replica), and who is signed in."""
        user, _ = requester(request, access)
        role = access.role(user)
        reason = read_only_reason(index_source(settings))
        if not reason and role != "editor":
            reason = access.refusal(user) or ""
        may = not reason
        who = ""
        if access.signs_in and user:
            out = ' · <a href="logout">Sign out</a>' if access.mode == "password" else ""
            who = f"Signed in as {html.escape(user)} ({role or 'no role'}){out}"
        return (
            gr.update(visible=may),
            gr.update(visible=may),
            gr.update(value=render.notice(reason, "info") if reason else "", visible=bool(reason)),
            gr.update(value=who, visible=bool(who)),
        )

    # Polling: the banner, the progress line, and the lists once a sync has ended ----------

    def overview() -> tuple[str, Any, Any]:
        progress = tracker.progress
        now = index_source(settings)
        header = render.header_html(folder_label(now), now.files, progress.running)
        examples = library.examples()
        hint = render.notice(progress.error, "error") if progress.error else ""
        if not now.files and not progress.running:
            reason = read_only_reason(now)
            hint += render.notice(reason, "info") if reason else ""
            if not reason and access.signs_in:  # not every user may upload: no folder path
                reason = "Nothing is indexed yet: editors add documents on the Documents tab."
                hint += render.notice(reason, "info")
            hint += "" if reason else render.no_documents_hint(folder_label(now))
        chat_examples = gr.update(examples=[{"text": q} for q in examples] or None)
        return header, chat_examples, gr.update(value=hint, visible=bool(hint))

    def tick(seen: int, view: View) -> tuple[Any, ...]:
        progress = tracker.progress
        text = progress.banner_text
        banner = gr.update(value=render.banner_html(text), visible=bool(text))
        line = (
            render.progress_line(progress.detail)
            if progress.running
            else (render.notice(progress.error, "error") if progress.error else "")
        )
        # ``seen`` is written only with the lists: a tick must not write back the value it read
        # over one a change wrote meanwhile (that change's refresh would be lost).
        if progress.version == seen and not progress.running:
            return (banner, line, *(gr.skip(),) * 8)
        header, chat_examples, hint = overview()
        if progress.version == seen:  # still indexing: the header's count, not the lists
            return (banner, line, gr.skip(), header, *(gr.skip(),) * 6)
        rows, label, number, _ = table(view.query, view.sort, view.page)
        return (banner, line, progress.version, header, chat_examples, hint, rows, label,
                number, feedback_line())  # fmt: skip

    def poll(seen: int) -> str:
        """What ``tick`` shows depends on, as one value: each open tab asks every second, and
        the page runs ``tick`` only when it changed. A tick that changes nothing still cost
        the server about 8 ms (Gradio rebuilds each of its ten output components, even for
        ``gr.skip()``); a poll about 1.3 ms."""
        return repr((seen, astuple(tracker.progress)))

    for key, value in QUEUE_ANALYTICS_ENV.items():
        os.environ.setdefault(key, value)  # read when the queue is made, with the Blocks
    # Gradio's own copies of served files (exports, uploads) are deleted after an hour.
    app = gr.Blocks(title="Ask your documents", analytics_enabled=False, delete_cache=(3600, 3600))
    with app:
        session = gr.State(ChatSession())
        stored = gr.BrowserState(None, storage_key=storage_key, secret=secret)
        seen_version = gr.State(-1)
        table_view = gr.State(View())  # what the Documents table shows: tick reads it
        # The last poll(): when it changes, the page runs tick. In the page (hidden), not a
        # State: the browser runs a State's change event only after a queued event.
        polled = gr.Textbox(visible="hidden", elem_id="index-poll")
        feedback_target = gr.State(-1)
        header = gr.HTML(render.header_html(folder, source.files), elem_id="header", head=HEAD)
        signed_in = gr.HTML(elem_id="signed-in", visible=False)
        banner = gr.HTML(elem_id="index-banner", visible=False)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="chat-row"):
                with gr.Column(scale=3, min_width=300):
                    empty_hint = gr.HTML(elem_id="empty-hint", visible=False)
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="Conversation",
                        height="min(520px, 60vh)",
                        latex_delimiters=[],
                        buttons=[],
                        feedback_options=("Like", "Dislike"),
                        placeholder="Ask a question about your documents.",
                    )
                    notice = gr.HTML(elem_id="chat-notice")
                    with gr.Group(visible=False, elem_id="feedback-wrong") as wrong_box:
                        passage_choice = gr.Radio(
                            [], label="The passage that answers it", elem_id="feedback-passage"
                        )
                        save_wrong_button = gr.Button(
                            "Save as wrong", variant="primary", elem_id="feedback-save"
                        )
                    with gr.Row(elem_id="question-row"):
                        question = gr.Textbox(
                            elem_id="question",
                            show_label=False,
                            placeholder="Ask about your documents…",
                            lines=1,
                            max_lines=4,
                            scale=8,
                            min_width=160,
                            autofocus=True,
                        )
                        ask_button = gr.Button(
                            "Ask", variant="primary", elem_id="ask", scale=0, min_width=70
                        )
                    with gr.Row(elem_id="conversation-tools"):
                        clear_button = gr.Button("Clear", elem_id="clear", scale=0, min_width=70)
                        export_button = gr.Button(
                            "Export as Markdown", elem_id="export", scale=0, min_width=150
                        )
                        export_file = gr.File(
                            visible=False, elem_id="export-file", label="Conversation", scale=2
                        )
                    with gr.Accordion("Settings", open=False, elem_id="settings"):
                        k = gr.Slider(1, MAX_K, value=settings.k, step=1, label="Passages (k)")
                        mode = gr.Radio(
                            [(MODE_LABELS[m], m) for m in MODES],
                            value=settings.mode,
                            label="Retrieval",
                        )
                        backend = gr.Radio(
                            choices,
                            value=settings.llm if settings.llm in choices else choices[0],
                            label="Answer backend",
                            info=None if len(choices) > 1 else OPENAI_HINT,
                        )
                with gr.Column(scale=2, min_width=280):
                    sources = gr.HTML(
                        render.EMPTY_SOURCES,
                        elem_id="sources-panel",
                        label="Sources",
                        container=True,
                        padding=True,
                    )
            with gr.Tab("Documents", id="documents"):
                docs_progress = gr.HTML(elem_id="docs-progress")
                # With sign-in, the change buttons appear once the page knows the user (view).
                may_change = not read_only and not access.signs_in
                read_only_notice = gr.HTML(
                    render.notice(read_only, "info") if read_only else "",
                    elem_id="read-only",
                    visible=bool(read_only),
                )
                with gr.Row(
                    equal_height=True, elem_id="docs-actions", visible=may_change
                ) as docs_actions:
                    upload_files = gr.File(
                        label=upload_label,
                        file_count="multiple",
                        file_types=list(UPLOAD_SUFFIXES),
                        type="filepath",
                        elem_id="upload",
                        height=110,
                        scale=4,
                    )
                    resync_button = gr.Button(
                        "Re-sync folder", elem_id="resync", scale=1, min_width=120
                    )
                documents_notice = gr.HTML(elem_id="documents-notice")
                with gr.Row(elem_id="docs-controls"):
                    docs_filter = gr.Textbox(
                        placeholder="Filter by title, file or type…",
                        show_label=False,
                        elem_id="docs-filter",
                        scale=3,
                        min_width=160,
                    )
                    docs_sort = gr.Dropdown(
                        list(SORTS), value=DEFAULT_SORT, show_label=False, elem_id="docs-sort",
                        scale=2, min_width=160,
                    )  # fmt: skip
                    prev_button = gr.Button("◀", elem_id="docs-prev", scale=0, min_width=44)
                    docs_page = gr.Number(
                        1, precision=0, minimum=1, show_label=False, elem_id="docs-page",
                        scale=0, min_width=70,
                    )  # fmt: skip
                    next_button = gr.Button("▶", elem_id="docs-next", scale=0, min_width=44)
                docs_label = gr.HTML(elem_id="docs-page-label")
                documents = gr.Dataframe(
                    headers=list(COLUMNS),
                    datatype=["str", "str", "str", "number", "str", "str"],
                    interactive=False,
                    elem_id="documents-table",
                    max_height=4000,  # one page of rows: the page scrolls, not the table
                    wrap=True,
                    column_widths=["30%", "26%", "7%", "9%", "10%", "18%"],
                )
                with gr.Row(
                    equal_height=True, elem_id="docs-selection", visible=may_change
                ) as docs_selection:
                    chosen = gr.Dropdown(
                        label="Selected (click rows to select)",
                        choices=[],
                        multiselect=True,
                        allow_custom_value=True,
                        elem_id="delete-choice",
                        scale=4,
                    )
                    delete_button = gr.Button(
                        "Delete selected…", variant="stop", elem_id="delete", scale=1, min_width=120
                    )
                with gr.Group(visible=False, elem_id="confirm-delete") as confirm_box:
                    # HTML we escape ourselves: a file name must never be read as Markdown.
                    confirm_text = gr.HTML(elem_id="confirm-delete-text")
                    with gr.Row():
                        confirm_button = gr.Button(
                            "Yes, delete", variant="stop", elem_id="confirm-delete-yes"
                        )
                        cancel_button = gr.Button("Cancel", elem_id="confirm-delete-no")
                feedback_status = gr.HTML(elem_id="feedback-status")

        private: dict[str, Any] = {"api_visibility": "private"}
        chat_inputs = [question, session, k, mode, backend]
        # The conversation is stored in the browser by the answer's last update itself: a
        # separate save event after each answer cost the page a request and an event.
        chat_outputs = [chatbot, sources, session, question, notice, stored]
        ask_options: dict[str, Any] = {
            "concurrency_limit": settings.chat_concurrency,
            "concurrency_id": "chat",
            "show_progress": "minimal",
            # Enter while an answer is coming asks once it is done (Gradio's default, "once",
            # dropped it without a word), with what the box holds then.
            "trigger_mode": "always_last",
        }
        quick: dict[str, Any] = {"queue": False, **private}
        question.submit(ask, chat_inputs, chat_outputs, api_name="ask", **ask_options)
        ask_button.click(ask, chat_inputs, chat_outputs, **private, **ask_options)
        chatbot.example_select(pick_example, None, question, **quick).then(
            ask, chat_inputs, chat_outputs, **private, **ask_options
        )
        for cleared in (clear_button.click, chatbot.clear):
            cleared(clear, None, chat_outputs, **quick)
        export_button.click(export, session, export_file, **quick)
        chatbot.like(
            on_like,
            session,
            [wrong_box, passage_choice, notice, feedback_target, feedback_status],
            **quick,
        )
        save_wrong_button.click(
            save_wrong,
            [session, feedback_target, passage_choice],
            [wrong_box, notice, feedback_status],
            **quick,
        )

        table_inputs = [docs_filter, docs_sort, docs_page]
        table_outputs = [documents, docs_label, docs_page, table_view]
        hidden: dict[str, Any] = {"show_progress": "hidden"}
        # Every event that fills the table runs in one queue, one at a time, in the order sent,
        # and the refresh reads the filter from ``table_view`` when it runs: a refresh sent
        # before a filter was typed, with the old filter, replaced the filtered table (seen
        # under load in the browser test of deleting rows, once even with the one queue).
        in_order: dict[str, Any] = {**private, "concurrency_id": "table", "concurrency_limit": 1}
        docs_filter.change(lambda q, s: table(q, s, 1), [docs_filter, docs_sort], table_outputs,
                           **in_order, **hidden)  # fmt: skip
        docs_sort.change(lambda q, s: table(q, s, 1), [docs_filter, docs_sort], table_outputs,
                         **in_order, **hidden)  # fmt: skip
        docs_page.submit(table, table_inputs, table_outputs, **in_order, **hidden)
        prev_button.click(lambda q, s, p: turn_page(q, s, p, -1), table_inputs, table_outputs,
                          **in_order, **hidden)  # fmt: skip
        next_button.click(lambda q, s, p: turn_page(q, s, p, 1), table_inputs, table_outputs,
                          **in_order, **hidden)  # fmt: skip
        documents.select(select_row, chosen, chosen, **quick, **hidden)

        tick_outputs = [banner, docs_progress, seen_version, header, chatbot, empty_hint,
                        documents, docs_label, docs_page, feedback_status]  # fmt: skip
        timer = gr.Timer(TICK_SECONDS)
        timer.tick(poll, seen_version, polled, **quick, **hidden)
        polled.change(tick, [seen_version, table_view], tick_outputs, **in_order, **hidden)
        restored = [chatbot, sources, session, notice]
        app.load(restore, stored, restored, **quick).then(
            tick, [seen_version, table_view], tick_outputs, **in_order, **hidden
        )
        app.load(
            view, None, [docs_actions, docs_selection, read_only_notice, signed_in],
            **quick, **hidden,
        )  # fmt: skip

        index_options: dict[str, Any] = {
            "concurrency_limit": 1,
            "concurrency_id": "index",
            **hidden,
        }
        refresh: dict[str, Any] = {"queue": False, **private, **hidden}

        def changed() -> int:
            return -1  # the next tick refreshes the lists

        upload_files.upload(
            upload, upload_files, documents_notice, api_name="upload", **index_options
        ).then(lambda: None, None, upload_files, **refresh).then(
            changed, None, seen_version, **refresh
        )
        resync_button.click(
            resync, None, documents_notice, api_name="resync", **index_options
        ).then(changed, None, seen_version, **refresh)
        delete_button.click(
            ask_delete, chosen, [confirm_box, confirm_text, documents_notice], **refresh
        )
        confirm_button.click(
            delete, chosen, [confirm_box, documents_notice, chosen], api_name="delete",
            **index_options,
        ).then(changed, None, seen_version, **refresh)  # fmt: skip
        cancel_button.click(cancel_delete, None, [confirm_box, documents_notice], **refresh)
    app.queue(**settings.queue_options())
    return app


def serve(
    app: gr.Blocks,
    settings: Settings,
    host: str,
    port: int,
    extra_hosts: Sequence[str] = (),
    access: Access | None = None,
) -> str:
    """Start ``app`` in the background on ``host:port``; its local URL.

    Only requests whose Host names this server (and whose Origin, if any, is this page) are
    answered: see ui/guard.py. Off loopback, the page needs sign-in (ui/auth.py): without it,
    ``ConfigError`` and nothing is served; with it, a change asked by anyone but an editor is
    refused (401/403) before Gradio sees it.
    """
    access = access if access is not None else Access.from_settings(settings)
    access.check_host(host)
    wrap = None
    if access.signs_in:
        changes = Changes.of(app)
        guarded = access

        def wrap(inner: Any, gradio_app: Any) -> Any:
            return ChangeGuard(inner, gradio_app, guarded, changes)

    # Which proxy's X-Forwarded-For is believed is RAG_TRUSTED_PROXIES' alone (Access.client,
    # Access.proxy_user). uvicorn would otherwise replace the connection's address with the
    # forwarded one for its own list (FORWARDED_ALLOW_IPS, default loopback) before ui/auth.py
    # sees it: a signing-in proxy on loopback that forwards the address was then not believed
    # (its requests seemed to come from the user's address), and every one got 401.
    os.environ[UVICORN_FORWARDED_ENV] = ""
    # Gradio's own upload cap is a backstop for huge files; up to it, our handler checks the
    # size against max_upload_mb and explains the limit on the page.
    backstop = int(settings.max_upload_mb * 2 * 1024 * 1024) + 1024 * 1024
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        max_file_size=backstop,
        footer_links=["settings"],
        run_history=False,
        enable_monitoring=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        app_kwargs={"lifespan": guard_lifespan(allowed_hosts(host, port, extra_hosts), wrap)},
        **access.launch_options(),
    )
    return url


def prepare_index(settings: Settings, tracker: IndexTracker | None = None) -> None:
    """Start indexing the documents folder in the background (incremental: quick if unchanged);
    the page is served meanwhile, with a banner while it runs. Without a ``tracker``: index
    now, in this thread.

    With a Chroma server (RAG_CHROMA_URL) the page is a replica: the team's ingest job keeps the
    server's index, and a page must not replace it with whatever its own folder holds.
    """
    if settings.chroma_url:
        print(
            f"Answering from the index on {settings.chroma_url} (run rag ingest to update it).",
            flush=True,
        )
        return
    source = index_source(settings)
    reason = read_only_reason(source)
    if reason or source.folder is None:
        print(f"warning: {reason}", flush=True)
        return
    source.folder.mkdir(parents=True, exist_ok=True)
    if tracker is None:
        IndexTracker(settings).sync()
        return
    print(f"Syncing {source.folder} in the background …", flush=True)
    tracker.start()


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from exc
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from rag.config import env_flag

    parser = argparse.ArgumentParser(
        prog="rag ui",
        description="Serve the chat page.",
        epilog="The folder (rag ui PATH [--replace]) is settled by rag ui (rag/cli.py) before "
        "the page starts: it is passed on as RAG_DOCS_DIR.",
    )
    parser.add_argument("--host", default=None, help=f"address (RAG_HOST; {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=None, help=f"port (RAG_PORT; {DEFAULT_PORT})")
    parser.add_argument("--no-sync", action="store_true", help="do not sync the folder first")
    argv = list(argv) if argv is not None else None
    if argv and argv[0] == "--":  # rag ui -- --port 8000
        argv = argv[1:]
    args = parser.parse_args(argv)
    args.host = args.host or env_flag("RAG_HOST") or DEFAULT_HOST
    extra = env_flag("RAG_ALLOWED_HOSTS") or ""
    args.allowed_hosts = [name.strip() for name in extra.split(",") if name.strip()]
    if args.port is None:
        env_port = env_flag("RAG_PORT")
        try:
            args.port = _port(env_port) if env_port else DEFAULT_PORT
        except argparse.ArgumentTypeError as exc:
            parser.error(f"RAG_PORT: {exc}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the page until Ctrl-C, syncing the documents folder meanwhile.

    ``rag ui`` (rag/cli.py) calls this once it has settled the folder (PATH, ``--replace``) and
    set RAG_DOCS_DIR; ``python -m ui`` goes through ``rag ui`` too.
    """
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        access = Access.from_settings(settings)
        access.check_host(args.host)  # before anything starts: one line, exit 1
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tracker = IndexTracker(settings)
    app = create_app(settings, tracker, access)
    try:
        url = serve(app, settings, args.host, args.port, args.allowed_hosts, access)
    except OSError as exc:
        print(
            f"error: cannot serve on {args.host}:{args.port} ({exc}); pick another port with "
            "--port or RAG_PORT.",
            file=sys.stderr,
        )
        return 1
    print(f"Ask your documents at {url}", flush=True)
    if not args.no_sync:
        prepare_index(settings, tracker)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
