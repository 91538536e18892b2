"""The vector store: Chroma, on disk or behind ``chroma run``; the only module importing it."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import numpy as np

from rag.config import Settings
from rag.durable import disk_full, is_disk_full, no_inodes, on_server, out_of_inodes
from rag.embeddings import embedding_id
from rag.errors import DiskFullError, RagError, StoreError
from rag.models import Chunk

log = logging.getLogger(__name__)
_PAGE = 5000
_EMBEDDING_KEY = "embedding"
_GENERATION_KEY = "generation"
_ROOT_KEY = "root"
# Stores written before the embedding id was recorded hold sentence-transformers vectors.
_LEGACY_EMBEDDING = embedding_id("torch")
# Candidates the HNSW graph search keeps (Chroma's ef_search; its default is 100). At 100 the
# search was approximate where a question is far from every chunk, and it differed from one
# process to the next (Chroma rebuilds the part of the graph not yet saved, on several
# threads, at each load): on CMake's reference (2,767 chunks, validation questions) 7% of the
# exact 30 nearest chunks were missed and the nearest one in 4.7% of questions, so the same
# question could get another answer. At 1000 the search is exact there (recall 0.9998, the
# nearest always found) and the same in every process, for 0.7 ms a question more (3.6 -> 4.3
# ms); at 10,000 random vectors recall 0.52 -> 0.995 for 6.2 -> 10.5 ms (evals/README.md,
# round 18).
SEARCH_EF = 1000
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class StoreState:
    """What the last sync recorded in the collection itself (``VectorStore.set_generation``)."""

    embedding: str | None
    generation: int
    root: str


class ChromaFailedError(StoreError):
    """Chroma failed in a way no cause is known for (not a full disk, not a read-only store, not
    an unreachable server): a local store's files may be damaged (a power cut or a kill while
    Chroma wrote its vector index)."""


class StoreReopenedError(StoreError):
    """This process replaced its handle on the store (another process synced it) while a call
    of another thread was reading it through the old one: that call may simply run again."""


def _closed(owner: object) -> bool:
    """Whether the store behind ``owner`` (a VectorStore, or a server's catalog holding one)
    was closed."""
    store = owner if isinstance(owner, VectorStore) else getattr(owner, "store", None)
    return bool(getattr(store, "closed", False))


def guarded(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a Chroma failure while ``what`` into a ``StoreError`` that says what to do."""

    def wrap(method: Callable[P, R]) -> Callable[P, R]:
        @wraps(method)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except RagError:
                raise
            except Exception as exc:
                store: VectorStore = args[0]  # type: ignore[assignment]
                if _closed(store):
                    raise StoreReopenedError(
                        f"The index at {store.where} was reopened while it was read (another "
                        "process synced it): ask again."
                    ) from exc
                if is_disk_full(exc):
                    raise disk_full(store.where) from exc
                known = failure_cause(store.where, exc)
                if known is not None:
                    raise known from exc
                raise ChromaFailedError(failed_while(store.where, what, exc)) from exc

        return call

    return wrap


# Nearest neighbours the probe of the vector index asks for: each is looked up in its id map.
PROBE_RESULTS = 100
# Chroma reports a disk that filled up mid-write as "Error in compaction: ..." without the
# OS's error: a store folder with less room than this left is taken as the cause.
LOW_DISK_BYTES = 32 * 1024 * 1024
# A refusal as Chroma's client reports it: the text of the proxy's error page.
_REFUSAL = re.compile(r"\b(401|403)\b[^\n]{0,40}(?:unauthori[sz]ed|authori[sz]ation|forbidden)")
_LOOPBACK = re.compile(r"http://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]):")
_UNREACHABLE = ("connecterror", "connectionrefused", "connection refused", "could not connect")
# How long a call to the Chroma server may wait for it: to connect, and for each read of a reply
# (chromadb's client waits for ever, so a server that accepts and never answers held `rag ask`
# for good); the first request, a light identity check, is given less. Product choices: a
# large batch written to a busy server takes seconds, not minutes.
CONNECT_SECONDS = 10.0
REPLY_SECONDS = 120.0
CHECK_SECONDS = 30.0


def failure_cause(where: str, exc: BaseException) -> StoreError | None:
    """The real cause of a Chroma failure, when it is one we can name: the server is not
    reachable, or the disk of a local store is (nearly) full."""
    if on_server(where):
        chain: list[BaseException] = []
        link: BaseException | None = exc
        while link is not None and len(chain) < 10:
            chain.append(link)
            link = link.__cause__ or link.__context__
        text = " ".join(f"{type(e).__name__} {e}" for e in chain).lower()
        status = _REFUSAL.search(text)
        if status is not None:  # the token was withdrawn or changed while we ran
            return StoreError(
                f"The Chroma server at {where} refused the request (HTTP {status.group(1)}): "
                "set RAG_CHROMA_TOKEN to the token its proxy expects."
            )
        if any("timeout" in type(e).__name__.lower() for e in chain):
            return not_answering(where, REPLY_SECONDS)
        if any(isinstance(e, ConnectionError) for e in chain) or any(
            marker in text for marker in _UNREACHABLE
        ):
            return StoreError(
                f"The Chroma server at {where} is not reachable ({_first_line(exc)}): check that "
                "it runs (chroma run --path DIR) and that RAG_CHROMA_URL names it, then try again."
            )
        return None
    import shutil

    folder = Path(where)
    locked = [p for p in (folder, folder / "chroma.sqlite3") if p.exists() and not _writable(p)]
    if locked:
        return StoreError(
            f"The Chroma store at {where} is read-only for this user ({locked[0]} cannot be "
            "written, and Chroma writes even to answer): the index is not damaged, so do not "
            f"delete it; give this user write access to {where} and its files, or set "
            "RAG_STORE_DIR to a folder it can write."
        )
    if out_of_inodes(folder):  # SQLite says "unable to open database file"
        return no_inodes(where)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    if free >= LOW_DISK_BYTES:
        return None
    return DiskFullError(
        f"The disk holding {where} is full ({free // 1024} KB free; Chroma said: "
        f"{_first_line(exc)}): free some space (or set RAG_STORE_DIR to a disk with room) and "
        "run rag ingest again; what was indexed before is kept."
    )


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` (a read-only mount counts, root or not)."""
    return os.access(path, os.W_OK)


def token_headers(token: str | None) -> dict[str, str] | None:
    """The header carrying ``RAG_CHROMA_TOKEN``, as a token-checking proxy expects it."""
    return {"Authorization": f"Bearer {token}"} if token else None


def refused(where: str, status: int, sent_token: bool) -> StoreError:
    """The one-line error for a server (or its proxy) that answered 401 or 403."""
    if sent_token:
        return StoreError(
            f"The Chroma server at {where} refused the token (HTTP {status}): set "
            "RAG_CHROMA_TOKEN to the token its proxy expects."
        )
    return StoreError(
        f"The Chroma server at {where} asks for a token (HTTP {status}): set RAG_CHROMA_TOKEN "
        "to the token its proxy expects."
    )


def check_access(where: str, base: str, headers: dict[str, str] | None) -> None:
    """Raise a one-line ``StoreError`` when the server refuses our token (or its absence).

    Chroma's client reports a refusal as the proxy's page, without the status; one request of
    our own reads the status. Any other failure is left to the client, which names it."""
    import httpx

    if headers and base.startswith("http://") and not _LOOPBACK.match(base):
        log.warning(
            "RAG_CHROMA_TOKEN goes to %s over plain http: anyone on the way can read it; put "
            "TLS on the proxy (https://).",
            where,
        )
    timeout = httpx.Timeout(CHECK_SECONDS, connect=CONNECT_SECONDS)
    try:
        reply = httpx.get(f"{base}/api/v2/auth/identity", headers=headers, timeout=timeout)
    except httpx.ReadTimeout as exc:  # it accepted the connection and never answered
        raise not_answering(where, CHECK_SECONDS) from exc
    except (httpx.HTTPError, httpx.InvalidURL):
        return
    if reply.status_code in (401, 403):
        raise refused(where, reply.status_code, headers is not None)


def failed_while(where: str, what: str, exc: BaseException) -> str:
    """What to do after a Chroma failure no cause was found for. A server's index is the
    team's: never advise deleting it (a reviewer's full server disk got that advice)."""
    failure = f"The Chroma store at {where} failed while {what} ({type(exc).__name__}: "
    failure += f"{_first_line(exc)}): "
    if on_server(where):
        return failure + (
            "check the server's log and the free space of its disk (chroma run --path DIR), "
            "then run rag ingest to repair the index."
        )
    return failure + (
        f"run rag ingest to repair the index; if that fails too, delete {where} and run rag "
        "ingest to rebuild it from the documents."
    )


def not_answering(where: str, seconds: float) -> StoreError:
    return StoreError(
        f"The Chroma server at {where} did not answer within {seconds:g} s: check that it runs "
        "and is not overloaded or stopped (restart chroma run --path DIR), then try again."
    )


def bounded_client(make: Callable[[], Any], where: str) -> Any:
    """chromadb's HTTP client, made (it asks the server for its tenant) and checked (a
    heartbeat) within ``REPLY_SECONDS``, then given the timeouts it lacks for every later call.

    chromadb's client waits for ever. The first requests run in a thread of their own: if the
    server has not answered them in time, that thread is left waiting (it holds one connection
    until the server answers or the process ends) and ``not_answering`` is raised."""
    import httpx

    made: list[Any] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            client = make()
            session = getattr(getattr(client, "_server", None), "_session", None)
            if isinstance(session, httpx.Client):  # else another chromadb: its waits stand
                session.timeout = httpx.Timeout(REPLY_SECONDS, connect=CONNECT_SECONDS)
            client.heartbeat()
            made.append(client)
        except BaseException as exc:  # raised in the caller's thread below
            failed.append(exc)

    thread = threading.Thread(target=run, name="chroma-connect", daemon=True)
    thread.start()
    thread.join(REPLY_SECONDS)
    if failed:
        raise failed[0]
    if not made:
        raise not_answering(where, REPLY_SECONDS)
    return made[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


class VectorStore:
    """Chunks with our own embeddings in one Chroma collection (cosine space)."""

    def __init__(self, settings: Settings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        self.where = settings.chroma_url or str(settings.store_dir / "chroma")
        # Closed (by a reopen, when another process changed the store): a call of another
        # thread that fails meanwhile raises StoreReopenedError, which rag.api runs again.
        self.closed = False
        try:
            if settings.chroma_url:
                parts = urlsplit(settings.chroma_url)
                hostname = parts.hostname
                if not hostname:
                    raise StoreError(
                        f"RAG_CHROMA_URL={settings.chroma_url!r} is not a URL: use http://host:port."
                    )
                port = parts.port or (443 if parts.scheme == "https" else 8000)
                headers = token_headers(settings.chroma_token)
                host = f"[{hostname}]" if ":" in hostname else hostname
                check_access(settings.chroma_url, f"{parts.scheme}://{host}:{port}", headers)
                self.client = bounded_client(
                    lambda: chromadb.HttpClient(
                        host=hostname,
                        port=port,
                        ssl=parts.scheme == "https",
                        headers=headers,
                        settings=chroma_settings,
                    ),
                    settings.chroma_url,
                )
            else:
                check_store_folder(settings.store_dir)
                self.client = chromadb.PersistentClient(
                    path=str(settings.store_dir / "chroma"), settings=chroma_settings
                )
            self.name = settings.collection
            self.collection = self._open_collection()
        except StoreError:
            raise
        except Exception as exc:
            if is_disk_full(exc):
                raise disk_full(settings.store_dir) from exc
            known = failure_cause(self.where, exc)
            if known is not None:
                raise known from exc
            if settings.chroma_url:
                fix = "check that the server runs (chroma run --path DIR) or set RAG_CHROMA_URL"
            else:
                fix = (
                    f"if it is damaged, delete {self.where} and run rag ingest to rebuild it from "
                    "the documents, or set RAG_STORE_DIR to a usable location"
                )
            raise StoreError(
                f"Cannot open the Chroma store at {self.where} ({_first_line(exc)}): {fix}."
            ) from exc

        self._verified: str | None = None  # the embedding id last found to match the store
        self._batch = max(1, min(_PAGE, int(self.client.get_max_batch_size())))

    def _open_collection(self) -> Any:
        # embedding_function=None: Chroma must never embed (its default downloads a model).
        return self.client.get_or_create_collection(
            self.name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
        )

    @guarded("configuring its vector index")
    def ensure_search_ef(self) -> None:
        """Search with ``SEARCH_EF`` candidates: a store made before it searched with fewer (the
        setting is read when the index is loaded, so it holds from the next process on)."""
        current = self.client.get_collection(self.name)  # read afresh, as ``state`` does
        hnsw = (current.configuration_json or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) < SEARCH_EF:
            current.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})

    @guarded("opening a companion collection")
    def companion(self, suffix: str) -> Any:
        """A second collection beside the chunks' (server mode keeps the document list there)."""
        return self.client.get_or_create_collection(
            f"{self.name}__{suffix}", embedding_function=None
        )

    # -- markers: empty collections whose name is a lock (see rag/lease.py) -----------------

    @guarded("taking the writer lease")
    def create_marker(self, name: str, metadata: dict[str, Any]) -> str | None:
        """Create the collection ``name`` unless it exists (atomic on the server: its catalog
        refuses a second collection of one name); its id, or None if it existed."""
        try:
            return str(self.client.create_collection(name, metadata=metadata).id)
        except Exception as exc:
            if "already exists" in str(exc):
                return None
            raise

    @guarded("reading the writer lease")
    def marker(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """The id and metadata of the collection ``name``, or None if there is none."""
        from chromadb.errors import NotFoundError

        try:
            found = self.client.get_collection(name)
        except NotFoundError:
            return None
        return str(found.id), dict(found.metadata or {})

    @guarded("renewing the writer lease")
    def set_marker(self, name: str, marker_id: str, metadata: dict[str, Any]) -> bool:
        """Replace the metadata of marker ``marker_id`` if it still has ``name``; else False.

        The write goes to the collection's id, so it never lands on another holder's marker.
        """
        from chromadb.errors import NotFoundError

        try:
            found = self.client.get_collection(name)
        except NotFoundError:
            return False
        if str(found.id) != marker_id:
            return False
        found.modify(metadata=metadata)
        return True

    @guarded("releasing the writer lease")
    def drop_marker(self, name: str, marker_id: str) -> None:
        """Remove marker ``marker_id`` from ``name``: rename it (by id) aside, then delete it.

        Renaming by id cannot touch a marker created under ``name`` since, unlike a delete by
        name; a marker another process renamed first is left to that process.
        """
        from chromadb.errors import NotFoundError

        try:
            found = self.client.get_collection(name)
        except NotFoundError:
            return
        if str(found.id) != marker_id:
            return
        aside = f"{name}__gone_{uuid.uuid4().hex[:12]}"
        try:
            found.modify(name=aside)
            self.client.delete_collection(aside)
        except NotFoundError:
            return
        except Exception as exc:
            if "not found" in str(exc).lower() or "does not exist" in str(exc).lower():
                return
            raise

    @guarded("counting chunks")
    def count(self) -> int:
        return int(self.collection.count())

    def embedding(self) -> str | None:
        """The embedding id the stored vectors come from (None while the store is empty)."""
        recorded = (self.collection.metadata or {}).get(_EMBEDDING_KEY)
        if recorded:
            return str(recorded)
        return _LEGACY_EMBEDDING if self.count() else None

    def set_embedding(self, embedding: str) -> None:
        self._verified = None
        metadata = dict(self.collection.metadata or {})
        if metadata.get(_EMBEDDING_KEY) != embedding:
            metadata[_EMBEDDING_KEY] = embedding
            self._set_metadata(metadata)

    @guarded("reading its state")
    def state(self) -> StoreState:
        """The state recorded by the last sync, read afresh (another process may have synced)."""
        metadata = self.client.get_collection(self.name).metadata or {}
        recorded = metadata.get(_EMBEDDING_KEY)
        return StoreState(
            embedding=str(recorded) if recorded else self.embedding(),
            generation=int(metadata.get(_GENERATION_KEY, 0)),
            root=str(metadata.get(_ROOT_KEY, "")),
        )

    @guarded("writing the collection metadata")
    def set_generation(self, generation: int, root: str) -> None:
        """Record the sync that last wrote the store: its generation and folder."""
        metadata = dict(self.client.get_collection(self.name).metadata or {})
        metadata.update({_GENERATION_KEY: generation, _ROOT_KEY: root})
        self._set_metadata(metadata)

    @guarded("writing the collection metadata")
    def _set_metadata(self, metadata: dict[str, Any]) -> None:
        self.collection.modify(metadata=metadata)

    def clear(self) -> None:
        """Drop every chunk (to re-embed with another model or backend)."""
        self._verified = None
        self.client.delete_collection(self.name)
        self.collection = self._open_collection()

    def close(self) -> None:
        """Release the Chroma client (its SQLite connection and loaded segments)."""
        self.closed = True
        self._verified = None
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def check_embedding(self, embedding: str) -> None:
        """Refuse to compare ``embedding`` vectors with stored vectors of another model/backend.

        ``embedding`` is the id of the caller's embedder (``Embedder.id``); the store serves
        calls with different settings, so it does not assume one.
        """
        if embedding == self._verified:
            return
        stored = self.embedding()
        if stored is not None and stored != embedding:
            raise StoreError(
                f"The index holds {stored} embeddings but the configured backend gives "
                f"{embedding}: run rag ingest to re-embed the documents, or set "
                f"RAG_EMBED_BACKEND to the backend that built the index."
            )
        if stored is not None:
            self._verified = embedding

    @guarded("adding chunks")
    def add(self, chunks: list[Chunk], embeddings: np.ndarray, text_hashes: list[str]) -> None:
        batch = self._batch
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=embeddings[i : i + batch],
                documents=[c.text for c in part],
                metadatas=[_metadata(c, h) for c, h in zip(part, text_hashes[i : i + batch])],
            )

    @guarded("deleting chunks")
    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[i : i + _PAGE])

    @guarded("checking its vector index")
    def probe(self) -> None:
        """Read stored vectors and search with one: a vector index damaged on disk fails here
        (Chroma's HNSW files are written in place: a kill mid-write leaves them out of step)."""
        page = self.collection.get(include=["embeddings"], limit=1)
        vectors = page.get("embeddings")
        if page["ids"] and vectors is not None and len(vectors):
            n = min(PROBE_RESULTS, self.collection.count())
            self.collection.query(query_embeddings=[vectors[0]], n_results=n, include=[])

    @guarded("listing chunk ids")
    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=_PAGE, offset=offset)
            ids.update(page["ids"])
            if len(page["ids"]) < _PAGE:
                return ids
            offset += _PAGE

    def iter_chunks(self) -> Iterator[Chunk]:
        offset = 0
        while True:
            size, chunks = self._chunk_page(offset)
            yield from chunks
            if size < _PAGE:
                return
            offset += _PAGE

    @guarded("reading chunks")
    def _chunk_page(self, offset: int) -> tuple[int, list[Chunk]]:
        page = self.collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
        return len(page["ids"]), _chunks(page)

    @guarded("reading chunks")
    def get(self, ids: list[str], with_embeddings: bool = False) -> tuple[list[Chunk], np.ndarray]:
        include: Any = (
            ["documents", "metadatas", "embeddings"]
            if with_embeddings
            else ["documents", "metadatas"]
        )
        page = self.collection.get(ids=ids, include=include)
        order = {chunk_id: i for i, chunk_id in enumerate(page["ids"])}
        chunks = _chunks(page)
        chunks.sort(key=lambda c: ids.index(c.id))
        vectors = np.zeros((0, 0), dtype=np.float32)
        if with_embeddings and page["embeddings"] is not None:
            raw = np.asarray(page["embeddings"], dtype=np.float32)
            vectors = raw[[order[c.id] for c in chunks]]
        return chunks, vectors

    @guarded("reading stored embeddings")
    def embeddings_by_text_hash(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Embeddings already stored for these chunk texts, so no text is embedded twice."""
        found: dict[str, np.ndarray] = {}
        for page in self._pages_by_text_hash(hashes, ["metadatas", "embeddings"]):
            if page["embeddings"] is None:
                continue
            for meta, vector in zip(page["metadatas"] or [], page["embeddings"]):
                if meta is None:  # deleted meanwhile by another process
                    continue
                found[str(meta["text_hash"])] = np.asarray(vector, dtype=np.float32)
        return found

    @guarded("reading stored texts")
    def known_text_hashes(self, hashes: list[str]) -> set[str]:
        """Which of these chunk texts the store holds already (metadata only: cheap)."""
        return {
            str(meta["text_hash"])
            for page in self._pages_by_text_hash(hashes, ["metadatas"])
            for meta in page["metadatas"] or []
            if meta is not None
        }

    def _pages_by_text_hash(self, hashes: list[str], include: list[Any]) -> Iterator[Any]:
        unique = sorted(set(hashes))
        for i in range(0, len(unique), 500):
            yield self.collection.get(
                where={"text_hash": {"$in": unique[i : i + 500]}}, include=include
            )

    @guarded("searching")
    def query(self, vector: np.ndarray, n: int, embedding: str) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity (1 - cosine distance).

        ``embedding`` is the id of the embedder that made ``vector`` (``Embedder.id``); the
        query is refused if the stored vectors come from another one.
        """
        if n <= 0:
            return []
        self.check_embedding(embedding)
        result = self.collection.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        )
        page = {
            "ids": result["ids"][0],
            "documents": (result["documents"] or [[]])[0],
            "metadatas": (result["metadatas"] or [[]])[0],
        }
        distances = (result["distances"] or [[]])[0]
        found = {chunk.id: chunk for chunk in _chunks(page)}  # without ids deleted meanwhile
        return [
            (found[chunk_id], 1.0 - float(d))
            for chunk_id, d in zip(page["ids"], distances)
            if chunk_id in found
        ]


def _metadata(chunk: Chunk, text_hash: str) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "source": chunk.source,
        "start": chunk.start,
        "end": chunk.end,
        "text_hash": text_hash,
        "sentences": json.dumps(chunk.sentences),
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.title:
        meta["title"] = chunk.title
    if chunk.section:
        meta["section"] = chunk.section
    if chunk.kinds:
        meta["kinds"] = json.dumps(chunk.kinds)
    return meta


def check_store_folder(store_dir: Path) -> None:
    """Create the store folder, or say why it cannot be one."""
    if store_dir.exists() and not store_dir.is_dir():
        raise StoreError(
            f"The store folder {store_dir} is a file, not a folder: move it away, or set "
            "RAG_STORE_DIR to a folder the index can live in."
        )
    store_dir.mkdir(parents=True, exist_ok=True)


def _chunks(page: Any) -> list[Chunk]:
    """Chunks of a Chroma result, without the ids another process deleted meanwhile.

    Chroma lists such ids with ``None`` for their metadata and document.
    """
    chunks = []
    for chunk_id, text, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or []):
        if meta is None or text is None:
            continue
        page_no = meta.get("page")
        chunks.append(
            Chunk(
                id=chunk_id,
                source=str(meta["source"]),
                start=int(meta["start"]),
                end=int(meta["end"]),
                text=text,
                page=int(page_no) if page_no is not None else None,
                sentences=tuple(tuple(s) for s in json.loads(str(meta.get("sentences", "[]")))),  # type: ignore[misc]
                title=str(meta.get("title", "")),
                section=str(meta.get("section", "")),
                kinds=tuple(json.loads(str(meta.get("kinds", "[]")))),
            )
        )
    return chunks
