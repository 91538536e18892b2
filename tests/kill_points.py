"""``python -m tests.kill_points POINT MARKER [ingest args]``: a real ``rag ingest`` that stops
for good at one named point of its sync, after writing POINT to the file MARKER.

The kill-at-point test (tests/test_faults_store.py) waits for the marker, then kills the process:
so every kill lands where it says, whatever the machine's speed, and the test checks the store on
disk shows that point. The points are the sync's own steps, hooked at public methods:

- ``flagged``: the manifest was saved with ``in_progress`` set; nothing else written yet;
- ``deleting``: the first chunks of a removed file were deleted from the store;
- ``adding``: the first window of new chunks was added to the store;
- ``committed``: the store recorded the sync's generation; BM25 and the manifest not yet.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

POINTS = ("flagged", "deleting", "adding", "committed")


def install(point: str, marker: Path) -> None:
    from rag.manifest import Manifest
    from rag.store import VectorStore

    def stop_here() -> None:
        marker.write_text(point, encoding="utf-8")
        while True:  # until the test's SIGKILL
            time.sleep(1)

    if point == "flagged":
        save = Manifest.save

        def saved(self: Manifest, path: Path) -> None:
            save(self, path)
            if self.in_progress:
                stop_here()

        Manifest.save = saved  # type: ignore[method-assign]
        return
    name = {"deleting": "delete", "adding": "add", "committed": "set_generation"}[point]
    method = getattr(VectorStore, name)

    def hooked(self: VectorStore, *args: Any, **kwargs: Any) -> Any:
        method(self, *args, **kwargs)
        stop_here()

    setattr(VectorStore, name, hooked)


def main(argv: list[str]) -> int:
    point, marker, *rest = argv
    if point not in POINTS:
        raise SystemExit(f"point must be one of {', '.join(POINTS)}")
    install(point, Path(marker))
    from rag.cli import main as rag_main

    return rag_main(["ingest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
