"""Run the page as a user does (``python -m ui`` in its own process) for the tests that need it."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ANNOUNCEMENT = "Ask your documents at "


@contextmanager
def running_ui(
    args: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 240
) -> Iterator[list[str]]:
    """Start ``python -m ui ARGS``, wait until it announces its address, yield its output lines
    (still growing), then stop it (terminate, kill after 20 s)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    announced = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith(ANNOUNCEMENT):
                announced.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not announced.wait(timeout) or proc.poll() is not None:
            pytest.fail("the UI did not start:\n" + "\n".join(output))
        yield output
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
