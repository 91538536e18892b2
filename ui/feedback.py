"""Right/wrong feedback on answers, kept as evaluation questions.

Each verdict appends one line to the feedback file (``evals/feedback.jsonl`` or
``RAG_FEEDBACK_FILE``) in the eval question schema (evals/README.md), so
``rag eval --questions evals/feedback.jsonl --docs FOLDER`` measures the user's own questions.
Extra keys (``feedback``, ``given_answer``, ``created``) are kept for people; the runner
ignores them.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ui.handlers import Turn
from ui.throttle import SignInThrottle

NO_ANSWER = "none"  # the user says the documents do not answer the question
# The largest verdict line kept. A turn comes back from the browser's stored conversation, which
# its user can edit: without a bound one click could write megabytes into the eval file. A real
# turn (a question, an answer of a few sentences, its passages, 40 earlier questions) is far
# below it.
MAX_LINE_BYTES = 256 * 1024
# The largest feedback file written to: clicks in a loop must not fill the disk (each line up to
# MAX_LINE_BYTES), and the page reads the whole file to count them; a person's verdicts stay far
# below it (about 4 KiB each: 16,000 of them).
MAX_FILE_BYTES = 64 * 1024 * 1024
# Verdicts saved per user (the signed-in name, else the client's address: the one a trusted proxy
# forwards, or everyone behind the proxy would share one allowance) in a sliding window:
# a person marks a few answers a minute; a script is held to this, so it needs hours, not
# seconds, to reach MAX_FILE_BYTES, and each verdict's re-count of the file stays rare. A
# product choice.
MAX_VERDICTS = 30
VERDICT_WINDOW = 60.0
_write_lock = threading.Lock()


class VerdictLimit:
    """At most ``per_window`` verdicts per user in any ``window`` seconds (thread-safe)."""

    def __init__(
        self,
        per_window: int = MAX_VERDICTS,
        window: float = VERDICT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # The sign-in throttle's sliding window, every verdict counted (none is taken back).
        self._window = SignInThrottle(max_failed=per_window, window=window, clock=clock)

    @property
    def per_window(self) -> int:
        return self._window.max_failed

    @property
    def window(self) -> float:
        return self._window.window

    def take(self, who: str) -> float:
        """Count one verdict of ``who``: 0.0 if it may be saved, else the seconds to wait."""
        if self._window.attempt(who) is not None:
            return 0.0
        return max(self._window.wait(who), 1.0)


def source_id(source: str) -> str:
    """The eval schema's document id: the relative path without its suffix."""
    return str(PurePosixPath(source).with_suffix(""))


def question_record(turn: Turn, verdict: str, passage: str | None = None) -> dict[str, Any]:
    """One eval question from a verdict on ``turn``.

    right: an answer's cited passages are its evidence; a right refusal is unanswerable.
    wrong: the passage the user picked is the evidence; ``NO_ANSWER`` makes it unanswerable;
    nothing picked keeps it answerable with no evidence (it still measures refusals).
    """
    created = datetime.now(UTC).isoformat(timespec="seconds")
    record: dict[str, Any] = {"id": f"feedback-{uuid.uuid4().hex[:12]}", "question": turn.question}
    evidence: list[dict[str, Any]] = []
    if verdict == "right":
        answerable = not turn.refused
        evidence = list(turn.citations) if answerable else []
    else:
        chosen = [p for p in turn.passages() if p["key"] == passage]
        answerable = passage != NO_ANSWER
        evidence = chosen
    record["answerable"] = answerable
    record["answers"] = []
    record["evidence"] = [e["text"] for e in evidence]
    record["sources"] = sorted({source_id(e["source"]) for e in evidence})
    if turn.history:
        record["history"] = list(turn.history)
    record["feedback"] = verdict
    record["given_answer"] = turn.answer
    record["created"] = created
    return record


def append(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line (one writer at a time; flushed to disk); a line over
    ``MAX_LINE_BYTES``, or one that would take the file past ``MAX_FILE_BYTES``, raises
    ``ValueError`` and writes nothing."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    size = len(line.encode("utf-8"))
    if size > MAX_LINE_BYTES:
        raise ValueError(f"the verdict's record is over {MAX_LINE_BYTES // 1024} KiB")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock, path.open("a", encoding="utf-8") as handle:
        if handle.tell() + size > MAX_FILE_BYTES:
            raise ValueError(
                f"{path} has reached {MAX_FILE_BYTES // (1024 * 1024)} MiB; measure it with "
                f"rag eval --questions {path}, then move it aside (a new one is started) or "
                "set RAG_FEEDBACK_FILE to another file"
            )
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class FeedbackStatus:
    questions: int
    right: int
    wrong: int
    score: str  # the latest `rag eval` run on the file, or ""


def summary_path(path: Path) -> Path:
    """Where ``rag eval --questions PATH`` (default --out) writes its summary."""
    return path.parent / "out" / f"{path.parent.name}-{path.stem}" / "summary.json"


def status(path: Path) -> FeedbackStatus:
    right = wrong = 0
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not at U+2028 and its kin
    except OSError:
        lines = []
    for line in lines:
        try:
            verdict = json.loads(line).get("feedback")
        except (ValueError, AttributeError):
            continue
        right += verdict == "right"
        wrong += verdict == "wrong"
    score = ""
    try:
        summaries = json.loads(summary_path(path).read_text(encoding="utf-8"))
        run = summaries.get("hybrid") or next(iter(summaries.values()))
        parts = [f"{run['questions']} questions"]
        for key, label in (("hit_at_5", "hit@5"), ("balanced_accuracy", "balanced accuracy")):
            if run.get(key) is not None:
                parts.append(f"{label} {run[key]:.2f}")
        score = ", ".join(parts)
    except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
        pass
    return FeedbackStatus(right + wrong, right, wrong, score)
