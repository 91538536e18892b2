"""The Gradio chat page: ``create_app(settings)`` builds it, ``main(argv)`` serves it.

Start it with ``rag ui`` or ``python -m ui`` (127.0.0.1:7860; ``--host/--port`` or
``RAG_HOST``/``RAG_PORT``). Never shared publicly; Gradio analytics are off. Requests must name
this server as their Host (loopback names, ``--host``, or ``RAG_ALLOWED_HOSTS``); see ui/guard.py.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

import rag
from rag import RagError, Settings
from ui import render
from ui.assets import HEAD
from ui.guard import allowed_hosts, guard_lifespan
from ui.handlers import MAX_K, MODES, ChatSession, ChatUpdate, Handlers, backends
from ui.uploads import UPLOAD_SUFFIXES

log = logging.getLogger("ui")

NOISY_LOGGERS = ("httpx", "httpx2", "chromadb", "sentence_transformers", "bm25s", "urllib3")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
CHAT_CONCURRENCY = 4
# Gradio swaps this default for a per-call tracker; one shared default is enough.
PROGRESS = gr.Progress()
EXAMPLES = (
    "Who is the president of Serbia?",
    "Which region's situation gets particular attention?",
    "What anniversary does Belgrade mark?",
)
OPENAI_HINT = "openai is offered when OPENAI_BASE_URL or OPENAI_API_KEY is set."
MODE_LABELS = {"hybrid": "Hybrid", "dense": "Dense", "bm25": "BM25"}
HEADER = (
    '<div id="app-header"><h1>Ask your documents</h1>'
    "<p>Answers come only from your documents, each claim linked to the exact passage it "
    "quotes. Everything runs on this machine.</p></div>"
)

ChatOutputs = tuple[list[dict[str, str]], str, ChatSession, str, str]
DocsOutputs = tuple[str, str, Any]


def _outputs(update: ChatUpdate) -> ChatOutputs:
    # A fresh copy each time: Gradio diffs streamed values against the previous one it was given.
    messages = copy.deepcopy(update.session.messages)
    return messages, update.sources, update.session, update.question, update.notice


def create_app(settings: Settings | None = None) -> gr.Blocks:
    """Build the page for ``settings`` (default: from the environment). Nothing is launched."""
    settings = settings if settings is not None else Settings.from_env()
    handlers = Handlers(settings)
    choices = backends(settings)
    upload_label = (
        f"Upload {', '.join(UPLOAD_SUFFIXES)} files (up to {settings.max_upload_mb:g} MB)"
    )

    def ask(
        question: str, session: ChatSession, k: float, mode: str, backend: str
    ) -> Iterator[ChatOutputs]:
        for update in handlers.ask(question, session, k, mode, backend):
            yield _outputs(update)

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def clear() -> ChatOutputs:
        return _outputs(ChatUpdate(handlers.clear()))

    def documents_view() -> tuple[str, Any]:
        names = handlers.document_names()
        return handlers.documents_html(), gr.update(choices=names, value=None)

    def upload(files: list[str] | None, progress: gr.Progress = PROGRESS) -> DocsOutputs:
        message = handlers.upload(files, progress)
        table, chooser = documents_view()
        return message, table, chooser

    def resync(progress: gr.Progress = PROGRESS) -> DocsOutputs:
        message = handlers.resync(progress)
        table, chooser = documents_view()
        return message, table, chooser

    def ask_delete(source: str | None) -> tuple[Any, str, str]:
        question = handlers.confirm_text(source)
        if question is None:
            return gr.update(visible=False), "", render.notice("Choose a document to delete.")
        return gr.update(visible=True), render.confirm_html(question), ""

    def delete(source: str | None) -> tuple[Any, str, str, Any]:
        message = handlers.delete(source)
        table, chooser = documents_view()
        return gr.update(visible=False), message, table, chooser

    def cancel_delete() -> tuple[Any, str]:
        return gr.update(visible=False), render.notice("Nothing was deleted.", "info")

    app = gr.Blocks(title="Ask your documents", analytics_enabled=False)
    with app:
        session = gr.State(ChatSession())
        gr.HTML(HEADER)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="Conversation",
                        height=520,
                        examples=[{"text": q} for q in EXAMPLES],
                        latex_delimiters=[],
                        buttons=[],
                        feedback_options=None,
                        placeholder="Ask a question about your documents.",
                    )
                    notice = gr.HTML(elem_id="chat-notice")
                    with gr.Row():
                        question = gr.Textbox(
                            elem_id="question",
                            show_label=False,
                            placeholder="Ask about your documents…",
                            lines=1,
                            max_lines=4,
                            scale=8,
                            autofocus=True,
                        )
                        ask_button = gr.Button(
                            "Ask", variant="primary", elem_id="ask", scale=0, min_width=90
                        )
                        clear_button = gr.Button("Clear", elem_id="clear", scale=0, min_width=90)
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
                with gr.Column(scale=2):
                    sources = gr.HTML(
                        render.EMPTY_SOURCES,
                        elem_id="sources-panel",
                        label="Sources",
                        head=HEAD,
                        container=True,
                        padding=True,
                    )
            with gr.Tab("Documents", id="documents") as documents_tab:
                documents = gr.HTML(elem_id="documents-table")
                upload_files = gr.File(
                    label=upload_label,
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    type="filepath",
                    elem_id="upload",
                    height=140,
                )
                documents_notice = gr.HTML(elem_id="documents-notice")
                gr.Markdown("#### Manage documents")
                with gr.Row(equal_height=False):
                    # Filled when the page loads; custom values let the API endpoint name any
                    # document (the delete handler refuses what is not indexed).
                    chosen = gr.Dropdown(
                        label="Document",
                        choices=[],
                        allow_custom_value=True,
                        elem_id="delete-choice",
                        scale=3,
                        container=False,
                    )
                    delete_button = gr.Button("Delete…", variant="stop", elem_id="delete", scale=0)
                    resync_button = gr.Button("Re-sync folder", elem_id="resync", scale=0)
                with gr.Group(visible=False, elem_id="confirm-delete") as confirm_box:
                    # HTML we escape ourselves: a file name must never be read as Markdown.
                    confirm_text = gr.HTML(elem_id="confirm-delete-text")
                    with gr.Row():
                        confirm_button = gr.Button(
                            "Yes, delete", variant="stop", elem_id="confirm-delete-yes"
                        )
                        cancel_button = gr.Button("Cancel", elem_id="confirm-delete-no")

        chat_inputs = [question, session, k, mode, backend]
        chat_outputs = [chatbot, sources, session, question, notice]
        ask_options: dict[str, Any] = {
            "concurrency_limit": CHAT_CONCURRENCY,
            "concurrency_id": "chat",
            "show_progress": "minimal",
        }
        question.submit(ask, chat_inputs, chat_outputs, api_name="ask", **ask_options)
        ask_button.click(ask, chat_inputs, chat_outputs, api_visibility="private", **ask_options)
        chatbot.example_select(
            pick_example, None, question, queue=False, api_visibility="private"
        ).then(ask, chat_inputs, chat_outputs, api_visibility="private", **ask_options)
        clear_button.click(clear, None, chat_outputs, queue=False, api_visibility="private")
        chatbot.clear(clear, None, chat_outputs, queue=False, api_visibility="private")

        documents_view_outputs = [documents, chosen]
        index_options: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index"}
        app.load(documents_view, None, documents_view_outputs, api_visibility="private")
        documents_tab.select(documents_view, None, documents_view_outputs, api_visibility="private")
        upload_files.upload(
            upload,
            upload_files,
            [documents_notice, documents, chosen],
            api_name="upload",
            **index_options,
        ).then(lambda: None, None, upload_files, queue=False, api_visibility="private")
        resync_button.click(
            resync, None, [documents_notice, documents, chosen], api_name="resync", **index_options
        )
        delete_button.click(
            ask_delete,
            chosen,
            [confirm_box, confirm_text, documents_notice],
            queue=False,
            api_visibility="private",
        )
        confirm_button.click(
            delete,
            chosen,
            [confirm_box, documents_notice, documents, chosen],
            api_name="delete",
            **index_options,
        )
        cancel_button.click(
            cancel_delete,
            None,
            [confirm_box, documents_notice],
            queue=False,
            api_visibility="private",
        )
    app.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=64)
    return app


def serve(
    app: gr.Blocks, settings: Settings, host: str, port: int, extra_hosts: Sequence[str] = ()
) -> str:
    """Start ``app`` in the background on ``host:port``; its local URL.

    Only requests whose Host names this server (and whose Origin, if any, is this page) are
    answered: see ui/guard.py.
    """
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
        app_kwargs={"lifespan": guard_lifespan(allowed_hosts(host, port, extra_hosts))},
    )
    return url


def prepare_index(settings: Settings) -> None:
    """Index the documents folder before the first visitor (incremental: quick if unchanged).

    With a Chroma server (RAG_CHROMA_URL) the page is a replica: the team's ingest job keeps the
    server's index, and a page must not replace it with whatever its own folder holds.
    """
    if settings.chroma_url:
        print(
            f"Answering from the index on {settings.chroma_url} (run rag ingest to update it).",
            flush=True,
        )
        return
    settings.docs_dir.mkdir(parents=True, exist_ok=True)
    print(f"Syncing {settings.docs_dir} …", flush=True)
    report = rag.ingest(settings=settings)
    for skipped in report.skipped:
        print(f"  skipped {skipped.path}: {skipped.reason}", flush=True)
    print(
        f"  {report.total_files} files, {report.total_chunks} chunks indexed "
        f"({report.seconds:.1f} s)",
        flush=True,
    )


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

    parser = argparse.ArgumentParser(prog="rag ui", description="Serve the chat page.")
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
    """``rag ui``: sync the documents folder, then serve the page until Ctrl-C."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.no_sync:
        try:
            prepare_index(settings)
        except RagError as exc:  # an empty folder, say: the page can still take uploads
            print(f"warning: {exc}\n  The page starts anyway: add documents on its Documents tab.")
    app = create_app(settings)
    try:
        url = serve(app, settings, args.host, args.port, args.allowed_hosts)
    except OSError as exc:
        print(
            f"error: cannot serve on {args.host}:{args.port} ({exc}); pick another port with "
            "--port or RAG_PORT.",
            file=sys.stderr,
        )
        return 1
    print(f"Ask your documents at {url}", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
