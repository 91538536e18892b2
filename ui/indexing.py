"""Indexing that never blocks the page: one tracker per app runs every sync (the start-up one in a
background thread, re-sync and uploads in their handler) and tells the page how far it got.

A sync reports two phases through ``rag.ingest``'s progress callback (rag/sync.py): first
"Reading i/n files" (``done``/``total`` count the folder's files, from 0), then
"Indexed d/t chunks of f/p files" (``done``/``total`` count chunks; f of p files are stored).
The banner follows the files of each phase, the Documents tab's line also the chunks.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import rag
from rag import IngestReport, RagError, Settings
from rag.walk import list_files

log = logging.getLogger("ui")

READING = "reading"
STORING = "storing"
_STORED_FILES = re.compile(r" of (\d+)/(\d+) files")


@dataclass(frozen=True)
class IndexProgress:
    """Where the running (or last) sync is; ``running`` False once it ended."""

    running: bool = False
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    stage: str = ""
    error: str = ""
    version: int = 0  # grows by one each time a sync ends: the page then refreshes its lists
    # READING: files_done of files_total files read; STORING: of the new or changed files,
    # files_done stored; "": not started yet.
    phase: str = ""

    @property
    def banner_text(self) -> str:
        """The warning above the chat while a sync runs, else ""."""
        if not self.running:
            return ""
        done = min(self.files_done, self.files_total)
        if self.phase == READING and self.files_total:
            head = f"Indexing: read {done} of {self.files_total} files"
        elif self.files_total:
            head = f"Indexing {done} of {self.files_total} files"
        else:
            head = "Indexing"
        return f"{head} - answers may be incomplete"

    @property
    def detail(self) -> str:
        """One line for the Documents tab's progress indicator."""
        if not self.running:
            return self.error
        parts = [self.banner_text.split(" - ")[0]]
        if self.phase == STORING and self.chunks_total:
            percent = 100 * self.chunks_done / self.chunks_total
            parts.append(f"{self.chunks_done:,} of {self.chunks_total:,} chunks ({percent:.0f}%)")
        return ", ".join(parts)


def count_files(folder: Path | None) -> int:
    """The files of ``folder`` a sync reads: rag.walk's listing, which the sync reads too."""
    if folder is None or not folder.is_dir():
        return 0
    try:
        return len(list_files(folder).files)
    except OSError:
        return 0  # the folder itself cannot be listed: the sync says so


def sync_folder(settings: Settings) -> Path | None:
    """The folder this page syncs: the one the index belongs to (rag.index_source)."""
    try:
        return rag.index_source(settings).folder
    except RagError:
        return None


class IndexTracker:
    """Runs syncs one at a time and keeps their progress for the page."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._progress = IndexProgress()
        self._thread: threading.Thread | None = None
        self.on_done: list[Callable[[], None]] = []

    @property
    def progress(self) -> IndexProgress:
        with self._lock:
            return self._progress

    @property
    def running(self) -> bool:
        with self._lock:
            return self._progress.running

    def _update(self, **changes: object) -> IndexProgress:
        with self._lock:
            values = {**self._progress.__dict__, **changes}
            self._progress = IndexProgress(**values)  # type: ignore[arg-type]
            return self._progress

    def sync(self) -> IngestReport:
        """Sync the documents folder now, in this thread; ``RagError`` as ``rag.ingest``."""
        self._update(
            running=True,
            files_done=0,
            files_total=count_files(sync_folder(self.settings)),
            chunks_done=0,
            chunks_total=0,
            stage="Reading the documents",
            error="",
            phase=READING,
        )

        def report(done: int, total: int, message: str) -> None:
            if message.startswith("Reading"):
                self._update(files_done=done, files_total=total, stage=message, phase=READING)
                return
            stored = _STORED_FILES.search(message)
            files = (int(stored[1]), int(stored[2])) if stored else (0, 0)
            self._update(
                chunks_done=done,
                chunks_total=total,
                files_done=files[0],
                files_total=files[1],
                stage=message,
                phase=STORING,
            )

        error = ""
        try:
            report_ = rag.ingest(settings=self.settings, progress=report)
            return report_
        except RagError as exc:
            error = str(exc)
            raise
        except Exception:
            error = "Indexing failed: the details are in the server log."
            raise
        finally:
            self.touched(running=False, error=error, stage="")
            for callback in self.on_done:
                try:
                    callback()
                except Exception:
                    log.exception("after indexing")

    def touched(self, **changes: object) -> None:
        """The documents changed (a sync ended, with ``changes``, or a delete): the version
        moves on in one locked step, so two changes at once are both counted, and every page
        refreshes its lists."""
        with self._lock:
            changes["version"] = self._progress.version + 1
            self._progress = replace(self._progress, **changes)  # type: ignore[arg-type]

    def start(self) -> threading.Thread:
        """Sync in a background thread (the page is served meanwhile)."""
        self._update(
            running=True,
            stage="Starting",
            files_done=0,
            files_total=count_files(sync_folder(self.settings)),
            phase=READING,
        )
        started = time.perf_counter()

        def run() -> None:
            try:
                report = self.sync()
            except RagError as exc:
                print(f"warning: {exc}\n  Add documents on the page's Documents tab.", flush=True)
                return
            except Exception:
                log.exception("indexing failed")
                return
            for skipped in report.skipped:
                print(f"  skipped {skipped.path}: {skipped.reason}", flush=True)
            print(
                f"  {report.total_files} files, {report.total_chunks} chunks indexed "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )

        self._thread = threading.Thread(target=run, name="rag-index", daemon=True)
        self._thread.start()
        return self._thread
