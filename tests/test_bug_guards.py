"""One test per deliberate bug an outside audit made that the suite let through (issue 19).

Each test names its bug and was seen failing with that bug applied by hand. The answering and
follow-up tests go through public functions only (``answer_extractive``, ``condense_offline``,
``Reader``), so that they hold whatever the modules' insides become. A reader whose card has a
zero calibration scale gives every sentence the same probability: exact boundaries without a fake.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rag
from evals import metrics, runner
from rag.answering import answer_extractive
from rag.api import engine
from rag.catalog import writer_lock
from rag.chunking import chunk_document
from rag.config import Settings
from rag.errors import ConfigError, DocumentsError, StoreBusyError
from rag.followup import condense_offline
from rag.generation import Checks, CitationChecker
from rag.manifest import Manifest
from rag.models import Answer, Citation, Passage
from rag.reader import MODEL_DIR, Reader
from rag.store import VectorStore
from tests.conftest import SEED_FILE
from ui import render
from ui.guard import HostGuard, allowed_hosts

TIED_BIAS = 0.0  # every sentence's probability: sigmoid(0) = 0.5


def tied_reader(folder: Path) -> Reader:
    """The shipped reader with a card that gives every sentence the same probability."""
    folder.mkdir()
    for item in MODEL_DIR.iterdir():
        (folder / item.name).symlink_to(item)
    card = json.loads((MODEL_DIR / "reader.json").read_text())
    # A scale too small to move sigmoid's argument off 0 (a scale of 0 is refused at load).
    card["calibration"] = {"scale": 1e-300, "dense": 0.0, "bias": TIED_BIAS}
    (folder / "reader.json").unlink()
    (folder / "reader.json").write_text(json.dumps(card))
    return Reader(folder)


@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return tied_reader(tmp_path_factory.mktemp("tied") / "reader_model")


def passages(text: str, source: str = "doc.txt") -> list[Passage]:
    chunks = chunk_document(source, text, size=4000, overlap=0)
    return [Passage(chunk=c, score=1.0, dense_score=0.5, lexical_score=1.0) for c in chunks]


BODY = (
    "Kazan summit\n\n"
    "The Kazan summit of BRICS opened in October 2024. "
    "Serbia sent a delegation led by Aleksandar Vulin. "
    "The weather in Kazan was cold. "
    "Analysts expect more trade between the members."
)
EVERY = 0.5  # the tied reader's probability, as the card computes it


def cited(answer: Answer) -> list[str]:
    return [c.text for c in answer.citations]


# ---------------------------------------------------------------- rag/answering.py


def test_a_score_equal_to_the_threshold_answers(tied: Reader) -> None:
    """Bug: refusal ``score < threshold`` made ``<=``."""
    assert tied.probability(3.0) == tied.probability(-3.0) == EVERY
    at = answer_extractive("Who led the delegation?", passages(BODY), tied, refusal_threshold=EVERY)
    assert not at.refused and at.confidence == EVERY
    above = np.nextafter(EVERY, 1.0)
    question = "Who led the delegation?"
    over = answer_extractive(question, passages(BODY), tied, refusal_threshold=float(above))
    assert over.refused and over.citations == []


@pytest.mark.usefixtures("sentence_citations")
@pytest.mark.parametrize("most", [1, 2, 3])
def test_an_answer_has_at_most_max_sentences(tied: Reader, most: int) -> None:
    """Bug: ``further[:max_sentences - 1]`` made ``[:max_sentences]`` (one sentence too many).
    Four sentences all judged answers: exactly ``most`` of them are cited."""
    result = answer_extractive(
        "Who led the delegation?", passages(BODY), tied, refusal_threshold=0.1, max_sentences=most
    )
    assert len(result.citations) == most
    assert result.text.count("[") == most


LONG_TITLE = "The Long And Winding History Of The Grand Old Duke Of York And His Ten Thousand Men"


@pytest.mark.usefixtures("sentence_citations")
def test_a_long_title_line_never_answers(tied: Reader) -> None:
    """Bug: the title rule called without the title (a title of more than 12 words answers)."""
    text = f"{LONG_TITLE}\n\nThe duke marched his men up the hill. He marched them down again."
    result = answer_extractive(
        "Who marched up the hill?", passages(text), tied, refusal_threshold=0.1, max_sentences=9
    )
    assert cited(result) == [
        "The duke marched his men up the hill.",
        "He marched them down again.",
    ]


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


@pytest.mark.usefixtures("sentence_citations")
def test_heading_length_boundary(tied: Reader) -> None:
    """Bug: the heading rule's ``<= HEADING_WORDS`` (12) made ``<``: a line of exactly 12 words
    without closing punctuation is a heading, never an answer; 13 words is text."""
    twelve, thirteen = _words(12), _words(13)
    text = f"Title\n\nThe first fact is here.\n{twelve}\nThe second fact is here.\n{thirteen}\n"
    result = answer_extractive(
        "What are the facts?", passages(text), tied, refusal_threshold=0.1, max_sentences=9
    )
    assert twelve not in cited(result)
    assert thirteen in cited(result)


# ---------------------------------------------------------------- rag/followup.py


def test_a_follow_up_borrows_the_last_question_of_the_history() -> None:
    """Bug: a follow-up merged with the first question of the history instead of the last."""
    history = [
        ("Who is the president of Serbia?", "Aleksandar Vučić [1]"),
        {"role": "user", "content": "Where is the Kazan summit held?"},
        {"role": "assistant", "content": "In Kazan [1]"},
        ("When did the BRICS summit open?", "In October 2024 [1]"),
    ]
    merged = condense_offline("and who attended it?", history)
    assert "When did the BRICS summit open?" in merged
    assert "president of Serbia" not in merged and "Kazan summit held" not in merged


# ---------------------------------------------------------------- rag/reader.py


def test_a_reader_model_with_one_flipped_byte_is_refused(tmp_path: Path) -> None:
    """Bug: the sha256 check removed (a flipped byte loads and scores: logit 0.59)."""
    folder = tmp_path / "reader_model"
    shutil.copytree(MODEL_DIR, folder)
    model = folder / Reader(folder).card.model_file
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01  # a weight, deep inside: the graph still loads
    model.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=r"is damaged \(its sha256 does not match"):
        Reader(folder).logits([("Who led the delegation?", "Aleksandar Vulin led it.")])


def test_a_sentence_longer_than_the_model_reads_still_scores(tmp_path: Path) -> None:
    """Bug: the tokenizer's truncation removed (an ~800-token sentence crashes ONNX Runtime).
    The reader truncates whatever its tokenizer file says: here one saved without truncation."""
    folder = tmp_path / "reader_model"
    folder.mkdir()
    for item in MODEL_DIR.iterdir():
        if item.name != "tokenizer.json":
            (folder / item.name).symlink_to(item)
    tokenizer = json.loads((MODEL_DIR / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["truncation"] = None
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    sentence = " ".join(f"delegate{i} arrived" for i in range(200)) + "."
    pairs = [("Who arrived?", sentence), ("Who arrived?", "Vulin arrived.")]
    logits = Reader(folder).logits(pairs)
    assert logits.shape == (2,) and np.isfinite(logits).all()
    assert logits.tolist() == Reader().logits(pairs).tolist()  # as the shipped file reads it


# ---------------------------------------------------------------- rag/api.py


@pytest.mark.slow
def test_a_refusal_threshold_of_zero_is_kept(seeded: Settings) -> None:
    """Bug: a refusal threshold of 0.0 replaced by the reader's (``or`` for ``is not None``)."""
    question = "how do i bake sourdough bread"
    assert rag.answer(question, settings=seeded).refused  # the reader's threshold refuses it
    result = rag.answer(question, settings=seeded.with_(refusal_threshold=0.0))
    assert not result.refused and result.citations


# ---------------------------------------------------------------- rag/generation.py


def test_a_claim_is_supported_only_at_the_threshold(tied: Reader) -> None:
    """Bug: the claim-support threshold halved. With every sentence at 0.5, a threshold of 0.5
    supports the claim and one of 0.75 does not (halved, 0.375, it would)."""
    found = passages("The bridge opened in 1932. It is painted red.", "a.txt")

    def reply(threshold: float) -> Answer:
        checker = CitationChecker("When did the bridge open?", found, Checks(_one, tied, threshold))
        checker.feed("The bridge opened in 1932 [1].")
        checker.finish()
        return checker.answer(1.0)

    supported = reply(EVERY)
    assert not supported.refused and [c.verified for c in supported.citations] == [True]
    unsupported = reply(0.75)
    assert unsupported.refused and unsupported.citations == []


def _one(term: str) -> float:
    return 1.0


# ---------------------------------------------------------------- rag/lease.py


def test_a_writer_that_lost_the_lease_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: ``ServerLease.check`` never raises, so a writer that lost the lease writes on.
    The lease's marker is retired as a waiter would after a stall; the next renewal notices."""
    from rag import lease as lease_module

    monkeypatch.setattr(lease_module, "RENEW_S", 0.05)
    store = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store"))
    lease = lease_module.ServerLease(store)
    try:
        with lease.held(timeout=5):
            lease.check()  # held: nothing to say
            current = store.marker(lease.name)
            assert current is not None
            store.drop_marker(lease.name, current[0])  # another ingest took it over
            with pytest.raises(StoreBusyError, match="lost the writer lease"):
                for _ in range(200):
                    lease.check()
                    asyncio.run(asyncio.sleep(0.05))
    finally:
        store.close()


# ---------------------------------------------------------------- rag/sync.py


def test_an_unfinished_sync_alone_triggers_the_repair(settings: Settings, docs_dir: Path) -> None:
    """Bug: an interrupted sync (``in_progress``) no longer triggers repair. Here only the flag
    tells: the store holds as many chunks as the manifest lists, but not the same ones."""
    (docs_dir / "danube.txt").write_text(
        "The Danube flows through Belgrade. Its length is about 2,850 kilometres.",
        encoding="utf-8",
    )
    rag.ingest(settings=settings)
    path = settings.store_dir / "manifest.json"
    manifest = Manifest.load(path)
    store = engine(settings).store
    orphans = manifest.files.pop("danube.txt").chunks  # written, not yet listed
    store.delete(manifest.files[SEED_FILE].chunks[: len(orphans)])  # deleted, still listed
    manifest.in_progress = True
    manifest.save(path)
    assert store.count() == manifest.total_chunks  # the counts agree

    rag.ingest(settings=settings)
    repaired = Manifest.load(path)
    listed = {c for entry in repaired.files.values() for c in entry.chunks}
    assert not repaired.in_progress
    assert engine(settings).store.all_ids() == listed
    assert sorted(repaired.files) == sorted(["danube.txt", SEED_FILE])


def test_a_store_emptied_behind_the_manifest_is_repaired_before_the_next_answer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: the agreement check before a question skipped for good (or never skipped). Within
    ``AGREEMENT_SECONDS`` of a check that passed, with the manifest unchanged, the store is not
    counted again; after it, a store that lost its chunks is repaired before answering."""
    question = "Who is the president of Serbia?"
    assert not rag.answer(question, settings=settings).refused  # builds the index
    rag.retrieve(question, settings=settings)  # checks it
    store = engine(settings).store
    counted: list[int] = []
    count = store.count
    monkeypatch.setattr(store, "count", lambda: counted.append(1) or count())
    rag.retrieve(question, settings=settings)
    assert counted == []  # checked just now
    store.delete(sorted(store.all_ids()))  # emptied behind the manifest's back
    monkeypatch.setattr(rag.api, "AGREEMENT_SECONDS", 0.0)
    answer = rag.answer(question, settings=settings)
    assert counted and not answer.refused and "Vučić" in answer.text
    assert (
        engine(settings).store.count()
        == Manifest.load(settings.store_dir / "manifest.json").total_chunks
    )


# ---------------------------------------------------------------- rag/catalog.py


def test_document_text_stays_inside_the_documents_folder(settings: Settings) -> None:
    """Bug: the path-traversal check of ``LocalCatalog.document_text`` removed."""
    (settings.docs_dir.parent / "secret.txt").write_text("The key is 1234.", encoding="utf-8")
    assert rag.document_text(SEED_FILE, settings)  # a document of the folder reads
    for source in ("../secret.txt", str(settings.docs_dir.parent / "secret.txt")):
        with pytest.raises(DocumentsError, match="is not a document of"):
            rag.document_text(source, settings)


def test_document_text_of_a_file_changed_since_its_sync_says_so(settings: Settings) -> None:
    """Was: the current file's text, so a citation's offsets (into the text as indexed) cut
    the wrong words without a sign; an unreadable or empty file raised a loader error that is
    no RagError and names no file; a NUL byte, ValueError."""
    rag.ingest(settings=settings)
    path = settings.docs_dir / SEED_FILE
    original = path.read_text(encoding="utf-8")
    assert rag.document_text(SEED_FILE, settings) == original
    os.utime(path)  # touched, not changed: the same text
    assert rag.document_text(SEED_FILE, settings) == original
    path.write_text("Intro line added later.\n\n" + original, encoding="utf-8")
    with pytest.raises(DocumentsError) as changed:
        rag.document_text(SEED_FILE, settings)
    assert str(changed.value) == (
        f"{SEED_FILE!r} has changed since it was indexed, so the offsets of its citations no "
        "longer point into it: run rag ingest (or wait for the running sync), then ask again."
    )
    rag.ingest(settings=settings)
    assert rag.document_text(SEED_FILE, settings).startswith("Intro line added later.")
    path.write_text("", encoding="utf-8")
    with pytest.raises(DocumentsError) as empty:
        rag.document_text(SEED_FILE, settings)
    assert str(empty.value) == (
        f"Cannot read {SEED_FILE!r} in {settings.docs_dir} (empty file): give this user read "
        "access to it, or run rag ingest to bring the index in line with the folder."
    )
    with pytest.raises(DocumentsError, match="is not a document of"):
        rag.document_text(SEED_FILE + "\x00", settings)


def test_the_writer_lock_excludes_a_second_writer(tmp_path: Path) -> None:
    """Bug: a ``writer_lock`` that does not lock (caught before only with 3 writers, through a
    Chroma internal error). A second writer waits, then gives up with ``StoreBusyError``."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    busy = pytest.raises(StoreBusyError, match="another ingest is running")
    with writer_lock(store_dir), busy, writer_lock(store_dir, timeout=0.2):
        pass
    with writer_lock(store_dir, timeout=0.2):  # released: the next writer gets it at once
        pass


# ---------------------------------------------------------------- ui/guard.py


def _call(guard: HostGuard, kind: str, host: str) -> tuple[list[dict[str, Any]], bool]:
    """What the guard sends, and whether the app behind it ran."""
    sent: list[dict[str, Any]] = []
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect" if kind == "websocket" else "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": kind,
        "path": "/queue/join",
        "headers": [(b"host", host.encode())],
        "method": "GET",
        "query_string": b"",
    }
    asyncio.run(HostGuard(app, guard.hosts)(scope, receive, send))
    return sent, bool(reached)


def test_a_websocket_with_a_foreign_host_is_closed() -> None:
    """Bug: websocket requests unguarded (Gradio's queue runs on them)."""
    guard = HostGuard(lambda *a: None, allowed_hosts("127.0.0.1", 7860))  # type: ignore[arg-type]
    sent, reached = _call(guard, "websocket", "evil.example:7860")
    assert sent == [{"type": "websocket.close", "code": 1008}] and not reached
    sent, reached = _call(guard, "websocket", "127.0.0.1:7860")
    assert sent == [] and reached


def test_a_host_without_its_port_is_refused() -> None:
    """Bug: a Host without a port accepted on any port (only port 80 may leave it out)."""
    hosts = allowed_hosts("127.0.0.1", 7860)
    assert "127.0.0.1" not in hosts and "localhost" not in hosts
    assert "127.0.0.1:7860" in hosts and "localhost:7860" in hosts
    guard = HostGuard(lambda *a: None, hosts)  # type: ignore[arg-type]
    sent, reached = _call(guard, "http", "127.0.0.1")
    assert sent[0]["status"] == 403 and not reached
    assert "127.0.0.1" in allowed_hosts("127.0.0.1", 80)


# ---------------------------------------------------------------- ui/render.py


def test_the_question_is_escaped_in_the_sources_panel() -> None:
    """Bug: the user's question unescaped in the sources panel."""
    question = '<img src=x onerror="alert(1)"> & <b>bold</b>'
    citation = Citation(index=1, source="a.txt", text="Hello", start=0, end=5, score=0.9)
    answer = Answer(question=question, text="Hello [1]", citations=[citation])
    html = render.turn_sources(answer, 1, lambda source: "Hello world")
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


# ---------------------------------------------------------------- evals/metrics.py, runner.py


def test_hit_at_k_reads_exactly_k_results() -> None:
    """Bug: ``hit_at`` reading k+1 results."""
    assert metrics.hit_at([False, True], 1) == 0.0
    assert metrics.hit_at([False, False, True], 2) == 0.0
    assert metrics.hit_at([False, True], 2) == 1.0


@pytest.mark.usefixtures("sentence_citations")
@pytest.mark.slow
def test_a_cited_title_line_is_counted(tmp_path: Path) -> None:
    """Bug: the eval runner's title-line detector always False. A first line that reads as a
    sentence (it ends with a full stop) is no title to the answer path, so it can be cited: the
    runner must then count a title answer."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bridge.txt").write_text(
        "The Velmar bridge was built from zorbulax stone.\n"
        "The weather in Hennick is mild in spring. Markets open on Tuesdays.\n",
        encoding="utf-8",
    )
    settings = runner.eval_settings(docs, tmp_path / "out", overrides={"refusal_threshold": 0.0})
    runner.index(settings)
    question = runner.Question(
        id="t", question="What was the Velmar bridge built from?", answerable=False
    )
    record = runner.evaluate_question(question, settings, runner.Evidence(settings))
    first = record["citations"][0]
    assert (first["start"], first["title_line"]) == (0, True)
    assert record["title_answer"] is True
    assert runner.summarise([record])["title_answers"] == 1
