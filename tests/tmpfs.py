"""Run a Python snippet with a small tmpfs mounted, in a user and mount namespace (``unshare``):
a disk that fills up or runs out of inodes for real. Skips where no namespace can be made."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_on_tmpfs(mount: Path, options: str, code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code MOUNT`` after mounting a tmpfs with ``options`` ("size=64k") at
    ``mount`` (made here); this checkout's ``rag`` is the one imported."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare to mount a tmpfs")
    mount.mkdir()
    script = f'mount -t tmpfs -o {options} tmpfs "{mount}" && {sys.executable} -c "$CODE" "{mount}"'
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CODE": code},
        timeout=60,
    )
    if done.returncode != 0 and "mount" in done.stderr and "Traceback" not in done.stderr:
        pytest.skip(f"needs a user namespace to mount a tmpfs: {done.stderr.strip()}")
    return done
