"""What the page's buttons do. Plain Python over the public ``rag`` API, testable without a server.

No handler raises: a ``RagError`` is shown with its message, anything else with a generic message
(the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rag
from rag import Answer, Citation, RagError, Settings
from ui import render
from ui.uploads import SavedUpload, UploadRejected, save_upload

if TYPE_CHECKING:
    from ui.indexing import IndexTracker

log = logging.getLogger("ui")

MODES = ("hybrid", "dense", "bm25")
MAX_K = 20
_SURROGATE = re.compile("[\ud800-\udfff]")
GENERIC_ERROR = "Something went wrong on the server. The details are in the server log; try again."

Message = dict[str, str]
ProgressFn = Callable[..., Any]


@dataclass(frozen=True)
class Turn:
    """One finished answer as the conversation keeps it: for export, feedback and a reload.

    ``citations`` and ``closest``: ``{"key", "index", "source", "page", "text"}`` each.
    """

    question: str
    answer: str
    refused: bool
    citations: tuple[dict[str, Any], ...] = ()
    closest: tuple[dict[str, Any], ...] = ()
    history: tuple[str, ...] = ()  # the questions before this one

    @classmethod
    def of(cls, answer: Answer, history: Sequence[str]) -> Turn:
        def cited(prefix: str, citation: Citation, n: int) -> dict[str, Any]:
            return {
                "key": f"{prefix}{n}",
                "index": citation.index,
                "source": citation.source,
                "page": citation.page,
                "text": citation.text,
            }

        return cls(
            question=answer.question,
            answer=answer.text,
            refused=answer.refused,
            citations=tuple(cited("c", c, i) for i, c in enumerate(answer.citations, 1)),
            closest=tuple(cited("n", c, i) for i, c in enumerate(answer.closest, 1)),
            history=tuple(history),
        )

    def passages(self) -> list[dict[str, Any]]:
        """The passages a user can pick as the one that answers the question."""
        return [*self.citations, *self.closest]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        return cls(
            question=str(data.get("question", "")),
            answer=str(data.get("answer", "")),
            refused=bool(data.get("refused", False)),
            citations=tuple(dict(c) for c in data.get("citations") or ()),
            closest=tuple(dict(c) for c in data.get("closest") or ()),
            history=tuple(str(q) for q in data.get("history") or ()),
        )


@dataclass
class ChatSession:
    """One browser session's conversation (kept in a ``gr.State``, so never shared; saved in the
    browser's storage as JSON, so it survives a reload)."""

    messages: list[Message] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # Parallel to the assistant messages: the finished answer, or None (an error).
    turns: list[Turn | None] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "messages": [dict(m) for m in self.messages],
            "history": [list(pair) for pair in self.history],
            "sources": list(self.sources),
            "turns": [asdict(t) if t is not None else None for t in self.turns],
        }

    @classmethod
    def from_json(cls, data: Any) -> ChatSession:
        """A session from what the browser kept; an empty one if it is not ours or damaged."""
        if not isinstance(data, dict) or data.get("version") != 1:
            return cls()
        try:
            messages = [
                {"role": str(m["role"]), "content": str(m["content"])}
                for m in data.get("messages") or ()
            ]
            history = [(str(q), str(a)) for q, a in data.get("history") or ()]
            sources = [str(s) for s in data.get("sources") or ()]
            turns = [Turn.from_json(t) if t else None for t in data.get("turns") or ()]
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls()
        assistant = sum(1 for m in messages if m["role"] == "assistant")
        if len(turns) != assistant:
            return cls()
        return cls(messages, history, sources, turns)

    def turn_at(self, message_index: int) -> Turn | None:
        """The answer shown as chat message ``message_index`` (None: a question or an error)."""
        if not 0 <= message_index < len(self.messages):
            return None
        if self.messages[message_index]["role"] != "assistant":
            return None
        number = sum(1 for m in self.messages[:message_index] if m["role"] == "assistant")
        return self.turns[number] if number < len(self.turns) else None


@dataclass(frozen=True)
class ChatUpdate:
    """One streamed state of the chat: what each output component shows."""

    session: ChatSession
    notice: str = ""
    # What the question box shows; None leaves it as it is. Only taking a question empties
    # it: any later write would wipe what the user typed meanwhile (the next question).
    question: str | None = None
    # The answer is still coming: its sources, and the conversation the browser keeps, are
    # those of the last finished turn (the page sends neither again).
    pending: bool = False

    @property
    def sources(self) -> str:
        return render.sources_panel(self.session.sources)


def valid_text(text: str) -> str:
    """``text`` without lone surrogates (a JSON client can send them): each becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def backends(settings: Settings) -> list[str]:
    """The answer backends this server can use: openai only when it is configured."""
    if settings.openai_base_url or settings.openai_api_key:
        return ["extractive", "openai"]
    return ["extractive"]


def read_only_reason(source: rag.IndexSource) -> str:
    """Why this page may not upload, delete or re-sync ("" when it may)."""
    if source.writable and source.folder is not None:
        return ""
    if source.problem:  # a server down: whose index it is, and fed from where, is not known
        return (
            f"The index on {source.where} cannot be opened now, so nothing can be added, "
            f"removed or re-synced from this page: {source.problem} Reload the page once it "
            "answers."
        )
    if source.shared:
        writer = f" on {source.writer}" if source.writer else ""
        return (
            f"This page is a replica: the index on {source.where} is fed from {source.recorded}"
            f"{writer}, so documents are added, removed and re-synced there (rag ingest on the "
            "writer). This page answers from it."
        )
    return (
        f"The index was built from {source.recorded}, which is not on this machine any more: "
        "restore that folder, or serve another one with rag ui PATH --replace."
    )


class Handlers:
    """The page's actions, bound to the server's base settings."""

    def __init__(self, settings: Settings, tracker: IndexTracker | None = None) -> None:
        self.settings = settings
        self.tracker = tracker

    # Settings ---------------------------------------------------------------------------------

    def session_settings(self, k: float | None, mode: str | None, backend: str | None) -> Settings:
        """The base settings with this session's choices (raise ``RagError`` on a bad one)."""
        changes: dict[str, object] = {}
        if k is not None:
            try:
                changes["k"] = max(1, min(MAX_K, int(k)))
            except (TypeError, ValueError, OverflowError) as exc:
                raise RagError(f"k must be a whole number from 1 to {MAX_K} (got {k!r}).") from exc
        if mode:
            changes["mode"] = mode
        if backend:
            if backend not in backends(self.settings):
                raise RagError(
                    f"The {backend!r} backend is not configured on this server: "
                    "set OPENAI_BASE_URL or OPENAI_API_KEY and restart, or pick extractive."
                )
            changes["llm"] = backend
        return self.settings.with_(**changes)

    # Chat -------------------------------------------------------------------------------------

    def check_question(self, question: str | None, settings: Settings) -> str | None:
        """A message for a question we will not send, else None."""
        text = (question or "").strip()
        if not text:
            return "Type a question first: the question is empty."
        if len(text) > settings.max_question_chars:
            return (
                f"The question is {len(text):,} characters long; the limit is "
                f"{settings.max_question_chars:,}. Shorten it and ask again."
            )
        return None

    def ask(
        self,
        question: str | None,
        session: ChatSession,
        k: float | None = None,
        mode: str | None = None,
        backend: str | None = None,
    ) -> Iterator[ChatUpdate]:
        """Stream one answer into ``session``: the question, the growing answer, the sources."""
        try:
            settings = self.session_settings(k, mode, backend)
        except RagError as exc:
            yield ChatUpdate(session, render.notice(str(exc)))
            return
        problem = self.check_question(question, settings)
        if problem is not None:
            yield ChatUpdate(session, render.notice(problem))
            return
        text = " ".join(valid_text(question or "").split())
        turn = len(session.sources) + 1
        progress = self.tracker.progress if self.tracker is not None else None
        partial = progress.banner_text if progress is not None and progress.running else ""
        if partial and not self.document_names():
            # The first sync has not saved a document yet: an answer would wait for all of it.
            waiting = f"{partial.split(' - ')[0]}: no document is indexed yet. Ask again soon."
            yield ChatUpdate(session, render.notice(waiting, "info"))
            return
        session.messages.append({"role": "user", "content": render.question_message(text)})
        checked_at_end = settings.llm == "openai"  # a generated draft may be revised at the end
        reply: Message = {
            "role": "assistant",
            "content": render.streaming_message("", checked_at_end),
        }
        session.messages.append(reply)
        session.turns.append(None)
        yield ChatUpdate(session, question="", pending=True)
        streamed = ""
        # A model's text is shown as it is written. An extractive answer is finished before its
        # first word: it is shown once, finished, not replayed word by word (each update carries
        # the whole conversation; the replay was half the page's CPU per answer under load).
        live = settings.llm != "extractive"
        started = time.perf_counter()
        try:
            pieces = rag.stream_answer(text, history=list(session.history), settings=settings)
            for piece in pieces:
                if isinstance(piece, Answer):
                    self._finish(session, reply, piece, turn, settings, streamed)
                    if partial and self.tracker is not None and self.tracker.running:
                        reply["content"] += render.incomplete_note(partial)
                    log.info("answered in %.2f s: %r", time.perf_counter() - started, text[:80])
                    yield ChatUpdate(session)
                    return
                streamed += piece
                if live:
                    reply["content"] = render.streaming_message(streamed, checked_at_end)
                    yield ChatUpdate(session, pending=True)
        except RagError as exc:
            reply["content"] = render.notice(str(exc), "error")
            yield ChatUpdate(session)
            return
        except Exception:
            log.exception("answering %r failed", text[:80])
            reply["content"] = render.notice(GENERIC_ERROR, "error")
            yield ChatUpdate(session)
            return
        reply["content"] = render.notice("The answer stopped before it was complete.", "error")
        yield ChatUpdate(session)

    def _finish(
        self,
        session: ChatSession,
        reply: Message,
        answer: Answer,
        turn: int,
        settings: Settings,
        draft: str = "",
    ) -> None:
        texts: dict[str, str] = {}

        def load_text(source: str) -> str:
            if source not in texts:
                texts[source] = rag.document_text(source, settings)
            return texts[source]

        reply["content"] = render.answer_message(answer, turn, draft)
        session.sources.append(render.turn_sources(answer, turn, load_text))
        session.turns[-1] = Turn.of(answer, [q for q, _ in session.history])
        session.history.append((answer.question, answer.text))

    def clear(self) -> ChatSession:
        return ChatSession()

    # Documents --------------------------------------------------------------------------------

    def document_names(self) -> list[str]:
        try:
            return [d.source for d in rag.documents(self.settings).documents]
        except Exception:
            log.exception("listing the documents failed")
            return []

    def _guarded_sync(self, progress: ProgressFn | None, what: str) -> rag.IngestReport | str:
        """Sync, or the notice to show instead when it fails (never a traceback)."""
        try:
            return self._sync(progress)
        except RagError as exc:
            return render.notice(str(exc), "error")
        except Exception:
            log.exception("%s failed", what)
            return render.notice(GENERIC_ERROR, "error")

    def _sync(self, progress: ProgressFn | None) -> rag.IngestReport:
        if self.tracker is not None:  # the page polls the tracker: one progress indicator
            return self.tracker.sync()

        def report(done: int, total: int, message: str) -> None:
            if progress is not None:
                progress((done, total), desc=message or "Indexing")

        return rag.ingest(settings=self.settings, progress=report)

    def upload(self, files: Sequence[str | Path] | None, progress: ProgressFn | None = None) -> str:
        """Save uploaded files into the documents folder and index them; a notice for the page."""
        if not files:
            return render.notice("Choose one or more files to upload.")
        try:
            source = rag.index_source(self.settings)
        except RagError as exc:
            return render.notice(str(exc), "error")
        refused = read_only_reason(source)
        if refused or source.folder is None:
            return render.notice("Nothing was uploaded. " + refused, "error")
        folder = source.folder
        saved: list[SavedUpload] = []
        problems: list[str] = []
        limit = self.settings.max_upload_mb
        for item in files:
            path = Path(item)
            try:  # an unreadable upload is refused here, before it can replace anything
                saved.append(save_upload(path, path.name, folder, limit, self.settings))
            except UploadRejected as exc:
                problems.append(str(exc))
            except OSError:
                log.exception("saving the upload %s failed", path.name)
                problems.append(f"{path.name}: the file could not be saved.")
        if not saved:
            return render.notice("Nothing was uploaded. " + " ".join(problems), "error")
        report = self._guarded_sync(progress, "indexing the uploads")
        if isinstance(report, str):
            return report
        names = {s.path.name for s in saved}
        # A name uploaded twice in one batch is new if its first copy was.
        new = {s.path.name for s in saved if not s.replaced}
        for skipped in report.skipped:
            if skipped.path in names:  # checked when saved, so only if it changed since
                problems.append(f"{skipped.path}: {skipped.reason}; it was not added.")
                names.discard(skipped.path)
                if skipped.path in new:  # never delete a file that was there before the upload
                    (folder / skipped.path).unlink(missing_ok=True)
        added = sorted(names & new)
        replaced = sorted(names - new)
        kind = "success" if not problems else ("warning" if names else "error")
        done = (f"Added {', '.join(added)}. " if added else "") + (
            f"Replaced {', '.join(replaced)}. " if replaced else ""
        )
        summary = f"{report.total_files} files, {report.total_chunks} chunks indexed."
        text = (done or "Nothing was added. ") + " ".join(problems) + (" " if problems else "")
        return render.notice(text + summary, kind)

    def resync(self, progress: ProgressFn | None = None) -> str:
        """Bring the index in line with the documents folder."""
        try:
            refused = read_only_reason(rag.index_source(self.settings))
        except RagError as exc:
            return render.notice(str(exc), "error")
        if refused:
            return render.notice("Nothing was synced. " + refused, "error")
        report = self._guarded_sync(progress, "re-sync")
        if isinstance(report, str):
            return report
        skipped = "".join(f" Skipped {s.path}: {s.reason}." for s in report.skipped)
        return render.notice(
            f"Synced: {report.added_files} added, {report.updated_files} updated, "
            f"{report.removed_files} removed, {report.unchanged_files} unchanged; "
            f"{report.total_chunks} chunks in {report.total_files} files.{skipped}",
            "success" if not report.skipped else "warning",
        )

    def confirm_text(self, sources: str | Sequence[str] | None) -> str | None:
        """The confirmation question naming every document to delete; None if none is chosen."""
        chosen = chosen_sources(sources)
        if not chosen:
            return None
        names = chosen[0] if len(chosen) == 1 else ", ".join(chosen[:-1]) + " and " + chosen[-1]
        count = "" if len(chosen) == 1 else f" ({len(chosen)} documents)"
        return (
            f"Delete {names}{count} from the index and the documents folder? This cannot be undone."
        )

    def delete(self, sources: str | Sequence[str] | None) -> str:
        """Remove each of ``sources`` from the index and the documents folder."""
        chosen = chosen_sources(sources)
        if not chosen:
            return render.notice("Choose a document to delete.")
        indexed = set(self.document_names())
        done: list[str] = []
        problems: list[str] = []
        for source in chosen:
            if source not in indexed:
                problems.append(f"{source} is not indexed (any more): refresh the list.")
                continue
            try:
                removed = rag.remove_document(source, settings=self.settings)
            except RagError as exc:
                problems.append(str(exc))
                continue
            except Exception:
                log.exception("deleting %s failed", source)
                problems.append(GENERIC_ERROR)
                continue
            done.append(f"{source} ({removed} chunk" + ("" if removed == 1 else "s") + ")")
        if done and self.tracker is not None:
            self.tracker.touched()
        text = " ".join([f"Deleted {', '.join(done)}."] * bool(done) + problems)
        kind = "success" if not problems else ("warning" if done else "error")
        if not done and len(problems) == 1 and "not indexed" in problems[0]:
            kind = "warning"
        return render.notice(text, kind)


def chosen_sources(sources: str | Sequence[str] | None) -> list[str]:
    """The distinct document names chosen, in order (one name or a list of them)."""
    if not sources:
        return []
    items = [sources] if isinstance(sources, str) else list(sources)
    seen: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in seen:
            seen.append(name)
    return seen
