"""A long-running process (the UI) sees what another process (`rag ingest`) changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import rag
from rag.config import Settings


def test_index_changed_by_another_process_is_reopened(settings: Settings, docs_dir: Path) -> None:
    rag.ingest(settings=settings)
    assert rag.retrieve("zanzibar cloves", k=1, settings=settings)[0].chunk.source != "spice.txt"
    (docs_dir / "spice.txt").write_text(
        "Zanzibar exports cloves. The clove harvest begins in July.", encoding="utf-8"
    )
    env = dict(os.environ, RAG_DOCS_DIR=str(docs_dir), RAG_STORE_DIR=str(settings.store_dir))
    rag_bin = str(Path(sys.executable).with_name("rag"))
    done = subprocess.run([rag_bin, "ingest"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 added, 0 updated")
    for mode in ("dense", "bm25", "hybrid"):
        top = rag.retrieve("zanzibar cloves", k=1, settings=settings.with_(mode=mode))
        assert top[0].chunk.source == "spice.txt", mode
    # This process can go on syncing the same store afterwards.
    (docs_dir / "spice.txt").unlink()
    report = rag.ingest(settings=settings)
    assert report.removed_files == 1
    assert rag.retrieve("zanzibar cloves", k=1, settings=settings)[0].chunk.source != "spice.txt"
