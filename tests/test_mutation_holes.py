"""Tests for the holes a mutation review found (issue 14): each fails on its mutation.

Hybrid fusion keeping an exact rare-term hit, the citation support threshold's boundary,
``IngestReport.unchanged_chunks`` after an edit, and the address the UI binds to.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.citations import SUPPORT_THRESHOLD, CitationChecker
from rag.config import Settings
from rag.models import Chunk, Citation, Passage
from rag.retrieval import fuse, fuse_ranks
from tests.conftest import SEED_FILE

# ---------------------------------------------------------------- fusion (pure)


def test_fuse_ranks_sums_reciprocal_ranks() -> None:
    assert fuse_ranks([["a", "b"], ["b", "c"]], 60) == {
        "a": 1 / 61,
        "b": 1 / 62 + 1 / 61,
        "c": 1 / 62,
    }


def test_each_rankings_first_hit_is_kept_within_the_window() -> None:
    # b..f are found by both sides, so plain RRF puts every one of them above a and x, the
    # first hits that only one side found (2/(60+6) > 1/61).
    dense = ["a", "b", "c", "d", "e", "f"]
    lexical = ["x", "b", "c", "d", "e", "f"]
    plain = ["b", "c", "d", "e", "f", "a", "x"]
    assert sorted(fuse_ranks([dense, lexical], 60).items(), key=lambda i: -i[1])[0][0] == "b"
    assert fuse([dense, lexical], 60, keep_firsts_within=len(plain)) == plain
    # The first hits take the window's last places (as many as fit); the fused winner keeps
    # first place.
    assert fuse([dense, lexical], 60, keep_firsts_within=3) == ["b", "a", "x", "c", "d", "e", "f"]
    assert fuse([dense, lexical], 60, keep_firsts_within=4) == ["b", "c", "a", "x", "d", "e", "f"]
    assert fuse([dense, lexical], 60, keep_firsts_within=2) == ["b", "a", "c", "d", "e", "f", "x"]
    assert fuse([dense, lexical], 60, keep_firsts_within=1) == plain
    assert fuse([dense, lexical], 60, keep_firsts_within=0) == plain


def test_fuse_leaves_the_order_alone_when_the_first_hits_are_in_the_window() -> None:
    assert fuse([["a", "b", "c"], ["b", "a", "c"]], 60, keep_firsts_within=2) == ["a", "b", "c"]
    # A first hit already in the window is never bumped to make room for the other one.
    assert fuse([["a", "c", "d"], ["z", "a", "c", "d"]], 60, keep_firsts_within=2) == [
        "a",
        "z",
        "c",
        "d",
    ]
    assert fuse([[], ["x", "y"]], 60, keep_firsts_within=1) == ["x", "y"]
    assert fuse([[], []], 60, keep_firsts_within=5) == []


# ---------------------------------------------------------------- fusion (real pipeline)

FOOTBALL = [
    "France won the 1998 football World Cup, beating Brazil 3-0 in the championship final "
    "in Paris.",
    "Spain were the winner of the 2010 World Cup, the first football championship they ever won.",
    "Germany beat Argentina 1-0 to become the winner of the 2014 football championship in Rio.",
    "Italy won the 2006 World Cup final on penalties, their fourth football championship title.",
    "Argentina were crowned winner of the 2022 World Cup after a penalty shoot-out against France.",
    "Manchester City won the English football championship in 2023 and the Champions League too.",
    "Real Madrid are the most frequent winner of the European football club championship.",
    "Brazil have won the football World Cup championship five times, more than any other team.",
]
NOTE = "Warehouse note: pallet 88213-ZR left the loading dock on Tuesday morning.\n"
RARE_QUESTION = "football championship winner 88213-ZR"


@pytest.fixture(scope="module")
def rare_code(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Eight football passages both sides like, and one note only its code can find.

    Issue 14's case (199 ClapNQ passages, 30 candidates a side, k=5) scaled down to nine
    documents: 6 candidates a side and k=3 keep the note out of the dense candidates.
    """
    base = tmp_path_factory.mktemp("rare-code")
    docs = base / "docs"
    docs.mkdir()
    for i, text in enumerate(FOOTBALL):
        (docs / f"football-{i}.txt").write_text(text + "\n", encoding="utf-8")
    (docs / "note.txt").write_text(NOTE, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=base / "store", k=3, candidates=6)
    rag.ingest(settings=settings)
    return settings


def sources(settings: Settings, mode: str, k: int | None = None) -> list[str]:
    found = rag.retrieve(RARE_QUESTION, k=k, settings=settings.with_(mode=mode))
    return [p.chunk.source for p in found]


@pytest.mark.slow
def test_hybrid_keeps_the_exact_rare_code_hit(rare_code: Settings) -> None:
    # The case is real: BM25 ranks the note first, the embedding not among its candidates.
    assert sources(rare_code, "bm25")[0] == "note.txt"
    assert "note.txt" not in sources(rare_code, "dense", k=rare_code.candidates)
    hybrid = sources(rare_code, "hybrid")
    assert len(hybrid) == 3 and "note.txt" in hybrid
    assert hybrid[0] != "note.txt"  # the fused winner keeps first place
    # A deeper retrieval starts with the same passages as the answer's.
    assert sources(rare_code, "hybrid", k=6)[:3] == hybrid


# ---------------------------------------------------------------- citation support threshold


def passage(text: str) -> Passage:
    chunk = Chunk(
        id="a.txt", source="a.txt", start=0, end=len(text), text=text, sentences=((0, len(text)),)
    )
    return Passage(chunk=chunk, score=1.0)


@pytest.mark.parametrize(
    ("claim", "score", "verified"),
    [
        ("Alpha bravo echo foxtrot", 0.5, True),  # 2 of 4 terms: exactly the threshold
        ("Alpha bravo echo foxtrot golf", 0.4, False),  # 2 of 5: under it
        ("Alpha bravo charlie echo", 0.75, True),
        ("Alpha echo foxtrot golf", 0.25, False),
    ],
)
def test_support_threshold_boundary(claim: str, score: float, verified: bool) -> None:
    sentence = "Alpha bravo charlie delta."
    checker = CitationChecker("Which?", [passage(sentence)], lambda term: 1.0)
    checker.feed(f"{claim} [1].")
    checker.finish()
    answer = checker.answer(1.0)

    assert SUPPORT_THRESHOLD == 0.5
    assert answer.citations == [
        Citation(
            index=1, source="a.txt", text=sentence, start=0, end=26, score=score, verified=verified
        )
    ]
    assert answer.unsupported == ([] if verified else [claim])


# ---------------------------------------------------------------- sync report after an edit

DANUBE = "The Danube flows through Belgrade. Its length is about 2,850 kilometres."
SAVA = "The Sava meets the Danube at Belgrade."


def test_unchanged_chunks_after_an_edit(settings: Settings, docs_dir: Path) -> None:
    seed_chunks = rag.ingest(settings=settings).total_chunks
    (docs_dir / "danube.txt").write_text(DANUBE, encoding="utf-8")
    (docs_dir / "sava.txt").write_text(SAVA, encoding="utf-8")
    added = rag.ingest(settings=settings)
    assert (added.added_chunks, added.unchanged_chunks) == (2, seed_chunks)

    (docs_dir / "danube.txt").write_text(DANUBE + " It ends in the Black Sea.", encoding="utf-8")
    edited = rag.ingest(settings=settings)

    assert dataclasses.replace(edited, seconds=0.0) == rag.IngestReport(
        updated_files=1,
        unchanged_files=2,
        added_chunks=1,
        removed_chunks=1,
        unchanged_chunks=seed_chunks + 1,  # the seed's chunks and sava.txt's one
        embedded_chunks=1,
        total_files=3,
        total_chunks=seed_chunks + 2,
    )
    assert [d.source for d in rag.documents(settings).documents] == [
        SEED_FILE,
        "danube.txt",
        "sava.txt",
    ]


# ---------------------------------------------------------------- the address the UI binds to


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (IPv4 and IPv6), from /proc."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if width == 8:
                found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


@pytest.fixture
def ui_process(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """``python -m ui --host 127.0.0.2 --port P --no-sync``, running until the test ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(
        RAG_DOCS_DIR=str(tmp_path / "docs"),
        RAG_STORE_DIR=str(tmp_path / "store"),
        GRADIO_TEMP_DIR=str(tmp_path / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    workdir = tmp_path / "run"
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui", "--host", "127.0.0.2", "--port", str(port), "--no-sync"],
        cwd=workdir,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    announced = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith("Ask your documents at "):
                announced.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not announced.wait(180) or proc.poll() is not None:
            pytest.fail("the UI did not start:\n" + "\n".join(output))
        yield port, output
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_ui_listens_only_on_the_host_it_was_given(ui_process: tuple[int, list[str]]) -> None:
    port, output = ui_process
    assert f"Ask your documents at http://127.0.0.2:{port}/" in output
    assert listening_addresses(port) == {"127.0.0.2"}


# ---------------------------------------------------------------- the user's shell settings


def test_settings_are_the_defaults_whatever_the_shell_says() -> None:
    leftover = sorted(name for name in os.environ if name.startswith(("RAG_", "OPENAI_")))
    assert leftover == ["RAG_STORE_DIR"]  # the autouse fixture's private store
    assert Settings.from_env() == Settings(store_dir=Path(os.environ["RAG_STORE_DIR"]))


def test_the_users_shell_settings_do_not_reach_the_tests() -> None:
    shell = {
        "RAG_REFUSAL_THRESHOLD": "0.9",
        "RAG_CHUNK_SIZE": "300",
        "RAG_EMBED_BACKEND": "torch",
        "RAG_EMBED_BULK": "off",
        "RAG_DOCS_DIR": "/nowhere",
        "OPENAI_API_KEY": "sk-user",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    }
    test = f"{Path(__file__).name}::test_settings_are_the_defaults_whatever_the_shell_says"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/{test}"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **shell},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("1 passed")
