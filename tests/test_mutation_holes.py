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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rag
from rag.citations import SUPPORT_THRESHOLD, CitationChecker
from rag.config import Settings
from rag.lexical import LexicalIndex
from rag.models import Chunk, Citation, Passage
from rag.retrieval import Retriever, fuse, fuse_ranks
from rag.store import VectorStore
from tests.conftest import SEED_FILE
from tests.ui_process import running_ui
from ui import uploads

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
    args = ["--host", "127.0.0.2", "--port", str(port), "--no-sync"]
    env = {**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with running_ui(args, workdir, env, timeout=180) as output:
        yield port, output


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


# ---------------------------------------------------------------- Retriever on a real small store
#
# A real Chroma collection and BM25 index in tmp_path; the query vectors come from a table, so the
# dense ranking is the test's to choose (no model to load: these run for every mutant).

SHELF = {
    # id: (text, unit vector)
    "a": ("Lighthouses guide ships home at night.", (1.0, 0.0, 0.0)),
    "b": ("The quokka smiled.", (0.8, 0.6, 0.0)),
    "c": ("A quokka lives on Rottnest island near Perth.", (0.6, 0.8, 0.0)),
    "d": ("Trains leave the old station hourly.", (0.3, 0.954, 0.0)),
    "e": (
        "The pallet with the quokka toys left the loading dock of the northern warehouse.",
        (0.2, 0.0, 0.98),
    ),
}
PALLET = "pallet quokka"  # BM25: e (both terms), b, c; dense (below): a, b, c, d, e
QUOKKA = "What about the quokka?"  # BM25: b, c, e; dense: d, c, b
QUERIES = {PALLET: (1.0, 0.0, 0.0), QUOKKA: (0.0, 1.0, 0.0)}


class TableEmbedder:
    """Query vectors from ``QUERIES``; stands in for the model on a store built with them."""

    id = "table"

    def embed_query(self, question: str) -> np.ndarray:
        return np.array(QUERIES[question], dtype=np.float32)


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, VectorStore, LexicalIndex]:
    base = tmp_path_factory.mktemp("shelf")
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store", k=2, candidates=3)
    store = VectorStore(settings)
    store.set_embedding(TableEmbedder.id)
    chunks = [
        Chunk(id=cid, source=f"{cid}.txt", start=0, end=len(text), text=text)
        for cid, (text, _) in SHELF.items()
    ]
    vectors = np.array([vector for _, vector in SHELF.values()], dtype=np.float32)
    store.add(chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), list(SHELF))
    lexical = LexicalIndex(base / "store" / "bm25")
    lexical.build((cid, text) for cid, (text, _) in SHELF.items())
    return settings, store, lexical


def retriever(shelf: tuple[Settings, VectorStore, LexicalIndex], **changes: Any) -> Retriever:
    settings, store, lexical = shelf
    return Retriever(settings.with_(**changes), store, lexical, TableEmbedder())


def scored(passages: list[Passage]) -> list[tuple[str, str, float, float | None, float | None]]:
    """(id, text, score, dense score, BM25 score) of each passage, rounded to 4 places."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)

    return [
        (p.chunk.id, p.chunk.text, r(p.score), r(p.dense_score), r(p.lexical_score))
        for p in passages
    ]


def bm25(shelf: tuple[Settings, VectorStore, LexicalIndex], question: str) -> dict[str, float]:
    return {cid: round(score, 4) for cid, score in shelf[2].search(question, 10)}


def test_the_shelf_ranks_as_designed(shelf: tuple[Settings, VectorStore, LexicalIndex]) -> None:
    assert list(bm25(shelf, PALLET)) == ["e", "b", "c"]
    assert list(bm25(shelf, QUOKKA)) == ["b", "c", "e"]


def test_dense_mode_ranks_by_similarity(shelf: tuple[Settings, VectorStore, LexicalIndex]) -> None:
    found = retriever(shelf).search(PALLET, 2, mode="dense")
    # BM25 is not asked in dense mode: its score is 0.0 even for b, which holds "quokka".
    assert scored(found) == [
        ("a", SHELF["a"][0], 1.0, 1.0, 0.0),
        ("b", SHELF["b"][0], 0.8, 0.8, 0.0),
    ]


def test_bm25_mode_ranks_by_bm25_and_fetches_the_dense_score(
    shelf: tuple[Settings, VectorStore, LexicalIndex],
) -> None:
    lexical = bm25(shelf, PALLET)
    expected = [
        ("e", SHELF["e"][0], lexical["e"], 0.2, lexical["e"]),
        ("b", SHELF["b"][0], lexical["b"], 0.8, lexical["b"]),
    ]
    assert scored(retriever(shelf).search(PALLET, 2, mode="bm25")) == expected
    # Without a mode, the settings' mode.
    assert scored(retriever(shelf, mode="bm25").search(PALLET, 2)) == expected


def test_hybrid_fuses_and_keeps_each_sides_first_hit_within_the_configured_k(
    shelf: tuple[Settings, VectorStore, LexicalIndex],
) -> None:
    lexical = bm25(shelf, PALLET)
    # dense a, b, c; BM25 e, b, c. RRF: b 2/62, c 2/63, a 1/61, e 1/61: the first hits a and e
    # take the window's (settings.k=2) last place in turn: a, then e right after it.
    a = ("a", SHELF["a"][0], round(1 / 61, 4), 1.0, 0.0)
    b = ("b", SHELF["b"][0], round(2 / 62, 4), 0.8, lexical["b"])
    c = ("c", SHELF["c"][0], round(2 / 63, 4), 0.6, lexical["c"])
    e = ("e", SHELF["e"][0], round(1 / 61, 4), 0.2, lexical["e"])
    assert scored(retriever(shelf).search(PALLET, 2)) == [b, a]
    # A deeper retrieval starts with the same passages (the window is settings.k, not k).
    assert scored(retriever(shelf).search(PALLET, 4, mode="hybrid")) == [b, a, c, e]
    # k above the candidates: k a side. Dense a..e, BM25 e, b, c: e is 1/65 + 1/61 > 2/63.
    deep = retriever(shelf).search(PALLET, 5)
    assert scored(deep) == [
        ("b", SHELF["b"][0], round(2 / 62, 4), 0.8, lexical["b"]),
        ("e", SHELF["e"][0], round(1 / 65 + 1 / 61, 4), 0.2, lexical["e"]),
        ("c", SHELF["c"][0], round(2 / 63, 4), 0.6, lexical["c"]),
        a,
        ("d", SHELF["d"][0], round(1 / 64, 4), 0.3, 0.0),
    ]
    assert [p.chunk for p in deep] == [
        Chunk(id=cid, source=f"{cid}.txt", start=0, end=len(SHELF[cid][0]), text=SHELF[cid][0])
        for cid in "beca" + "d"
    ]


def test_the_dense_query_names_the_embedder(tmp_path: Path) -> None:
    settings = Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store")
    store = VectorStore(settings)
    store.set_embedding("another-model")
    text = SHELF["a"][0]
    chunk = Chunk(id="a", source="a.txt", start=0, end=len(text), text=text)
    store.add([chunk], np.array([[1.0, 0.0, 0.0]], dtype=np.float32), ["a"])
    lexical = LexicalIndex(tmp_path / "store" / "bm25")
    lexical.build([("a", text)])
    found = Retriever(settings, store, lexical, TableEmbedder())
    with pytest.raises(rag.RagError) as refused:
        found.search(PALLET, 1, mode="dense")
    assert str(refused.value) == (
        "The index holds another-model embeddings but the configured backend gives table: run "
        "rag ingest to re-embed the documents, or set RAG_EMBED_BACKEND to the backend that "
        "built the index."
    )


def test_a_follow_up_fuses_the_merged_query_with_its_own_words(
    shelf: tuple[Settings, VectorStore, LexicalIndex],
) -> None:
    r = retriever(shelf)
    merged = r.search(PALLET, 3)  # b, a, c
    alone = r.search(QUOKKA, 3)  # dense d, c, b; BM25 b, c, e: b, d, c
    assert [p.chunk.id for p in merged] == ["b", "a", "c"]
    assert [p.chunk.id for p in alone] == ["b", "d", "c"]
    by_id = {p.chunk.id: p for p in alone}
    # b 1/61 + 1/61, c 1/63 + 1/63, then a and d at 1/62 (a first by id); a passage both
    # found keeps its other scores from the follow-up's own search.
    assert r.search_follow_up(QUOKKA, PALLET, 3) == [
        dataclasses.replace(by_id["b"], score=2 / 61),
        dataclasses.replace(by_id["c"], score=2 / 63),
        dataclasses.replace(merged[1], score=1 / 62),
    ]
    # Not a follow-up (same words), or no words of its own: the merged query's passages.
    assert r.search_follow_up(PALLET, PALLET, 3) == merged
    assert r.search_follow_up("And that?", PALLET, 3) == merged


# ---------------------------------------------------------------- uploads (no browser, no index)
#
# The UI's upload tests need the index and run only as slow tests; these are the fast ones
# mutation testing runs for every mutant of ui/uploads.py.

UPLOAD_SUFFIX_LIST = ".txt, .md, .markdown, .html, .htm, .rst, .pdf, .docx"


@pytest.mark.parametrize(
    ("name", "saved_as"),
    [
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("C:/Users/me/notes.txt", "notes.txt"),
        ("Cafe\u0301 menu.md", "Caf\u00e9 menu.md"),  # composed (NFC), as the folder lists it
        ('a<b>:c"d|e?f*g\x01.txt', "abcdefg.txt"),
        # bidirectional controls (shown "reportfdp.txt") and a C1 control go
        ("report\u202etxt.pdf", "reporttxt.pdf"),
        ("a\u2066b\u2069c\u200fd\u0085.md", "abcd.md"),
        ("in\u200bvo\u2060i\ufeffce\u2028.txt", "invoice.txt"),  # zero-width, line separator
        ("  TAX. ", "TAX"),  # trailing dots and spaces go, the last letter stays
        ("a" * 300 + ".txt", "a" * 176 + ".txt"),  # cut to 180 characters, suffix kept
        ("b" * 176 + ".txt", "b" * 176 + ".txt"),
    ],
)
def test_safe_name_cases(name: str, saved_as: str) -> None:
    assert uploads.safe_name(name) == saved_as


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "'': the file name is empty; rename the file and retry."),
        ("docs/...", "'docs/...': the file name is empty; rename the file and retry."),
        ("\x07/", "'?/': the file name is empty; rename the file and retry."),
        (
            ".env.txt",
            "'.env.txt': hidden file names (starting with a dot) are not accepted; "
            "rename the file and retry.",
        ),
        (
            "." + "h" * 79,  # 80 characters: quoted whole
            f"'.{'h' * 79}': hidden file names (starting with a dot) are not accepted; "
            "rename the file and retry.",
        ),
        (
            "." + "h" * 80,  # 81: the first 80 and an ellipsis
            f"'.{'h' * 79}…': hidden file names (starting with a dot) are not accepted; "
            "rename the file and retry.",
        ),
    ],
)
def test_safe_name_refusals_quote_the_name(name: str, message: str) -> None:
    with pytest.raises(uploads.UploadRejected) as refused:
        uploads.safe_name(name)
    assert str(refused.value) == message


def test_check_upload_limits_type_and_size() -> None:
    mb = 1024 * 1024
    assert uploads.check_upload("notes.TXT", 1, 1) == "notes.TXT"
    assert uploads.check_upload("a.pdf", mb, 1) == "a.pdf"  # exactly the limit
    refusals = [
        (
            ("tool.exe", 10, 1),
            f"tool.exe: .exe cannot be indexed; upload {UPLOAD_SUFFIX_LIST} files.",
        ),
        (
            ("README", 10, 1),
            f"README: files without an extension cannot be indexed; upload {UPLOAD_SUFFIX_LIST} "
            "files.",
        ),
        (
            ("a.txt", mb + 1, 1),
            "a.txt: 1.0 MB is over the 1 MB upload limit; split the file or raise "
            "RAG_MAX_UPLOAD_MB.",
        ),
        (
            ("big.md", 2_149_581, 2),  # 2.0500002 MB
            "big.md: 2.1 MB is over the 2 MB upload limit; split the file or raise "
            "RAG_MAX_UPLOAD_MB.",
        ),
        (("empty.txt", 0, 1), "empty.txt: the file is empty."),
    ]
    for args, message in refusals:
        with pytest.raises(uploads.UploadRejected) as refused:
            uploads.check_upload(*args)
        assert str(refused.value) == message


def test_every_format_the_index_reads_can_be_uploaded(tmp_path: Path) -> None:
    """Review: a Word document or a reStructuredText page was refused as an upload ("cannot be
    indexed") though the folder's sync reads both and the README offered DOCX uploads."""
    from rag.loaders import load_document
    from tests.test_loaders_chunking import make_docx

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    make_docx(incoming / "report.docx", ["Herons wade in shallow water and eat fish."])
    (incoming / "guide.rst").write_text("Herons\n======\n\nHerons eat fish.\n", "utf-8")
    docs = tmp_path / "docs"
    for name in ("report.docx", "guide.rst"):
        saved = uploads.save_upload(incoming / name, name, docs, 1)
        assert saved.path == docs.resolve() / name and not saved.replaced
    texts = {path.name: load_document(path).text for path in sorted(docs.iterdir())}
    assert texts == {
        "guide.rst": "Herons\n\nHerons eat fish.",
        "report.docx": "Herons wade in shallow water and eat fish.",
    }


def test_save_upload_writes_through_a_hidden_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "incoming"
    source.write_text("Moonbase Tranquility has a commander.\n", encoding="utf-8")
    docs = tmp_path / "nested" / "docs"  # created, parents too
    checked: list[tuple[Path, bool]] = []
    real_check = uploads.check_document

    def check_and_record(path: str | Path, settings: rag.Settings | None = None) -> None:
        checked.append((Path(path), (docs / "moon.txt").exists()))
        real_check(path, settings=settings)

    monkeypatch.setattr(uploads, "check_document", check_and_record)

    first = uploads.save_upload(source, "../moon.txt", docs, 1)
    assert first == uploads.SavedUpload(docs.resolve() / "moon.txt", False)
    # The sync skips hidden files; the loader picks the format by the name's suffix.
    [(temporary, target_existed)] = checked
    assert temporary.parent == docs.resolve() and not target_existed
    assert temporary.name.startswith(".") and temporary.name.endswith(".part.txt")

    source.write_text("A newer text.\n", encoding="utf-8")
    again = uploads.save_upload(source, "moon.txt", docs, 1)  # the folder exists now
    assert again == uploads.SavedUpload(docs.resolve() / "moon.txt", True)
    assert (docs / "moon.txt").read_text(encoding="utf-8") == "A newer text.\n"
    assert sorted(p.name for p in docs.iterdir()) == ["moon.txt"]
    # A document gets the mode of any new file of this user (mkstemp's 0600 hid it from other
    # users' tools reading the folder).
    umask = os.umask(0o022)
    os.umask(umask)
    assert (docs / "moon.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_upload_refuses_a_folder_and_an_unreadable_file(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub.txt").mkdir(parents=True)
    (docs / "scan.pdf").write_bytes(b"%PDF-1.4 the old scan")
    source = tmp_path / "incoming.pdf"
    source.write_bytes(b"not really a pdf")
    with pytest.raises(uploads.UploadRejected) as refused:
        uploads.save_upload(source, "sub.txt", docs, 1)
    assert str(refused.value) == ("sub.txt: a folder of that name exists in the documents folder.")

    with pytest.raises(rag.RagError) as unreadable:
        rag.check_document(source)
    with pytest.raises(uploads.UploadRejected) as refused:
        uploads.save_upload(source, "scan.pdf", docs, 1)
    assert str(refused.value) == f"scan.pdf: {unreadable.value}; it was not added."
    # Nothing replaced, nothing left behind.
    assert (docs / "scan.pdf").read_bytes() == b"%PDF-1.4 the old scan"
    assert sorted(p.name for p in docs.iterdir()) == ["scan.pdf", "sub.txt"]
