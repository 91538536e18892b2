"""The public functions: wire settings, store, index, retrieval and answering together."""

from __future__ import annotations

import logging
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rag.answering import answer_extractive
from rag.batching import shared_reader
from rag.calibration import corpus_baseline, measure_baseline
from rag.catalog import Catalog, open_catalog
from rag.chunking import indexed_text
from rag.config import Settings, usable_folder
from rag.embeddings import Embedder
from rag.entities import (
    RARE_SHARE,
    Term,
    asked,
    distinctive_terms,
    focus,
    unknown_names,
    written_outside_urls,
)
from rag.entities import check as check_names
from rag.entities import refuse as refuse_answer
from rag.errors import DocumentsError, QuestionError, StoreBusyError, StoreDamagedError
from rag.followup import condense_offline, search_words
from rag.lexical import LexicalIndex
from rag.loaders import UnreadableFile, load_document, opened_path
from rag.manifest import Manifest
from rag.models import Answer, IndexedDocument, IndexStatus, IngestReport, Passage
from rag.numbers import admits as admits_number
from rag.numbers import check as check_number
from rag.questions import reader_question
from rag.reader import Reader
from rag.retrieval import Retriever
from rag.source import IndexSource, describe, sync_folder
from rag.store import StoreReopenedError, VectorStore, check_store_folder
from rag.sync import (
    Progress,
    Syncer,
    byte_cap,
    disagreement,
    refresh_lexical,
    size_problem,
    unchanged_report,
    writer_busy,
    writer_lock,
)
from rag.text import without_surrogates

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from rag.chain import RagRetriever
    from rag.generation import Checks

log = logging.getLogger("rag")
T = TypeVar("T")
# The turns of a conversation a follow-up is read against (pairs or messages): more would only
# cost time; the rewrite of a follow-up reaches back through the turns that refer back too.
HISTORY_ITEMS = 40
# How long a check that the store, the BM25 index and the manifest agree holds, while the
# manifest stays the same (a sync anywhere changes it, and the engine is then reopened and
# checked again): a page under load asked the store for its count 30 times a second, holding
# the interpreter's lock meanwhile. A store changed behind the manifest's back is noticed
# within this time. A product choice.
AGREEMENT_SECONDS = 1.0
_engines: dict[tuple[str, str, str], Engine] = {}
_engines_lock = threading.Lock()
# One writer per store and process (the lock file in the store folder adds other processes);
# kept apart from the engines, which are replaced when another process changed the store.
_sync_locks: dict[tuple[str, str, str], threading.Lock] = {}
_embedders: dict[tuple[str, str, int], Embedder] = {}
_embedders_lock = threading.Lock()


def shared_embedder(settings: Settings) -> Embedder:
    """One model per backend and process: loading it takes time."""
    key = (settings.embed_backend, str(settings.cache_dir), settings.embed_batch_size)
    usable_folder(settings.cache_dir, "RAG_CACHE_DIR", create=False)  # made when first used
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = Embedder(
                settings.embed_batch_size, settings.embed_backend, settings.cache_dir
            )
        return _embedders[key]


class Engine:
    """The parts behind one store location, built once and reused by every call."""

    def __init__(self, settings: Settings, sync_lock: threading.Lock | None = None) -> None:
        if settings.store_dir.is_file():
            check_store_folder(settings.store_dir)  # raises: the store folder is a file
        usable_folder(settings.store_dir, "RAG_STORE_DIR")
        self.settings = settings
        self.lexical = LexicalIndex(settings.own("bm25"))
        self.sync_lock = sync_lock if sync_lock is not None else threading.Lock()
        # The manifest as this process last saw it: a change by another process means reopen.
        self.stamp = self.catalog.stamp()
        # Server mode, when the server holds chunks its document list does not name (a writer
        # that died or was fenced mid-sync): (generation, the listed chunk ids); answers use
        # only those until the next sync repairs the index.
        self.listed: tuple[int, frozenset[str]] | None = None
        # When the store, the BM25 index and this manifest last agreed (``ensure_index``).
        self.agreed_at: float | None = None

    @cached_property
    def store(self) -> VectorStore:
        return VectorStore(self.settings)

    @cached_property
    def catalog(self) -> Catalog:
        """The document list, texts and writer lease: local files, or the Chroma server."""
        return open_catalog(
            self.settings.store_dir,
            self.settings.chroma_url,
            lambda: self.store,
            self.settings.own("manifest.json"),
        )

    def syncer(self, settings: Settings) -> Syncer:
        """A syncer for these settings (chunking or backend may differ from the first call's)."""
        return Syncer(settings, self.store, self.lexical, shared_embedder(settings), self.catalog)

    def retriever(self, settings: Settings) -> Retriever:
        return Retriever(settings, self.store, self.lexical, shared_embedder(settings))

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    @property
    def manifest(self) -> Manifest:
        """The manifest; rebuilt from the store's metadata (under the writer lock) if unreadable,
        or if it lists nothing while the store holds chunks (a deleted manifest.json)."""
        try:
            manifest = self.catalog.load()
            if manifest.files or not self._holds_chunks():
                return manifest
        except StoreDamagedError:
            pass
        with writing(self.settings) as eng:
            return eng.syncer(self.settings).load_manifest()

    def _holds_chunks(self) -> bool:
        """Whether the store holds chunks (without creating a local store that is not there)."""
        if not self.catalog.shared and not (self.settings.store_dir / "chroma").is_dir():
            return False
        return self.store.count() > 0

    def source(self, settings: Settings) -> IndexSource:
        return describe(self.manifest, settings, self.catalog.shared, self.store.where)


def _key(settings: Settings) -> tuple[str, str, str]:
    return (str(settings.store_dir.resolve()), settings.chroma_url or "", settings.collection)


def engine(settings: Settings) -> Engine:
    """The engine of a store; reopened when another process (say `rag ingest`) changed it."""
    return _engine(settings, writer=False)


def _engine(settings: Settings, writer: bool) -> Engine:
    """``writer``: the caller holds the store's sync lock, so no other thread uses the engine
    to write (a reader's engine is not reopened while a writer of this process writes)."""
    key = _key(settings)
    with _engines_lock:
        eng = _engines.get(key)
        lock = _sync_locks.setdefault(key, eng.sync_lock if eng else threading.Lock())
        reopen = writer or not lock.locked()
        if eng is not None and reopen and eng.stamp != eng.catalog.stamp():
            log.info("The index was changed by another process: reopening it.")
            eng.close()
            eng = None
        if eng is None:
            eng = _engines[key] = Engine(settings, lock)
        return eng


@contextmanager
def writing(settings: Settings, timeout: float | None = None) -> Iterator[Engine]:
    """Hold the store's writer lock (this process's threads, then other processes) and yield
    its engine, reopened if another process changed the store meanwhile. In server mode it
    holds the server's writer lease too (other machines), after the store folder's lock.

    Waits for the current writer for ever, or ``timeout`` seconds (then ``StoreBusyError``).
    """
    with _engines_lock:
        lock = _sync_locks.setdefault(_key(settings), threading.Lock())
    if not lock.acquire(timeout=-1 if timeout is None else timeout):
        raise StoreBusyError(
            f"another ingest of {settings.store_dir} is running in this process: wait for it "
            "to finish and try again."
        )
    try:
        with writer_lock(settings.store_dir, timeout):
            eng = _engine(settings, writer=True)
            with eng.catalog.lease(timeout):
                try:
                    yield eng
                finally:
                    eng.stamp = eng.catalog.stamp()
    finally:
        lock.release()


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings.from_env()


def ingest(
    path: str | Path | None = None,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    timeout: float | None = None,
    replace: bool = False,
) -> IngestReport:
    """Sync a documents folder into the index: ``path``, else the folder the index holds
    (else ``RAG_DOCS_DIR``, else ``seeds/`` for a new index).

    An index belongs to one folder: another folder replaces it only with ``replace=True``
    (else ``DocumentsError`` says which files would go). A replica (team mode, without the
    team's folder on this machine) never writes: it returns the index as it is.

    One sync or removal at a time per store, across processes: this waits for the running one,
    for ever or ``timeout`` seconds (then ``StoreBusyError``).
    """
    settings = _settings(settings)
    eng = engine(settings)
    manifest = eng.manifest
    source = describe(manifest, settings, eng.catalog.shared, eng.store.where)
    folder = sync_folder(
        Path(path) if path is not None else None, settings, source, manifest, replace
    )
    if folder is None:  # a replica: it never writes the team's index
        return unchanged_report(manifest)
    with writing(settings, timeout) as eng:
        if not replace:  # check again under the lock: another process may have synced
            manifest = eng.syncer(settings).load_manifest()
            source = describe(manifest, settings, eng.catalog.shared, eng.store.where)
            sync_folder(folder, settings, source, manifest, replace)
        return eng.syncer(settings).sync(folder, progress, allow_empty=replace)


def plan_ingest(
    path: str | Path | None = None, *, settings: Settings | None = None, replace: bool = False
) -> Path | None:
    """The folder ``ingest`` would sync (None: none, a replica), without syncing: raises
    ``DocumentsError`` as ``ingest`` would when ``path`` would replace the index."""
    settings = _settings(settings)
    eng = engine(settings)
    manifest = eng.manifest
    source = describe(manifest, settings, eng.catalog.shared, eng.store.where)
    return sync_folder(
        Path(path) if path is not None else None, settings, source, manifest, replace
    )


def index_source(settings: Settings | None = None) -> IndexSource:
    """Which documents folder feeds the index, and whether this process may change it.

    A page or command offers upload, delete and re-sync only when ``writable``, and saves
    uploads into ``folder``.
    """
    settings = _settings(settings)
    return engine(settings).source(settings)


def ensure_index(settings: Settings) -> Engine:
    """Build the index on first use, and repair it when its parts disagree (a crashed sync, a
    deleted or emptied store), so that no answer comes from an index that lost chunks."""
    eng = engine(settings)
    manifest = eng.manifest
    if not manifest.files:
        log.info("No index yet: indexing %s first.", settings.docs_dir)
        ingest(settings=settings)
        return engine(settings)
    if eng.catalog.shared:
        return follow_server(eng, manifest)
    if eng.sync_lock.locked() or writer_busy(settings.store_dir):
        return eng  # a sync is writing: its parts disagree until it ends, and it checks them
    if eng.agreed_at is not None and time.monotonic() - eng.agreed_at < AGREEMENT_SECONDS:
        return eng  # checked just now, and the manifest has not changed since (same engine)
    problem = disagreement(manifest, eng.store, eng.lexical)
    if problem is None:
        eng.agreed_at = time.monotonic()
    else:
        root = manifest.root or str(settings.docs_dir)
        log.warning("The index needs repair (%s): syncing %s first.", problem, root)
        ingest(root, settings=settings)
        eng = engine(settings)
    return eng


def follow_server(eng: Engine, manifest: Manifest) -> Engine:
    """Server mode: bring the local BM25 cache up to date (the changed chunks only, or a rebuild
    when too far behind or damaged) when a sync moved the index on
    (its generation differs), not on every question. Repairing the server itself takes its
    documents folder: that is the next rag ingest's job; meanwhile answers come from what is
    there."""
    lexical = eng.lexical
    current = lexical.generation == manifest.generation
    if current and (manifest.in_progress or len(lexical) == manifest.total_chunks):
        eng.listed = None
        return eng
    if current and eng.listed is not None and eng.listed[0] == manifest.generation:
        return eng  # refreshed already: the extra chunks are stale, and left out of answers
    if not eng.sync_lock.acquire(blocking=False):
        return eng  # this process is writing (and updates the cache) or refreshing it already
    try:
        with writer_lock(eng.settings.store_dir, timeout=0):
            log.info("The index on %s changed: refreshing the local cache.", eng.store.where)
            fetch = lambda ids: [(c.id, c.text) for c in eng.store.get(ids)[0]]  # noqa: E731
            if not lexical.catch_up(manifest.chunk_ids, fetch, manifest.generation):
                refresh_lexical(eng.store, lexical, manifest.generation)
    except StoreBusyError:
        pass  # another process refreshes this store folder's cache
    finally:
        eng.sync_lock.release()
    if not manifest.in_progress and len(lexical) != manifest.total_chunks:
        log.warning(
            "The index on %s holds %d chunks and its document list names %d: answers use only "
            "the listed ones until the next rag ingest repairs it.",
            eng.store.where,
            len(lexical),
            manifest.total_chunks,
        )
        eng.listed = (manifest.generation, frozenset(manifest.chunk_ids))
    return eng


def prepare_question(question: str, settings: Settings) -> str:
    if isinstance(question, (bytes, bytearray)):
        raise QuestionError(
            "The question is bytes, not text: decode it first (question.decode('utf-8', "
            "'replace'))."
        )
    if question is not None and not isinstance(question, str):
        raise QuestionError(f"The question must be text (a str), not {type(question).__name__}.")
    if not question or not question.strip():
        raise QuestionError("Ask a question: the question is empty.")
    question = without_surrogates(question)  # as history's turns are (rag/followup.py)
    question = " ".join(question.split())
    if len(question) > settings.max_question_chars:
        log.warning(
            "The question has %d characters; only the first %d are used.",
            len(question),
            settings.max_question_chars,
        )
        question = question[: settings.max_question_chars]
    return question


def recent_history(history: Sequence[Any] | None) -> Sequence[Any]:
    """The last ``HISTORY_ITEMS`` turns of ``history`` (a lone string is one earlier question),
    or ``QuestionError`` when it is not a sequence of turns."""
    if not history or isinstance(history, str):
        return history or ()
    if isinstance(history, (bytes, bytearray)) or not hasattr(history, "__iter__"):
        raise QuestionError(
            f"history must be a list of earlier turns (got {type(history).__name__}): pass "
            "(question, answer) pairs or {'role': ..., 'content': ...} messages."
        )
    return list(history)[-HISTORY_ITEMS:]


def standalone_question(question: str, history: Sequence[Any], settings: Settings) -> str:
    """Rewrite a follow-up so that retrieval sees the whole question (no longer than the
    question may be: ``RAG_MAX_QUESTION_CHARS``)."""
    history = recent_history(history)
    if not history:
        return question
    if settings.llm == "openai":
        from rag.generation import condense_question

        return condense_question(question, history, settings)
    return condense_offline(question, history)[: settings.max_question_chars]


def retrieve(
    question: str,
    *,
    history: Sequence[Any] = (),
    k: int | None = None,
    settings: Settings | None = None,
) -> list[Passage]:
    """The passages an answer would be made from (a follow-up reads ``history``)."""
    resolved = _settings(settings)
    return again_if_reopened(lambda: retrieve_for_answer(question, history, k, resolved).passages)


def answer_from_passages(
    question: str,
    passages: list[Passage],
    settings: Settings,
    admissible: Callable[[str], bool] | None = None,
    reading: str | None = None,
) -> Answer:
    """The answering step alone: the configured backend turns passages into an ``Answer``;
    the reader's from sentences that are ``admissible`` (rag/answering.py), reading
    ``reading`` of the question (rag/questions.reader_question; None: its asking sentences)."""
    if settings.llm == "openai":
        from rag.generation import generate_answer

        return generate_answer(question, passages, settings, answer_checks(settings))
    reader = shared_reader()
    return answer_extractive(
        question,
        passages,
        reader,
        refusal_threshold=refusal_threshold(settings, reader),
        max_sentences=settings.max_answer_sentences,
        dense_baseline=dense_baseline(settings),
        admissible=admissible,
        reading=reading,
    )


def dense_baseline(settings: Settings) -> float | None:
    """How close off-topic questions come to this index (rag/calibration.py), measured once per
    index generation; None (the reader's default) for an empty index."""
    eng = engine(settings)
    store, embedder = eng.store, shared_embedder(settings)
    manifest = eng.manifest
    baseline = corpus_baseline(
        (*_key(settings), embedder.id),
        (manifest.generation, manifest.last_sync, manifest.total_chunks),
        lambda: measure_baseline(embedder, store),
        settings.store_dir / f"baseline-{settings.collection}.json",
    )
    return baseline.dense if baseline else None


def answer_checks(settings: Settings) -> Checks:
    """What verifies a generated answer: IDF weights, the reader and its threshold."""
    from rag.generation import Checks

    reader = shared_reader()
    return Checks(engine(settings).lexical.idf, reader, refusal_threshold(settings, reader))


def refusal_threshold(settings: Settings, reader: Reader) -> float:
    """The setting, else the threshold chosen on the reader's validation split."""
    if settings.refusal_threshold is not None:
        return settings.refusal_threshold
    return reader.card.threshold


@dataclass(frozen=True)
class Retrieved:
    """The retrieval step's result: the question as asked, its standalone form, the passages."""

    question: str
    query: str
    passages: list[Passage]
    # The distinctive names, numbers and codes the question asks about (rag/entities.py).
    names: tuple[Term, ...] = ()
    # Names of the question (as asked) that the index holds in no form: the documents cannot
    # answer it (rag/entities.py, ``unknown_names``).
    unknown: tuple[str, ...] = ()

    @property
    def read(self) -> list[Passage]:
        """The passages the answer is made from: those about the question's names."""
        return focus(self.passages, self.names)

    @property
    def reading(self) -> str:
        """What the reader reads of the question (rag/questions.reader_question)."""
        return reader_question(self.question, self.query)


def question_names(retrieved_question: str, query: str, eng: Engine) -> tuple[Term, ...]:
    """The distinctive terms of the question as asked, else of its standalone form (a
    follow-up "and its mayor?" asks about the previous question's town)."""
    lexical = eng.lexical
    size = len(lexical)
    # Without history the standalone question is the question: looked at once (each rare
    # word-name costs a BM25 search and a store read, ``_written``).
    for text in dict.fromkeys((retrieved_question, query)):
        found = distinctive_terms(text, lexical.idf, size)
        names = [t for t in asked(text, found) if t.is_code or _written(t, eng)]
        if names:
            return tuple(names)
    return ()


def _written(term: Term, eng: Engine) -> bool:
    """Whether the documents write the rare word ``term`` outside web addresses: read in the
    chunks that hold it (at most ``RARE_SHARE`` of the index, or it would be no name)."""
    most = max(1, math.ceil(RARE_SHARE * len(eng.lexical)))
    held = [chunk_id for chunk_id, _ in eng.lexical.search(term.text, most)]
    if not held:
        return True
    chunks, _ = eng.store.get(held)
    return not chunks or written_outside_urls(term, [indexed_text(c) for c in chunks])


def retrieve_for_answer(
    question: str, history: Sequence[Any], k: int | None, settings: Settings
) -> Retrieved:
    """Check the question, build the index if needed, rewrite a follow-up, retrieve."""
    k = settings.resolve_k(k)
    question = prepare_question(question, settings)
    eng = ensure_index(settings)
    query = standalone_question(question, history, settings)
    passages = eng.retriever(settings).search_follow_up(search_words(question, query), query, k)
    if eng.listed is not None:  # server mode: never answer from stale chunks
        passages = [p for p in passages if p.chunk.id in eng.listed[1]]
    unknown = tuple(unknown_names(question, eng.lexical, limit=1))
    return Retrieved(question, query, passages, question_names(question, query, eng), unknown)


def checked(answer: Answer, retrieved: Retrieved) -> Answer:
    """``answer`` under the question as asked, refused if the question names what the index
    never mentions or if it is not about the question's distinctive names (rag/entities.py)."""
    answer = check_names(
        replace(answer, question=retrieved.question), retrieved.names, retrieved.read
    )
    return refuse_answer(answer, retrieved.unknown) if retrieved.unknown else answer


def answer_retrieved(retrieved: Retrieved, settings: Settings) -> Answer:
    """The answering step: the configured backend's answer, under the question as asked,
    refused if it is not about the question's distinctive names (rag/entities.py). The reader
    answers a question that asks for a number from its best sentence that holds one, and
    refuses if none does (rag/numbers.py: the question as asked, not a follow-up's standalone
    form, which holds the previous question's words)."""
    if retrieved.unknown:  # refused whatever the answer: no model call for it
        settings = settings.with_(llm="extractive")
    answer = checked(
        answer_from_passages(
            retrieved.query,
            retrieved.read,
            settings,
            admits_number(retrieved.question),
            retrieved.reading,
        ),
        retrieved,
    )
    if settings.llm == "extractive":  # a generative model reads the number (or its absence)
        answer = check_number(answer, retrieved.question)
    return answer


def again_if_reopened(step: Callable[[], T]) -> T:
    """Run ``step``, and once more if this process reopened the index under it (another
    process synced it, and a question of another thread replaced the engine meanwhile)."""
    try:
        return step()
    except StoreReopenedError:
        log.info("The index was reopened while a question read it: asking again.")
        return step()


def answer(
    question: str,
    *,
    history: Sequence[Any] = (),
    k: int | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer from the indexed documents, with exact citations, or refuse."""
    settings = _settings(settings)
    return again_if_reopened(
        lambda: answer_retrieved(retrieve_for_answer(question, history, k, settings), settings)
    )


def stream_answer(
    question: str,
    *,
    history: Sequence[Any] = (),
    k: int | None = None,
    settings: Settings | None = None,
) -> Iterator[str | Answer]:
    """Yield the answer text as it arrives, then the final ``Answer``."""
    settings = _settings(settings)
    retrieved = again_if_reopened(lambda: retrieve_for_answer(question, history, k, settings))
    if settings.llm == "openai" and not retrieved.unknown:
        from rag.generation import stream_generated_answer

        checks = answer_checks(settings)
        read = retrieved.read
        for piece in stream_generated_answer(retrieved.query, read, settings, checks):
            if isinstance(piece, str):
                yield piece
            else:
                yield checked(piece, retrieved)
        return
    result = again_if_reopened(lambda: answer_retrieved(retrieved, settings))
    words = result.text.split(" ")
    for i, word in enumerate(words):
        yield word if i == len(words) - 1 else word + " "
    yield result


def documents(settings: Settings | None = None) -> IndexStatus:
    """What is indexed: files, chunk counts, sizes and last sync."""
    settings = _settings(settings)
    manifest = engine(settings).manifest
    docs = [
        IndexedDocument(source=name, chunks=len(e.chunks), size=e.size, synced_at=e.synced_at)
        for name, e in sorted(manifest.files.items())
    ]
    return IndexStatus(
        documents=docs, total_chunks=manifest.total_chunks, last_sync=manifest.last_sync
    )


def documents_root(settings: Settings | None = None) -> Path:
    """The folder the index mirrors (the last one synced, else the settings' ``docs_dir``)."""
    settings = _settings(settings)
    return _root(engine(settings), settings)


def _root(eng: Engine, settings: Settings) -> Path:
    root = eng.manifest.root
    return Path(root) if root else settings.docs_dir.resolve()


def document_text(source: str, settings: Settings | None = None) -> str:
    """The text every offset of ``source`` refers to."""
    settings = _settings(settings)
    eng = engine(settings)
    return eng.catalog.document_text(source, _root(eng, settings))


def check_document(path: str | Path, *, settings: Settings | None = None) -> None:
    """Raise ``DocumentsError`` with the reason when ``path`` could not be indexed: the size
    caps and the parse time limit of ``settings`` are the sync's, so a file that passes is
    one the next sync indexes (unless it changes meanwhile)."""
    settings = _settings(settings)
    path = Path(path)
    try:
        too_big = size_problem(path, path.stat().st_size, settings)
        if too_big:
            raise DocumentsError(too_big)
        load_document(path, settings.max_parse_seconds, max_bytes=byte_cap(path, settings))
    except UnreadableFile as exc:
        raise DocumentsError(str(exc)) from exc
    except OSError as exc:
        raise DocumentsError(f"cannot read: {exc.strerror or exc}") from exc


def remove_document(
    source: str, *, settings: Settings | None = None, delete_file: bool = True
) -> int:
    """Remove a document from the index (and, by default, from the folder)."""
    settings = _settings(settings)
    root = documents_root(settings)
    feeds = index_source(settings)
    if not feeds.writable and feeds.shared:
        raise DocumentsError(
            f"The index on {feeds.where} is fed from {feeds.recorded}"
            + (f" on {feeds.writer}" if feeds.writer else "")
            + ", which is not on this machine: remove the file there and run rag ingest on "
            "that machine (a removal made here would come back with its next sync)."
        )
    relative = os.path.normpath(source)
    if os.path.isabs(relative) and Path(relative).resolve().is_relative_to(root.resolve()):
        named = Path(relative).resolve().relative_to(root.resolve()).as_posix()
        raise DocumentsError(
            f"{source!r} is a path: name the document as rag docs lists it, relative to the "
            f"documents folder {root} ({named!r})."
        )
    if os.path.isabs(relative) or relative == ".." or relative.startswith("../"):
        raise DocumentsError(f"{source!r} is outside the documents folder {root}.")
    if source not in engine(settings).manifest.files:
        raise DocumentsError(
            f"{source!r} is not an indexed document of {root}: run rag docs to list them."
        )
    with writing(settings) as eng:
        if delete_file:
            _delete_inside(root, source)
        return eng.syncer(settings).remove(source)


def _delete_inside(root: Path, source: str) -> None:
    """Delete the file (or link: not followed) ``root/source``, through its folder as opened,
    which must be inside ``root``: a sub-folder swapped for a link out since it was indexed
    would make the name another folder's file."""
    path = root / source
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing of that name to delete
    try:
        opened = opened_path(folder, path.parent)
        inside = root.resolve()
        if opened is None or (opened != inside and inside not in opened.parents):
            raise DocumentsError(
                f"{source!r} is outside the documents folder {root} now (its folder leads to "
                f"{opened or 'elsewhere'}): nothing was deleted; run rag ingest to bring the "
                "index in line."
            )
        try:
            found = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISREG(found.st_mode) or stat.S_ISLNK(found.st_mode):
            os.unlink(path.name, dir_fd=folder)
    finally:
        os.close(folder)


def as_retriever(*, k: int | None = None, settings: Settings | None = None) -> RagRetriever:
    """The hybrid retriever as a LangChain ``BaseRetriever``."""
    from rag.chain import RagRetriever

    settings = _settings(settings)
    return RagRetriever(search=lambda query: retrieve(query, k=k, settings=settings))


def build_chain(*, k: int | None = None, settings: Settings | None = None) -> Runnable[Any, Answer]:
    """The whole path as a LangChain Runnable: retriever, then answerer."""
    from rag.chain import build_chain as _build

    resolved = _settings(settings)
    return _build(
        lambda question, history: again_if_reopened(
            lambda: retrieve_for_answer(question, history, k, resolved)
        ),
        lambda retrieved: again_if_reopened(lambda: answer_retrieved(retrieved, resolved)),
    )
