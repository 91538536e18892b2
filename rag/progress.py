"""Progress of a sync on a terminal: a bar (files or chunks, rate, time left), or plain lines
when the output is not a terminal (a log file, a pipe)."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

log = logging.getLogger("rag")
LINE_EVERY_S = 10.0


class TerminalProgress:
    """A ``Progress`` callback (done, total, message) for the terminal.

    Each phase of a sync ("Reading" files, "Indexed" chunks: the message's first word) gets
    its own bar; without a terminal, one line per phase every ``LINE_EVERY_S`` seconds and at
    its end.
    """

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self._phase = ""
        self._bar: Any = None
        self._last_line = 0.0
        self._started = 0.0

    def __call__(self, done: int, total: int, message: str) -> None:
        phase = message.split(" ", 1)[0]
        if phase != self._phase:
            self.close()
            self._phase, self._started, self._last_line = phase, time.monotonic(), 0.0
            if self.interactive:
                from tqdm import tqdm

                unit = "file" if phase == "Reading" else "chunk"
                self._bar = tqdm(
                    total=total, unit=unit, desc=phase, file=self.stream, dynamic_ncols=True
                )
        if self._bar is not None:
            self._bar.total = total
            self._bar.set_postfix_str(message.split(" ", 1)[-1], refresh=False)
            self._bar.update(done - self._bar.n)
            if done >= total:
                self.close()
            return
        now = time.monotonic()
        if done >= total or now - self._last_line >= LINE_EVERY_S:
            self._last_line = now
            elapsed = now - self._started
            rate = done / elapsed if elapsed > 0 else 0.0
            left = (total - done) / rate if rate > 0 else 0.0
            measured = elapsed >= 1.0 and done < total and rate > 0
            tail = f", {rate:.1f}/s, about {left:.0f} s left" if measured else ""
            log.info("%s%s", message, tail)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
