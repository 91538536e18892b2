"""A conversation as Markdown: each question, its answer with [n] markers, and the quoted
passages behind them (file, page, the cited words)."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

from ui.handlers import ChatSession, Turn

# How long an exported file is kept for its download (Gradio copies it to its own cache when
# the page asks for it, at once). Older ones are deleted at the next export: each click wrote a
# new temporary folder that nothing removed. A product choice.
KEEP_SECONDS = 600.0


# Document text (and names, and questions) as Markdown that a viewer shows as text: no raw HTML
# or autolink (``<``), no inline link or image (``](``) and no link definition (``]:``). The
# [n] markers stay as they are; a backslash of the text is doubled so it escapes nothing of ours.
_INERT = {"\\": "\\\\", "<": "\\<", "](": "]\\(", "]:": "]\\:"}
_ACTIVE = re.compile("|".join(re.escape(active) for active in _INERT))


def _inert(text: str) -> str:
    return _ACTIVE.sub(lambda match: _INERT[match.group()], text)


def _quote(text: str) -> str:
    return _inert(" ".join(text.split()))


def _passage(entry: dict[str, object]) -> str:
    page = f", page {entry['page']}" if entry.get("page") is not None else ""
    return f"{_inert(str(entry['source']))}{page}: \u201c{_quote(str(entry['text']))}\u201d"


def turn_markdown(number: int, turn: Turn) -> str:
    lines = [f"## {number}. {_quote(turn.question)}", ""]
    if turn.refused:
        lines += [f"*No answer in the documents.* {_inert(turn.answer)}", ""]
        if turn.closest:
            lines += ["Closest passages (not an answer):", ""]
            lines += [f"- {_passage(entry)}" for entry in turn.closest]
            lines.append("")
        return "\n".join(lines)
    lines += [_inert(turn.answer), ""]
    if turn.citations:
        lines += [f"[{entry['index']}] {_passage(entry)}  " for entry in turn.citations]
        lines.append("")
    return "\n".join(lines)


def conversation_markdown(session: ChatSession, title: str = "Conversation") -> str:
    """The whole conversation; answers that failed are left out."""
    parts = [f"# {title}", ""]
    answered = [t for t in session.turns if t is not None]
    if not answered:
        parts.append("No questions answered yet.")
    parts += [turn_markdown(i, turn) for i, turn in enumerate(answered, 1)]
    return "\n".join(parts).rstrip() + "\n"


def write_export(folder: Path, markdown: str, now: float | None = None) -> Path:
    """``markdown`` saved as ``conversation.md`` in a new sub-folder of ``folder``; exports
    older than ``KEEP_SECONDS`` are deleted first."""
    now = time.time() if now is None else now
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        try:
            if now - old.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue  # removed meanwhile by another export
    target = folder / uuid.uuid4().hex
    target.mkdir()
    path = target / "conversation.md"
    path.write_text(markdown, encoding="utf-8")
    return path


class Exports:
    """Where one page writes its exports: a temporary folder made at the first export (none for
    a page nobody exports from) and deleted with everything in it when the process exits.

    Each page used to make its folder when it was built and nothing removed it: a server left
    one behind at every start, and the test suite hundreds in the temporary directory."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path | None:
        """The folder, once an export made it."""
        return self._folder

    def write(self, markdown: str) -> Path:
        """``markdown`` saved by ``write_export`` in this page's folder."""
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="rag-exports-"))
                # At exit, or when the page is gone; never a reference to self (that would
                # keep it alive).
                weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
            folder = self._folder
        return write_export(folder, markdown)
