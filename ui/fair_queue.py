"""One user cannot take the page's whole queue.

Gradio's queue holds ``RAG_QUEUE_SIZE`` events for everyone together: one signed-in reader who
posted 400 questions in 18 s (no browser needed) filled its 256 places, and everyone else got
``503 Queue is full`` until they were answered. A user (the signed-in name, else the client's
address) may have ``MAX_PENDING`` questions or changes waiting or running at once; past them
the page answers 429 (ui/auth.py ``ChangeGuard``). A person asks one question at a time, in a
few tabs at most: 8 is a product choice, far above that.
"""

from __future__ import annotations

from typing import Any

MAX_PENDING = 8


def owner(event: Any) -> str:
    """Whose a queued Gradio event is: its user's name, else its client's address."""
    if getattr(event, "username", None):
        return str(event.username)
    client = getattr(getattr(event, "request", None), "client", None)
    return str(getattr(client, "host", "") or "")


def pending(blocks: Any, who: str) -> int:
    """How many of ``who``'s events Gradio's queue holds, waiting or running."""
    queue = getattr(blocks, "_queue", None)
    if queue is None:
        return 0
    waiting = [
        event for line in queue.event_queue_per_concurrency_id.values() for event in line.queue
    ]
    running = [event for job in queue.active_jobs if job for event in job]
    return sum(1 for event in (*waiting, *running) if owner(event) == who)


def refusal(blocks: Any, who: str) -> str | None:
    """Why ``who`` may not queue one more event now (None: they may)."""
    if pending(blocks, who) < MAX_PENDING:
        return None
    return (
        f"{who} already has {MAX_PENDING} questions or changes waiting or running: wait for "
        "their answers, then ask again."
    )
