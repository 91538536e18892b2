"""Training and validation of the reader (``python -m train``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to(path: Path) -> None:
    """Warnings on stderr and in ``path``; the ``train`` package's own progress at INFO."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(path)],
    )
    logging.getLogger("train").setLevel(logging.INFO)
