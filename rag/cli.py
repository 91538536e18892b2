"""The ``rag`` command: a thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rag.config import BACKENDS, MODES, Settings, apply_offline_env, env_flag
from rag.errors import RagError
from rag.text import brief

apply_offline_env()

MASK = "[hidden key]"
MAX_ERROR_CHARS = 500


def mask_secrets(text: str) -> str:
    """``text`` with the configured API key and Chroma token hidden: a server may echo them
    back in an error."""
    for variable in ("OPENAI_API_KEY", "RAG_CHROMA_TOKEN"):
        secret = (env_flag(variable) or "").strip()
        if len(secret) >= 6:
            text = text.replace(secret, MASK)
    return text


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


# Terminal escape sequences (CSI, OSC, and two-character ESC sequences), then any other
# control character but newline and tab: a document must not drive the terminal.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """``text`` for the terminal: escape sequences and control characters (BEL, ESC, CR ...)
    removed, newlines and tabs kept."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def say(text: str = "", *, file: IO[str] | None = None, end: str = "\n") -> None:
    """Print ``text`` with ``safe``: everything the command prints goes through here."""
    print(safe(text), end=end, file=file if file is not None else sys.stdout, flush=end == "")


def one_line(exc: BaseException) -> str:
    """An unexpected error as one line, the key masked (before the cut: a key cut in two would
    no longer be found, and its first characters would show)."""
    return brief(mask_secrets(" ".join(f"{type(exc).__name__}: {exc}".split())), MAX_ERROR_CHARS)


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
    report = api.ingest(args.path, settings=settings, replace=args.replace)
    for skipped in report.skipped:
        say(f"skipped {shown(skipped.path)}: {skipped.reason}", file=sys.stderr)
    say(
        f"{report.added_files} added, {report.updated_files} updated, "
        f"{report.removed_files} removed, {report.renamed_files} renamed, "
        f"{report.unchanged_files} unchanged files; "
        f"{report.added_chunks} chunks added, {report.removed_chunks} removed, "
        f"{report.embedded_chunks} embedded; {report.total_chunks} chunks in "
        f"{report.total_files} files ({report.seconds:.1f} s)"
    )
    return 0


def where(source: str, page: int | None) -> str:
    return shown(source) + (f", page {page}" if page is not None else "")


def print_answer(result: object, as_json: bool) -> None:
    from rag.models import Answer

    assert isinstance(result, Answer)
    if as_json:
        say(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    say(result.text)
    for c in result.citations:
        flag = "" if c.verified else " (unverified)"
        say(
            f'  [{c.index}] {where(c.source, c.page)}{flag}: "{_one_line(c.text, 400, words=True)}"'
        )
    if result.unsupported:
        say("Removed (not supported by the documents):")
        for claim in result.unsupported:
            say(f"  - {_one_line(claim)}")
    if result.closest:
        say("Closest passages (not an answer):")
        for c in result.closest:
            say(f"  - {where(c.source, c.page)}: {_one_line(c.text, words=True)}")


def _one_line(text: str, limit: int = 160, words: bool = False) -> str:
    return brief(safe(text), limit, words)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag import api

    result = api.answer(clean_text(args.question), settings=_settings(args))
    print_answer(result, args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Only checked answers reach the terminal: a generated draft is verified first (claims
    the documents do not support are removed and listed, or the answer is refused)."""
    from rag import api

    settings = _settings(args)
    history: list[tuple[str, str]] = []
    say("Ask about your documents (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = clean_text(input("> ")).strip()
        except (EOFError, KeyboardInterrupt):
            say()
            return 0
        except UnicodeDecodeError:
            say("error: that line is not valid UTF-8 text: type it again.", file=sys.stderr)
            continue
        if not question:
            return 0
        try:
            final = api.answer(question, history=history, settings=settings)
            print_answer(final, as_json=False)
            if not final.refused:
                history.append((question, final.text))
        except RagError as exc:
            say(f"error: {mask_secrets(str(exc))}", file=sys.stderr)


def cmd_docs(args: argparse.Namespace) -> int:
    from rag import api

    settings = _settings(args)
    status = api.documents(settings)
    if not status.documents:
        say("Nothing is indexed yet: run rag ingest [PATH].")
        return 0
    names = [shown(d.source) for d in status.documents]
    width = max(len(name) for name in names)
    for name, d in zip(names, status.documents):
        say(f"{name:<{width}}  {d.chunks:>6} chunks  {d.size:>10} bytes  {d.synced_at}")
    source = api.index_source(settings)
    origin = f", from {shown(source.recorded)}" if source.recorded else ""
    say(
        f"{len(status.documents)} files, {status.total_chunks} chunks, "
        f"last sync {status.last_sync}{origin}"
    )
    return 0


def read_password(stdin: bool) -> str:
    """The new user's password: typed twice (hidden) on a terminal, else one line of stdin."""
    import getpass

    if stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise RagError("The two passwords differ: run the command again.")
    return password


def cmd_users(args: argparse.Namespace) -> int:
    """`rag users add|remove|list`: the users of a shared page (rag/users.py)."""
    from rag import users

    path = Settings.from_env().users_path
    if args.action == "list":
        found = users.load_users(path)
        for user in sorted(found.values(), key=lambda u: u.name):
            say(f"{shown(user.name)}  {user.role}")
        say(f"{len(found)} users in {path}")
        return 0
    if args.action == "remove":
        if not users.remove_user(path, args.name):
            raise RagError(f"{args.name!r} is not in {path}: rag users list shows who is.")
        say(f"removed {shown(args.name)} from {path}")
        return 0
    users.check_name(args.name)
    users.check_role(args.role)
    _, new = users.add_user(path, args.name, args.role, read_password(args.password_stdin))
    say(f"{'added' if new else 'updated'} {shown(args.name)} ({args.role}) in {path}")
    return 0


# The options of `rag ui` that take a value (ui/app.py): the rest are flags or the folder.
_UI_VALUE_OPTIONS = ("--host", "--port")
UI_USAGE = (
    "rag ui [PATH] [--replace] [options]: serve the chat page over PATH (default: the folder "
    "the index holds; the first time, RAG_DOCS_DIR or seeds/). A folder other than the "
    "index's replaces it only with --replace."
)


def split_ui_args(rest: Sequence[str]) -> tuple[Path | None, bool, list[str]]:
    """`rag ui`'s own arguments (a folder, --replace) apart from those of the page."""
    path: Path | None = None
    replace = False
    passed: list[str] = []
    items = list(rest)
    i = 0
    while i < len(items):
        item = items[i]
        if item == "--replace":
            replace = True
        elif item in _UI_VALUE_OPTIONS:
            passed.extend(items[i : i + 2])
            i += 1
        elif item.startswith("-") or path is not None:
            passed.append(item)
        else:
            path = Path(item)
        i += 1
    return path, replace, passed


def cmd_ui(args: argparse.Namespace) -> int:
    """`rag ui [PATH] [--replace]`: settle which folder the page serves, then start it.

    The folder goes to the page as RAG_DOCS_DIR (uploads are saved there); a folder other
    than the index's is refused unless --replace, which syncs it first.
    """
    import importlib

    path, replace, rest = split_ui_args(args.rest)
    if "-h" in rest or "--help" in rest:
        say(UI_USAGE)
    else:
        from rag import api

        settings = Settings.from_env()
        folder = api.plan_ingest(path, settings=settings, replace=replace)
        if folder is not None and replace:
            api.ingest(folder, settings=settings, replace=True)
        if folder is not None:
            os.environ["RAG_DOCS_DIR"] = str(folder)
    main_fn = importlib.import_module("ui.app").main
    return int(main_fn(rest) or 0)


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
    p.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="folder (default: the folder the index holds; the first time, seeds/)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="let PATH replace an index built from another folder (its other files go), or "
        "let an empty folder empty the index",
    )
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

    p = sub.add_parser(
        "ui", help="start the Gradio chat page: rag ui [PATH] [--replace]", add_help=False
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("users", help="the users of a shared page: rag users add NAME --role R")
    users_sub = p.add_subparsers(dest="action", required=True)
    q = users_sub.add_parser("add", help="add a user (or set their role and password)")
    q.add_argument("name")
    q.add_argument("--role", choices=("reader", "editor"), default="reader",
                   help="reader: may ask; editor: may also upload, delete, re-sync")  # fmt: skip
    q.add_argument("--password-stdin", action="store_true",
                   help="read the password from stdin (one line) instead of asking")  # fmt: skip
    q = users_sub.add_parser("remove", help="remove a user")
    q.add_argument("name")
    users_sub.add_parser("list", help="list the users and their roles")
    p.set_defaults(func=cmd_users)

    for name, module, text in (
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
        say("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:
        if args.debug:
            say(mask_secrets("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
        if isinstance(exc, RagError):
            say(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        else:
            hint = "" if args.debug else " (rag --debug ... shows the traceback)"
            say(f"error: unexpected {one_line(exc)}{hint}", file=sys.stderr)
        return 1


def closed_pipe() -> int:
    """The reader of our output went away (`rag docs | head`): stop quietly. Further output
    (Python's flush at exit) goes to /dev/null instead of failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
