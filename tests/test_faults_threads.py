"""Questions of several threads of one process (the page serves several users at once) while
another process syncs the index, found by the attack review. Real Chroma in tmp_path, the real
embedding model, real `rag ingest` processes."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

import rag
import rag.api
from rag.config import Settings
from rag.store import StoreReopenedError
from tests.test_faults_store import run_rag

TOWNS = 30
INGESTS = 12
READERS = 4


def town(n: int, update: int = 0) -> str:
    extra = f" It was surveyed {update} times." if update else ""
    return f"Town{n} has a mayor named Person{n} who likes rivers and hills.{extra}\n"


@pytest.fixture
def towns(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(1, TOWNS + 1):
        (docs / f"t{n}.txt").write_text(town(n), encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    rag.ingest(settings=settings)
    return settings


def test_a_read_through_a_reopened_engine_says_so(towns: Settings) -> None:
    """The old engine, closed when a question of another thread reopened the index after
    another process synced it, fails with StoreReopenedError (which rag.api asks again), not
    with "failed while searching ... if that fails too, delete the store"."""
    held = rag.api.ensure_index(towns)  # a question of thread A holds this engine ...
    (towns.docs_dir / "t1.txt").write_text(town(1, 1), encoding="utf-8")
    assert run_rag(towns, "ingest").returncode == 0  # ... another process syncs ...
    assert rag.api.engine(towns) is not held  # ... and thread B's question reopens the index
    with pytest.raises(StoreReopenedError) as caught:
        held.retriever(towns).search_follow_up("Who is the mayor of Town2?", "Town2", 5)
    assert str(caught.value) == (
        f"The index at {towns.store_dir / 'chroma'} was reopened while it was read (another "
        "process synced it): ask again."
    )


def test_questions_of_several_threads_survive_syncs_of_another_process(towns: Settings) -> None:
    """Was: 20 of 4,411 answers (4 threads, 36 syncs of `rag ingest` in 60 s) failed with
    `StoreError: ... failed while searching (AttributeError: 'RustBindingsAPI' object has no
    attribute 'bindings'): run rag ingest to repair the index; if that fails too, delete ...`:
    a question that reopened the index closed the Chroma client under the others."""
    failures: list[str] = []
    answered = [0]
    done = threading.Event()

    def ask() -> None:
        rng = random.Random(threading.get_ident())
        while not done.is_set():
            n = rng.randint(1, TOWNS)
            try:
                answer = rag.answer(f"Who is the mayor of Town{n}?", settings=towns)
            except Exception as exc:  # every failure is the finding
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            answered[0] += 1
            # Not asserted: while a sync runs, a document it updated is found by the dense
            # search only (BM25 is rewritten when the sync ends), so in this small index of
            # look-alike towns an answer may name a neighbour (seen once in about 1,000
            # answers; docs/reliability.md, known limits).
            del answer

    readers = [threading.Thread(target=ask) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    try:
        for update in range(1, INGESTS + 1):
            n = random.Random(update).randint(1, TOWNS)
            (towns.docs_dir / f"t{n}.txt").write_text(town(n, update), encoding="utf-8")
            assert run_rag(towns, "ingest").returncode == 0
            time.sleep(0.2)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert answered[0] > INGESTS * READERS
    assert failures == []
