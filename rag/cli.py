"""The ``rag`` command: a thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from rag.config import BACKENDS, MODES, Settings, apply_offline_env, env_flag
from rag.errors import RagError

apply_offline_env()

MASK = "[hidden key]"
MAX_ERROR_CHARS = 500


def mask_secrets(text: str) -> str:
    """``text`` with the configured API key hidden: a server may echo it back in an error."""
    key = (env_flag("OPENAI_API_KEY") or "").strip()
    return text.replace(key, MASK) if len(key) >= 6 else text


class MaskingFormatter(logging.Formatter):
    """Log lines (debug logs of HTTP clients included) never show the API key."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def clean_text(text: str) -> str:
    """Text from the terminal as valid Unicode: undecodable bytes (which arrive as lone
    surrogates) become U+FFFD instead of failing deep inside the tokenizer."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that are not escaped bytes
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def shown(name: str) -> str:
    """A file name on one line: control characters (a newline, say) printed as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def one_line(exc: BaseException) -> str:
    """An unexpected error as one line, the key masked."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return mask_secrets(text)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    for name in ("mode", "llm", "k"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings.from_env(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag import api

    settings = _settings(args)
    report = api.ingest(args.path, settings=settings)
    for skipped in report.skipped:
        print(f"skipped {shown(skipped.path)}: {skipped.reason}", file=sys.stderr)
    print(
        f"{report.added_files} added, {report.updated_files} updated, "
        f"{report.removed_files} removed, {report.renamed_files} renamed, "
        f"{report.unchanged_files} unchanged files; "
        f"{report.added_chunks} chunks added, {report.removed_chunks} removed, "
        f"{report.embedded_chunks} embedded; {report.total_chunks} chunks in "
        f"{report.total_files} files ({report.seconds:.1f} s)"
    )
    return 0


def print_answer(result: object, as_json: bool) -> None:
    from rag.models import Answer

    assert isinstance(result, Answer)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    print(result.text)
    for c in result.citations:
        page = f", page {c.page}" if c.page is not None else ""
        flag = "" if c.verified else " (unverified)"
        print(f"  [{c.index}] {c.source}{page}, characters {c.start}-{c.end}{flag}")
    if result.closest:
        print("Closest passages (not an answer):")
        for c in result.closest:
            page = f", page {c.page}" if c.page is not None else ""
            print(f"  - {c.source}{page}, characters {c.start}-{c.end}: {_one_line(c.text)}")


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def cmd_ask(args: argparse.Namespace) -> int:
    from rag import api

    result = api.answer(clean_text(args.question), settings=_settings(args))
    print_answer(result, args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from rag import api
    from rag.models import Answer

    settings = _settings(args)
    history: list[tuple[str, str]] = []
    print("Ask about your documents (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = clean_text(input("> ")).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        except UnicodeDecodeError:
            print("error: that line is not valid UTF-8 text: type it again.", file=sys.stderr)
            continue
        if not question:
            return 0
        try:
            final: Answer | None = None
            for piece in api.stream_answer(question, history=history, settings=settings):
                if isinstance(piece, Answer):
                    final = piece
                else:
                    print(piece, end="", flush=True)
            print()
            if final is not None:
                for c in final.citations:
                    print(f"  [{c.index}] {c.source}:{c.start}-{c.end}")
                history.append((question, final.text))
        except RagError as exc:
            print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)


def cmd_docs(args: argparse.Namespace) -> int:
    from rag import api

    status = api.documents(_settings(args))
    if not status.documents:
        print("Nothing is indexed yet: run rag ingest [PATH].")
        return 0
    names = [shown(d.source) for d in status.documents]
    width = max(len(name) for name in names)
    for name, d in zip(names, status.documents):
        print(f"{name:<{width}}  {d.chunks:>6} chunks  {d.size:>10} bytes  {d.synced_at}")
    print(
        f"{len(status.documents)} files, {status.total_chunks} chunks, last sync {status.last_sync}"
    )
    return 0


def _delegate(module: str) -> object:
    import importlib

    def run(args: argparse.Namespace) -> int:
        main_fn = importlib.import_module(module).main
        return int(main_fn(args.rest) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-k", type=int, default=None, help="number of passages to use")
        p.add_argument("--mode", choices=MODES, default=None, help="retrieval mode")
        p.add_argument("--llm", choices=BACKENDS, default=None, help="answer backend")

    p = sub.add_parser("ingest", help="sync a documents folder into the index")
    p.add_argument("path", nargs="?", type=Path, default=None, help="folder (default: seeds/)")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="chat in the terminal")
    common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("docs", help="list what is indexed")
    p.set_defaults(func=cmd_docs)

    for name, module, text in (
        ("ui", "ui.app", "start the Gradio chat page"),
        ("eval", "evals.runner", "run an evaluation question set"),
        ("bench", "bench.run", "run the speed benchmark"),
    ):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(raw)
    if hasattr(args, "rest"):
        # argparse.REMAINDER drops options that come first (`rag ui --port 8000`): pass all on.
        args.rest = raw[raw.index(args.command) + 1 :]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    fmt = "%(name)s %(levelname)s: %(message)s" if args.debug else "%(levelname)s: %(message)s"
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(fmt))
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, handlers=[handler])
    if not args.debug:
        for noisy in ("httpx", "httpx2", "chromadb", "sentence_transformers", "bm25s", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            print(mask_secrets("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
        if isinstance(exc, RagError):
            print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        else:
            hint = "" if args.debug else " (rag --debug ... shows the traceback)"
            print(f"error: unexpected {one_line(exc)}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
