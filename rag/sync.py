"""Incremental, idempotent, crash-safe sync of a documents folder into the index."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag.catalog import LOCK_FILE as LOCK_FILE
from rag.catalog import PID_FILE as PID_FILE
from rag.catalog import Catalog, open_catalog
from rag.catalog import writer_busy as writer_busy
from rag.catalog import writer_lock as writer_lock
from rag.chunking import chunk_document, content_hash, indexed_text
from rag.config import Settings
from rag.embeddings import Embedder, embedding_id
from rag.errors import ConfigError, DocumentsError, StoreDamagedError
from rag.lexical import LexicalIndex
from rag.loaders import (
    MARKUP,
    OUTSIDE,
    SUPPORTED_SUFFIXES,
    UnreadableFile,
    is_supported,
    load_document,
)
from rag.manifest import FileEntry, Manifest
from rag.models import Chunk, IngestReport, SkippedFile
from rag.progress import TerminalProgress
from rag.source import holds_documents as holds_documents
from rag.source import this_host
from rag.store import ChromaFailedError, VectorStore
from rag.walk import list_files

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
_WINDOW = 256
_SAVE_EVERY_S = 5.0
# A sync with this many chunks to embed is worth loading the bulk (bfloat16) runtime for (with
# RAG_EMBED_BULK=auto). Measured on this 2-core machine, loading included: 256 chunks 6.7-7.1 s
# against 6.0-6.4 s on onnx, 600 chunks 11.4 s against 13.5 s.
BULK_MIN_CHUNKS = 500
# Once this process has loaded it (an earlier large sync), smaller syncs use it too.
BULK_LOADED_MIN_CHUNKS = 16


def unchanged_report(manifest: Manifest) -> IngestReport:
    """The report of a sync that found nothing to do."""
    files, chunks = len(manifest.files), manifest.total_chunks
    return IngestReport(
        unchanged_files=files, unchanged_chunks=chunks, total_files=files, total_chunks=chunks
    )


def refresh_lexical(store: VectorStore, lexical: LexicalIndex, generation: int) -> None:
    """Rebuild the BM25 index from the chunks in the store, as of sync ``generation``."""
    lexical.build(((c.id, indexed_text(c)) for c in store.iter_chunks()), generation)


def disagreement(manifest: Manifest, store: VectorStore, lexical: LexicalIndex) -> str | None:
    """Why the manifest, the store and the lexical index do not describe one index (cheap)."""
    if manifest.in_progress:
        return "the last sync did not finish"
    expected = manifest.total_chunks
    stored = store.count()
    if stored != expected:
        return f"the store holds {stored} chunks and the manifest lists {expected}"
    if len(lexical) != expected:
        return f"the lexical index holds {len(lexical)} chunks and the manifest lists {expected}"
    return None


@dataclass
class _Pending:
    source: str
    hash: str
    size: int
    mtime: float
    chunks: list[Chunk]
    kind: str  # "added", "updated" or "renamed"
    text: str  # the document's full text (server mode stores it)
    old_ids: list[str] = field(default_factory=list)
    written: int = 0


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def chunking_key(settings: Settings) -> str:
    """What the chunks were made with: an index made otherwise is re-chunked at the next sync.
    v3: a definition list's terms head their descriptions (rag/loaders/base.py ``term``).
    v4: a full stop inside a token ("the fs.ReadStream API") ends no sentence (chunking.py);
    what a Sphinx directive describes is the term of its content (loaders/rst.py).
    v5: an HTML navigation bar ("Next: a, Up: b [Contents]") is chrome, a one-column table
    (DocBook's notes) is read as the paragraphs it frames (loaders/html.py).
    v6: a full stop after white space, lower case after it ("the . (period) character"),
    ends no sentence (chunking.py).
    v7: a sentence that introduces a code block, list or table ends no chunk (chunking.py); a
    Sphinx directive whose content is Python that docutils misread is code (loaders/rst.py).
    v8: an HTML table cell has no space at an inline element's edge, "(M)" not "( M )"; a
    menu, a trail or a row of languages is chrome without a word saying where its links go
    (loaders/html.py).
    v9: a DocBook FAQ's question heads its answer (loaders/html.py).
    v10: text an inline style hides (display: none, in HTML and Markdown's raw HTML) or
    Word's Hidden effect hides is not indexed (loaders/html.py, markdown.py, docx.py); a list
    whose every item holds a heading is read as sections, Javadoc's summary grid as a table;
    AsciiDoc's title beside #content is kept, Doxygen's and RDoc's chrome left out.
    v11: what a page marks as not for search and its own table of contents are left out, a
    line break in a heading or term is a space, a link named "CREATE INDEX" makes no bar, a
    Sphinx grammar or sidebar is read, a page without a heading is headed by its <title>
    (html.py); no chunk is only the overlap of the one before, nor only a heading (chunking.py).
    v12: a plain text file's wrapped paragraphs are unwrapped (loaders/text.py); a note's box
    labelled by a word beside it ("Note", "Warning": AsciiDoc's) is read as its paragraphs, not
    as a table row (loaders/html.py).
    v13: a PDF's running heads, feet and page numbers are left out, a sentence the page break
    cut goes on across it, a paragraph's short last line ends it, and lines set in a monospaced
    font are code blocks (loaders/pdf.py); a note's label with its colon after the word's tag
    ("<b>Note</b>:") frames the note (loaders/html.py).
    v14: a PDF outline entry's section starts at its heading line, which is a heading, not at
    its page's top; typesetting ligatures are their letters ("ﬁ" is "fi"); without an
    outline, lines set larger than the body text are headings (loaders/pdf.py).
    v15: a section path keeps its innermost 8 headings, each cut to 200 characters
    (chunking.py); a PDF heading at a page's top never goes on with the sentence the page
    before broke off: it is on its own page, in its section's chunk (loaders/pdf.py).
    v16 (never released) and v17: a PDF's Texinfo definition lines ("[Function]void
    sha256_init (...)") head their entries, named "Function: sha256_init"; v17 names a
    definition without parameters by its first word unless a C type comes first, and takes no
    wrapped cross-reference ("[Randomness], page 90.") for one (loaders/pdf_headings.py).
    v18: a PDF's spacing accent before its letter is joined to it, "M¨oller" is "Möller"
    (loaders/pdf.py). v19: an ordered list's items keep their numbers ("1. ", "b. "), in HTML,
    Markdown and reStructuredText (loaders/html.py, loaders/rst.py). v20: a list of class
    "toc" whose words are mostly outside links is content, not a table of contents
    (texi2html's bullet-less lists; loaders/html.py). v21: MyST Markdown's directives, roles
    and marks read as the built page shows them (loaders/markdown.py). v22: a table of
    navigation links alone (texi2html's "[ << ] [ < ] [ Up ] ... [Top] [Contents]" bars) is
    chrome (loaders/html.py)."""
    return f"structure-v22/{settings.chunk_size}/{settings.chunk_overlap}"


def check_folder(root: Path) -> Path:
    if not root.exists():
        raise DocumentsError(
            f"The documents folder {root} does not exist: create it and add "
            f"{', '.join(SUPPORTED_SUFFIXES)} files, or point to another folder "
            "(rag ingest PATH, or RAG_DOCS_DIR)."
        )
    if not root.is_dir():
        raise DocumentsError(f"{root} is a file, not a folder: pass the folder that holds it.")
    return root.resolve()


def size_cap(path: Path, settings: Settings) -> tuple[float, str, str]:
    """The size cap of a file like ``path``: megabytes, the setting that sets it, its kind."""
    markup = MARKUP.get(path.suffix.lower())  # read into a tree: the smaller cap
    if markup:
        return settings.max_html_mb, "RAG_MAX_HTML_MB", markup
    return settings.max_file_mb, "RAG_MAX_FILE_MB", "a file"


def byte_cap(path: Path, settings: Settings) -> int:
    """The size cap of a file like ``path`` in bytes: held as it is read (it may grow)."""
    return int(size_cap(path, settings)[0] * 1024 * 1024)


def size_problem(path: Path, size: int, settings: Settings) -> str:
    """Why a file of ``size`` bytes is over the size caps (checked before it is read, and
    again as it is read: a file may grow or be swapped between), or ""."""
    cap, setting, kind = size_cap(path, settings)
    if size <= cap * 1024 * 1024:
        return ""
    return (
        f"{size / 1024 / 1024:.1f} MB is over the {cap:g} MB limit for {kind} "
        f"(raise {setting} to index it)"
    )


class Syncer:
    """Brings the store, the lexical index and the manifest in line with one folder."""

    def __init__(
        self,
        settings: Settings,
        store: VectorStore,
        lexical: LexicalIndex,
        embedder: Embedder,
        catalog: Catalog | None = None,
    ) -> None:
        # The store and the lexical index are shared by calls with different settings; the
        # embedder is this call's, and must be the one its settings name.
        if embedder.id != embedding_id(settings.embed_backend):
            raise ConfigError(
                f"The embedder gives {embedder.id} vectors but the settings name the "
                f"{settings.embed_backend!r} backend ({embedding_id(settings.embed_backend)}): "
                "pass the embedder of these settings (rag.api.shared_embedder(settings))."
            )
        self.settings = settings
        self.store = store
        self.lexical = lexical
        self.embedder = embedder
        self.catalog = catalog or open_catalog(
            settings.store_dir, settings.chroma_url, lambda: store, settings.own("manifest.json")
        )
        # Lexical changes of the running sync: rows to add and chunk ids to drop.
        self._added_rows: list[tuple[str, str]] = []
        self._removed_ids: list[str] = []
        # Stored chunks no manifest entry lists (a crashed sync's): their embeddings are reused
        # by this sync, then those it did not list again are deleted.
        self._orphans: set[str] = set()

    def load_manifest(self) -> Manifest:
        """The manifest; rebuilt from the store's metadata if it is unreadable, or missing (or
        empty) while the store holds chunks: never read as an empty index."""
        in_progress = False
        try:
            loaded = self.catalog.load()
        except StoreDamagedError as exc:
            log.warning("%s Rebuilding it from the index.", str(exc).split(":")[0])
        else:
            if loaded.files:
                return loaded
            stored = self.store.count()
            if not stored:
                return loaded
            log.warning(
                "The document list lists nothing but %s holds %d chunks: rebuilding it from "
                "the index.",
                self.store.where,
                stored,
            )
            in_progress = loaded.in_progress  # a first sync that crashed: it needs repair
        manifest = self.manifest_from_store()
        manifest.in_progress = in_progress
        self.fence()
        self.catalog.save(manifest)
        return manifest

    def _check_vectors(self) -> None:
        """A local store whose vector index Chroma cannot read (a kill or power cut while it
        wrote it) is emptied: the repair below then adds every file again, embedding it anew.
        Without this, every question failed, and every sync too or found nothing to do."""
        if self.settings.chroma_url:
            return  # a team's server: its own operator decides
        try:
            self.store.probe()
        except ChromaFailedError as exc:
            cause = " ".join(str(exc.__cause__ or exc).split())[:200]
            log.warning(
                "The vector index in %s cannot be read (%s): rebuilding it from the documents "
                "(every chunk is embedded again).",
                self.store.where,
                cause,
            )
            self.fence()
            self.store.clear()

    def fence(self) -> None:
        """Before every write: raise if this sync lost the index's writer lease (server mode),
        so that a writer that stalled and was replaced writes nothing more."""
        self.catalog.check()

    def manifest_from_store(self) -> Manifest:
        """A manifest listing what the store holds, with file hashes unknown.

        The next sync re-reads and re-chunks every file (``chunking`` is unknown too) and
        reuses every stored embedding: nothing is embedded again.
        """
        state = self.store.state()
        by_source: dict[str, list[Chunk]] = {}
        for chunk in self.store.iter_chunks():
            by_source.setdefault(chunk.source, []).append(chunk)
        files = {}
        for source, chunks in sorted(by_source.items()):
            chunks.sort(key=lambda c: (c.start, c.end, c.id))
            try:
                size = (Path(state.root) / source).stat().st_size if state.root else 0
            except OSError:
                size = 0
            files[source] = FileEntry(
                hash="", size=size, mtime=0.0, chunks=[c.id for c in chunks], synced_at=now()
            )
        return Manifest(
            root=state.root,
            embedding=state.embedding or "",
            generation=state.generation,
            last_sync=now(),
            files=files,
        )

    def _disagreement(self, manifest: Manifest) -> str | None:
        """Like ``disagreement``, and the generation each part was written by."""
        problem = disagreement(manifest, self.store, self.lexical)
        if problem is not None and not problem.startswith("the lexical index"):
            return problem
        stored = self.store.state().generation
        if stored != manifest.generation:
            return f"the store was written by sync {stored} and the manifest by sync " + str(
                manifest.generation
            )
        return None

    def sync(
        self, folder: Path, progress: Progress | None = None, allow_empty: bool = False
    ) -> IngestReport:
        """Bring the index in line with ``folder``. A folder that holds no document at all
        while the index holds some is refused unless ``allow_empty`` (``--replace``): it is
        far more often a drive or share that is not mounted than a wish to drop everything."""
        started = time.perf_counter()
        root = check_folder(folder)
        self._check_vectors()
        manifest = self.load_manifest()
        self._orphans = set()
        problem = self._disagreement(manifest)
        repaired = problem is not None
        if repaired:
            log.warning("Repairing the index first: %s.", problem)
            self._reconcile(manifest)
        if manifest.root and manifest.root != str(root) and manifest.files:
            # rag.api.ingest lets a sync replace another folder's index only when asked to, and
            # says so (rag/source.py): a second line here repeated it.
            log.debug("Replacing the index of %s with %s.", manifest.root, root)
        needs_lexical = (
            repaired
            or len(self.lexical) != manifest.total_chunks
            or self.lexical.generation != manifest.generation
        )
        stored = self.store.embedding()
        if stored is not None and stored != self.embedder.id:
            log.warning(
                "The index holds %s embeddings and this backend gives %s: re-embedding everything.",
                stored,
                self.embedder.id,
            )
            self.fence()
            self.store.clear()
            manifest.files.clear()
            self.catalog.save(manifest)
            needs_lexical = True
        rechunk = manifest.chunking != chunking_key(self.settings)
        manifest.root, manifest.chunking = str(root), chunking_key(self.settings)
        manifest.embedding = self.embedder.id
        manifest.host = this_host()

        if progress is None:
            progress = TerminalProgress()
        pending, skipped, seen, unchanged = self._scan(root, manifest, rechunk, progress)
        if not seen and not manifest.files:
            raise DocumentsError(
                f"No documents found in {root}: add {', '.join(SUPPORTED_SUFFIXES)} files there "
                "and run rag ingest again."
                + (f" ({len(skipped)} file(s) skipped: {skipped[0].reason})" if skipped else "")
            )
        if not seen and manifest.files and not allow_empty:
            raise DocumentsError(
                f"The documents folder {root} holds no documents now, and the index holds "
                f"{len(manifest.files)} files from it: a sync would remove them all. If the "
                "folder is on a drive or share that is not mounted, mount it and try again; to "
                f"empty the index, run rag ingest {root} --replace."
            )
        removed = [source for source in manifest.files if source not in seen]
        renamed = self._match_renames(pending, removed, manifest)

        removed_chunks = sum(len(manifest.files[s].chunks) for s in removed)
        self._added_rows, self._removed_ids = [], []
        changed = bool(pending or removed) or repaired or needs_lexical
        embedded = 0
        if changed:
            # Every part is written while in_progress is set: a crash leaves it set, and the
            # next sync (or question) repairs the index.
            manifest.in_progress = True
            self.catalog.save(manifest)
            self.fence()
            self.store.set_embedding(self.embedder.id)
            for source in removed:
                ids = manifest.files.pop(source).chunks
                self.fence()
                self.store.delete(ids)
                self._removed_ids.extend(ids)
            embedded = self._write(pending, manifest, progress)
            leftover = sorted(self._orphans - manifest.chunk_ids)
            if leftover:
                self.fence()
                self.store.delete(leftover)
                self._removed_ids.extend(leftover)
            self._orphans = set()
            manifest.generation += 1
            self.fence()
            self.store.set_generation(manifest.generation, str(root))
            if needs_lexical:
                self.rebuild_lexical(manifest.generation)
            else:
                self._update_lexical(manifest.total_chunks, generation=manifest.generation)
        self._added_rows, self._removed_ids = [], []
        # A store made before SEARCH_EF searched approximately: raised by any sync, after its
        # writes (a sync is marked unfinished before its first fenced write).
        self.fence()
        self.store.ensure_search_ef()
        manifest.in_progress = False
        manifest.last_sync = now()
        self.catalog.save(manifest)

        def count(kind: str) -> int:
            return sum(1 for p in pending if p.kind == kind)

        replaced = sum(len(p.old_ids) for p in pending if p.kind == "updated")
        return IngestReport(
            added_files=count("added"),
            updated_files=count("updated"),
            removed_files=len(removed),
            renamed_files=renamed,
            unchanged_files=unchanged,
            added_chunks=sum(len(p.chunks) for p in pending if p.kind != "renamed"),
            removed_chunks=removed_chunks + replaced,
            unchanged_chunks=sum(len(e.chunks) for e in manifest.files.values())
            - sum(len(p.chunks) for p in pending),
            embedded_chunks=embedded,
            total_files=len(manifest.files),
            total_chunks=manifest.total_chunks,
            skipped=skipped,
            seconds=time.perf_counter() - started,
        )

    def remove(self, source: str) -> int:
        """Drop one document from the index (not from disk); returns its chunk count."""
        manifest = self.load_manifest()
        entry = manifest.files.pop(source, None)
        if entry is None:
            return 0
        manifest.in_progress = True
        self.catalog.save(manifest)
        self.fence()
        self.store.delete(entry.chunks)
        manifest.generation += 1
        self.fence()
        self.store.set_generation(manifest.generation, manifest.root)
        self._update_lexical(manifest.total_chunks, entry.chunks, manifest.generation)
        manifest.in_progress = False
        self.catalog.save(manifest)
        return len(entry.chunks)

    def rebuild_lexical(self, generation: int) -> None:
        refresh_lexical(self.store, self.lexical, generation)

    def _update_lexical(
        self, expected: int, removed: list[str] | None = None, generation: int = 0
    ) -> None:
        """Apply this sync's changes to the lexical index; rebuild it if they don't add up."""
        removed_ids = self._removed_ids if removed is None else removed
        applied = self.lexical.update(self._added_rows, removed_ids, generation)
        if not applied or len(self.lexical) != expected:
            log.info("Rebuilding the lexical index from the store.")
            self.rebuild_lexical(generation)

    def _scan(
        self, root: Path, manifest: Manifest, rechunk: bool, progress: Progress
    ) -> tuple[list[_Pending], list[SkippedFile], set[str], int]:
        pending: list[_Pending] = []
        skipped: list[SkippedFile] = []
        seen: set[str] = set()
        unchanged = 0
        try:
            listing = list_files(root)
        except OSError as exc:  # the folder itself (a sub-folder's failure is listed, below)
            raise DocumentsError(
                f"Cannot list the documents folder {root} ({exc.strerror or exc}): give this "
                "user read access to it, or name another folder (rag ingest PATH, RAG_DOCS_DIR)."
            ) from exc
        paths = listing.files
        for name, reason in listing.passed_over:
            log.warning("Skipping %s: %s", name, reason)
            skipped.append(SkippedFile(name, reason))
        for folder, reason in listing.unlisted:
            # What the folder held is unknown, not gone: its documents stay indexed as they were.
            inside = [s for s in manifest.files if s.startswith(folder + "/")]
            seen.update(inside)
            unchanged += len(inside)
            why = (
                f"the folder cannot be listed ({reason}); its {len(inside)} indexed file(s) are "
                "kept"
            )
            log.warning("Skipping %s/: %s", folder, why)
            skipped.append(SkippedFile(folder + "/", why))
        for done, path in enumerate(paths):
            progress(done, len(paths), f"Reading {done}/{len(paths)} files")
            rel = path.relative_to(root)
            source = rel.as_posix()
            if not is_supported(path):
                skipped.append(SkippedFile(source, f"unsupported type {path.suffix or '(none)'}"))
                continue
            entry = manifest.files.get(source)
            try:
                # resolve() can fail too: a link swapped for a file while it is read (EINVAL).
                if root not in path.resolve().parents:
                    skipped.append(SkippedFile(source, OUTSIDE))
                    continue
                stat = path.stat()
            except FileNotFoundError:
                continue  # deleted since the folder was listed: gone from the index too
            except OSError as exc:
                note = self._keep(entry, source, exc, seen)
                log.warning("Skipping %s: cannot read: %s%s", source, exc.strerror or exc, note)
                skipped.append(SkippedFile(source, f"cannot read: {exc.strerror or exc}{note}"))
                continue
            if entry and not rechunk and (entry.size, entry.mtime) == (stat.st_size, stat.st_mtime):
                seen.add(source)
                unchanged += 1
                continue
            too_big = size_problem(path, stat.st_size, self.settings)
            if too_big:
                log.warning("Skipping %s: %s", source, too_big)
                skipped.append(SkippedFile(source, too_big))
                continue
            try:
                document = load_document(
                    path,
                    self.settings.max_parse_seconds,
                    within=root,
                    max_bytes=byte_cap(path, self.settings),
                )
            except UnreadableFile as exc:
                if not path.exists():
                    continue  # deleted while it was read: gone from the index too
                note = self._keep(entry, source, exc.__cause__, seen)
                log.warning("Skipping %s: %s%s", source, exc, note)
                skipped.append(SkippedFile(source, f"{exc}{note}"))
                continue
            seen.add(source)
            digest = content_hash(document.text)
            if entry and not rechunk and entry.hash == digest:
                manifest.files[source] = replace(entry, size=stat.st_size, mtime=stat.st_mtime)
                unchanged += 1
                continue
            chunks = chunk_document(
                source,
                document.text,
                size=self.settings.chunk_size,
                overlap=self.settings.chunk_overlap,
                pages=document.pages,
                blocks=document.blocks,
                title=document.title,
            )
            pending.append(
                _Pending(
                    source=source,
                    hash=digest,
                    size=stat.st_size,
                    mtime=stat.st_mtime,
                    chunks=chunks,
                    kind="updated" if entry else "added",
                    text=document.text,
                    old_ids=list(entry.chunks) if entry else [],
                )
            )
        if paths:
            progress(len(paths), len(paths), f"Reading {len(paths)}/{len(paths)} files")
        return pending, skipped, seen, unchanged

    @staticmethod
    def _keep(
        entry: FileEntry | None, source: str, cause: BaseException | None, seen: set[str]
    ) -> str:
        """Keep the index entry of a file that is there but cannot be read now (permission
        denied, an I/O error): a sync removes only what is gone. Returns the note for the
        report ("" when nothing is kept: a new file, or content that cannot be read)."""
        if entry is None or not isinstance(cause, OSError):
            return ""
        seen.add(source)
        return "; its earlier index entry is kept"

    @staticmethod
    def _match_renames(pending: list[_Pending], removed: list[str], manifest: Manifest) -> int:
        """A new file with the content of a vanished one is a rename: reuse, don't re-embed."""
        by_hash = {manifest.files[s].hash: s for s in removed}
        renamed = 0
        for item in pending:
            old = by_hash.pop(item.hash, None) if item.kind == "added" else None
            if old is not None:
                item.kind = "renamed"
                item.old_ids = manifest.files.pop(old).chunks
                removed.remove(old)
                renamed += 1
        return renamed

    def _write(self, pending: list[_Pending], manifest: Manifest, progress: Progress | None) -> int:
        """Embed (reusing stored vectors for known texts) and add chunks, file by file."""
        work = [(item, chunk) for item in pending for chunk in item.chunks]
        total = len(work)
        files_done = sum(1 for item in pending if not item.chunks)
        embedded = 0
        last_save = time.monotonic()
        for item in pending:
            if not item.chunks:
                self._finish(item, manifest)
        if progress is not None and total:
            progress(0, total, f"Indexed 0/{total} chunks of {files_done}/{len(pending)} files")
        all_hashes = [content_hash(indexed_text(chunk)) for _, chunk in work]
        bulk = self._is_bulk(all_hashes)
        for offset in range(0, total, _WINDOW):
            window = work[offset : offset + _WINDOW]
            chunks = [chunk for _, chunk in window]
            hashes = all_hashes[offset : offset + _WINDOW]
            known = self.store.embeddings_by_text_hash(hashes)
            missing = sorted(
                {h: indexed_text(c) for h, c in zip(hashes, chunks) if h not in known}.items()
            )
            if missing:
                texts = [text for _, text in missing]
                vectors = self.embedder.embed_documents(texts, bulk=bulk)
                known.update({h: v for (h, _), v in zip(missing, vectors)})
                embedded += len(missing)
            self.fence()
            self.store.add(chunks, np.stack([known[h] for h in hashes]), hashes)
            self._added_rows.extend((chunk.id, indexed_text(chunk)) for chunk in chunks)
            for item, _ in window:
                item.written += 1
                if item.written == len(item.chunks):
                    self._finish(item, manifest)
                    files_done += 1
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                self.catalog.save(manifest)
                last_save = time.monotonic()
            done = offset + len(window)
            if progress is not None:
                progress(
                    done,
                    total,
                    f"Indexed {done}/{total} chunks of {files_done}/{len(pending)} files",
                )
        return embedded

    def _is_bulk(self, hashes: list[str]) -> bool:
        """Whether this sync has enough new texts to embed for the bulk runtime to pay off."""
        least = BULK_LOADED_MIN_CHUNKS if self.embedder.bulk_loaded else BULK_MIN_CHUNKS
        unique = set(hashes)
        if self.settings.embed_bulk == "off" or len(unique) < least:
            return False
        return len(unique - self.store.known_text_hashes(hashes)) >= least

    def _finish(self, item: _Pending, manifest: Manifest) -> None:
        new_ids = [chunk.id for chunk in item.chunks]
        self.catalog.keep_text(item.source, item.text)
        stale = set(item.old_ids) - set(new_ids)
        if stale:
            self.fence()
            self.store.delete(sorted(stale))
            self._removed_ids.extend(stale)
        manifest.files[item.source] = FileEntry(
            hash=item.hash, size=item.size, mtime=item.mtime, chunks=new_ids, synced_at=now()
        )

    def _reconcile(self, manifest: Manifest) -> None:
        """After a crash or damage: forget entries with chunks the store lacks (the scan adds
        their files again), and note the stored chunks no entry lists (see ``_orphans``)."""
        stored = self.store.all_ids()
        listed: set[str] = set()
        for source, entry in list(manifest.files.items()):
            if all(chunk_id in stored for chunk_id in entry.chunks):
                listed.update(entry.chunks)
            else:
                del manifest.files[source]
        self._orphans = stored - listed
        manifest.in_progress = True
        self.catalog.save(manifest)
