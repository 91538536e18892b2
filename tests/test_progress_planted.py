"""A sync's progress on the terminal (rag/progress.py): a stream that is no terminal gets log
lines (at a phase's start and end, and every LINE_EVERY_S seconds between, with the rate and
the time left while both are known), a terminal gets one bar per phase, counted in its own
unit and finished when the phase ends (the sync never closes the last one itself).

Tests written for deliberate bugs a review planted in rag/progress.py that the suite let
through:

- the phase taken as the whole message, not its first word (a bar or a line per message);
- the time left computed from ``total + done``;
- a rate and a time left on the line that ends a phase;
- the time of the last line not kept (a line for every message);
- the bar's units swapped ("chunk" for the files read);
- the bar advanced by ``done`` rather than by what changed since the last message;
- the bar not finished when its phase ends;
- the line interval cut to 1 s.

(Any stream with an ``isatty`` method taken for a terminal was caught already, by
tests/test_source.py; ``test_only_a_terminal_gets_bars`` says it here without a sync.)
"""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest

from rag.progress import LINE_EVERY_S, TerminalProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_a_terminal_gets_bars() -> None:
    """A log file has ``isatty`` too, answering False: it gets lines, not bars."""
    assert TerminalProgress(io.StringIO()).interactive is False
    assert TerminalProgress(FakeTerminal()).interactive is True
    log_file = io.StringIO()
    progress = TerminalProgress(log_file)
    progress(0, 2, "Reading 0/2 files")
    progress(2, 2, "Reading 2/2 files")
    assert log_file.getvalue() == ""


def test_a_terminal_gets_one_finished_bar_per_phase_in_its_unit() -> None:
    terminal = FakeTerminal()
    progress = TerminalProgress(terminal)
    for done in range(4):
        progress(done, 3, f"Reading {done}/3 files")
    for done in range(3):
        progress(done, 2, f"Indexed {done}/2 chunks of 1/1 files")
    out = terminal.getvalue()
    # Each phase's bar is finished on a line of its own, the last one too, with nothing open.
    bars = out.split("\n")
    assert len(bars) == 3 and bars[-1] == ""
    assert progress._bar is None
    reading, indexed = (bar.split("\r")[-1] for bar in bars[:2])
    assert reading.startswith("Reading: 100%|##########| 3/3 [")
    assert "file/s" in reading and "chunk/s" not in reading
    assert reading.endswith(", 3/3 files]")
    assert indexed.startswith("Indexed: 100%|##########| 2/2 [")
    assert "chunk/s" in indexed and "file/s" not in indexed
    assert indexed.endswith(", 2/2 chunks of 1/1 files]")


def test_lines_at_a_phases_start_every_interval_and_at_its_end(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The clock is set by hand: 0 s, 2 s (within the interval: no line), 10 s (the rate and
    the time left: 50 files in 10 s, 50 to go), 12 s (the end: no estimate)."""
    now = [1000.0]
    monkeypatch.setattr("rag.progress.time", SimpleNamespace(monotonic=lambda: now[0]))
    caplog.set_level(logging.INFO, logger="rag")
    progress = TerminalProgress(io.StringIO())
    assert LINE_EVERY_S == 10.0
    for at, done in ((0, 0), (2, 10), (10, 50), (12, 100)):
        now[0] = 1000.0 + at
        progress(done, 100, f"Reading {done}/100 files")
    now[0] = 1020.0
    progress(0, 40, "Indexed 0/40 chunks of 0/100 files")
    lines = [r.getMessage() for r in caplog.records if r.name == "rag"]
    assert lines == [
        "Reading 0/100 files",
        "Reading 50/100 files, 5.0/s, about 10 s left",
        "Reading 100/100 files",
        "Indexed 0/40 chunks of 0/100 files",
    ]
