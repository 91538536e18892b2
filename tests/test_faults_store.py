"""Store faults: concurrent writers, readers during a sync, kills, damaged or missing files.

Each test repeats a finding of issue 12 on a small folder; writers are real `rag ingest`
processes, so the lock, the kills and the damage are the real thing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.api import engine
from rag.config import Settings
from rag.errors import StoreBusyError
from rag.lexical import LexicalIndex
from rag.manifest import Manifest
from rag.store import VectorStore
from tests import kill_points

ROOT = Path(__file__).resolve().parents[1]
# Rounds of the concurrent-writer tests (the issue asks 10; each round takes ~6 s on 2 cores).
# Rounds of the concurrent-writer tests: 3 in CI; FAULT_REPEATS=10 for the long run the issue asks
# for (docs/reliability.md has its figures).
REPEATS = int(os.environ.get("FAULT_REPEATS", "3"))
FILES = 40

pytestmark = pytest.mark.slow


def fact(i: int, version: int = 0) -> str:
    return (
        f"File {i} describes the quux{i} tower. The quux{i} tower is {10 + i + version} metres "
        f"tall. It was built by the guild of zorb{i} masons in the year {1500 + i}. Its roof is "
        f"painted colour{version} and it stands beside the river vel{i}."
    )


def write_docs(folder: Path, count: int = FILES) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"f{i:03d}.txt").write_text(fact(i), encoding="utf-8")


def long_fact(i: int, version: int = 0) -> str:
    """Twenty-odd small chunks with SMALL_CHUNKS: syncs long enough for writers to overlap."""
    return " ".join(f"{fact(i, version)} Record {j}." for j in range(6))


SMALL_CHUNKS = {"RAG_CHUNK_SIZE": "100", "RAG_CHUNK_OVERLAP": "0"}


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ, RAG_DOCS_DIR=str(settings.docs_dir))
    env.update(RAG_STORE_DIR=str(settings.store_dir), PYTHONPATH=str(ROOT), **extra)
    return env


def rag_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag", *args]


def run_rag(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        rag_cmd(*args), env=env_for(settings, **extra), capture_output=True, text=True, timeout=240
    )


def start_rag(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        rag_cmd(*args),
        env=env_for(settings, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    docs = tmp_path / "small-docs"
    write_docs(docs)
    return Settings(docs_dir=docs, store_dir=tmp_path / "small-store")


def index_state(settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Chroma ids, manifest ids and BM25 rows, each sorted with repeats kept, read afresh."""
    store = VectorStore(settings)
    try:
        stored = sorted(store.all_ids())
    finally:
        store.close()
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    listed = sorted(c for entry in manifest.files.values() for c in entry.chunks)
    rows = sorted(LexicalIndex(settings.store_dir / "bm25")._current().ids)
    return stored, listed, rows


def assert_consistent(settings: Settings) -> None:
    stored, listed, rows = index_state(settings)
    assert len(set(listed)) == len(listed), "a chunk id is listed twice"
    assert len(set(rows)) == len(rows), "a BM25 row is there twice"
    assert stored == listed == rows
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    on_disk = sorted(p.name for p in settings.docs_dir.glob("*.txt"))
    assert sorted(manifest.files) == on_disk
    assert not manifest.in_progress


def assert_nothing_to_do(settings: Settings, **extra: str) -> None:
    """A later `rag ingest` works and finds the index already in line with the folder."""
    done = run_rag(settings, "ingest", **extra)
    assert done.returncode == 0, done.stderr
    files = len(list(settings.docs_dir.glob("*.txt")))
    assert done.stdout.startswith(
        f"0 added, 0 updated, 0 removed, 0 renamed, {files} unchanged files; 0 chunks added"
    ), done.stdout


# -- one writer at a time ---------------------------------------------------------------------


def _edit_round(docs: Path, round_no: int, step: int, write: object = fact) -> None:
    """Delete 2 files, edit 6 and add 1 (different ones every round and step)."""
    assert callable(write)
    base = (round_no * 11 + step * 8) % FILES
    for i in range(base, base + 2):
        (docs / f"f{i % FILES:03d}.txt").unlink(missing_ok=True)
    for i in range(base + 2, base + 8):
        (docs / f"f{i % FILES:03d}.txt").write_text(write(i % FILES, round_no + 1))
    (docs / f"new{round_no}-{step}.txt").write_text(write(100 + round_no * 10 + step))


@pytest.mark.parametrize("writers", [2, 3])
def test_concurrent_ingests_leave_one_consistent_index(small: Settings, writers: int) -> None:
    for i in range(FILES):
        (small.docs_dir / f"f{i:03d}.txt").write_text(long_fact(i), encoding="utf-8")
    first = run_rag(small, "ingest", **SMALL_CHUNKS)
    assert first.returncode == 0, first.stderr
    for round_no in range(REPEATS):
        procs = []
        for step in range(writers):
            # Files edited, deleted and added between the starts; the last start comes after the
            # last edit, so that any serial order of the writers must end with the folder as it is.
            _edit_round(small.docs_dir, round_no, step, long_fact)
            procs.append(start_rag(small, "ingest", **SMALL_CHUNKS))
            time.sleep(1.5)  # the previous one is reading the folder or writing
        outputs = [p.communicate(timeout=240) for p in procs]
        for proc, (out, err) in zip(procs, outputs):
            assert proc.returncode == 0, err
            assert "Traceback" not in err and "error" not in out.lower(), err
        assert_consistent(small)
    assert_nothing_to_do(small, **SMALL_CHUNKS)
    small_chunks = small.with_(chunk_size=100, chunk_overlap=0)
    for name in sorted(p.name for p in small.docs_dir.glob("f*.txt"))[:3]:
        question = f"Who built the quux{int(name[1:4])} tower?"
        assert rag.retrieve(question, k=1, settings=small_chunks)[0].chunk.source == name


def test_a_waiting_ingest_says_who_it_waits_for(small: Settings) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(small.store_dir)],
        env=env_for(small),
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        waiter = start_rag(small, "ingest")
        assert waiter.stderr is not None
        line = waiter.stderr.readline()
        assert line == (
            f"WARNING: another ingest is running (pid {holder.pid}); waiting for it to finish ...\n"
        )
        assert waiter.poll() is None  # still waiting
        with pytest.raises(
            StoreBusyError, match=rf"another ingest is running \(pid {holder.pid}\)"
        ):
            rag.ingest(settings=small, timeout=0.5)
        holder.stdin.write("\n")
        holder.stdin.flush()
        out, err = waiter.communicate(timeout=240)
        assert waiter.returncode == 0, err
        assert out.startswith(f"{FILES} added, 0 updated")
    finally:
        holder.kill()
        holder.wait()
    assert_consistent(small)


HOLD_LOCK = """
import sys
from pathlib import Path
from rag.sync import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


# -- readers during another process's sync ----------------------------------------------------


def test_readers_never_fail_while_another_process_syncs(small: Settings) -> None:
    docs = small.docs_dir
    assert run_rag(small, "ingest").returncode == 0
    kept = {p.name: p.read_text() for p in docs.glob("*.txt")}
    errors: list[BaseException] = []
    calls = empty = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal calls, empty
        i = 0
        while not stop.is_set():
            i += 1
            try:
                passages = rag.retrieve(f"How tall is the quux{i % FILES} tower?", settings=small)
                assert all(p.chunk.text for p in passages)
                # Mid-sync, every hit may have been deleted meanwhile: none left is no error.
                empty += not passages
            except BaseException as exc:  # every failure counts
                errors.append(exc)
            calls += 1

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for round_no in range(REPEATS):
            # Remove most files, then bring them back: ids vanish under the readers' feet.
            for name in sorted(kept)[: FILES - 5]:
                (docs / name).unlink()
            assert run_rag(small, "ingest").returncode == 0
            for name, text in kept.items():
                (docs / name).write_text(text + f" Round {round_no}.")
            assert run_rag(small, "ingest").returncode == 0
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not reader.is_alive()
    assert not errors, f"{len(errors)} of {calls} reads failed, first: {errors[0]!r}"
    assert calls >= 10
    print(f"{calls} reads during {2 * REPEATS} syncs of another process, {empty} found nothing")
    assert_consistent(small)


# -- kill -9 -----------------------------------------------------------------------------------


def stored_count(store_dir: Path) -> int:
    """Chunks Chroma has committed, read from its SQLite file without opening Chroma."""
    path = store_dir / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_while_embedding_a_large_file_keeps_what_was_embedded(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    sentences = [
        f"Entry {i} of the ledger names the merchant m{i}x of port p{i}y." for i in range(2000)
    ]
    (docs / "ledger.txt").write_text(" ".join(sentences), encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    size = {"RAG_CHUNK_SIZE": "200", "RAG_CHUNK_OVERLAP": "0"}
    proc = start_rag(settings, "ingest", **size)
    deadline = time.monotonic() + 180
    while stored_count(settings.store_dir) < 256 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    kept = stored_count(settings.store_dir)
    assert kept >= 256

    done = run_rag(settings, "ingest", **size)
    assert done.returncode == 0, done.stderr
    report = done.stdout
    total = int(report.split(" chunks in ")[0].rsplit(" ", 1)[1])
    embedded = int(report.split(" embedded;")[0].rsplit(" ", 1)[1])
    assert embedded <= total - kept, report  # what was embedded before the kill is reused
    assert_consistent(settings)


def test_a_vector_index_out_of_step_on_disk_is_rebuilt_by_the_next_ingest(tmp_path: Path) -> None:
    """Chroma writes its HNSW files in place: a kill or power cut between them leaves the vectors
    of one write and the id map of the one before (30 random kills -9 of a sync left such a
    store once: every later question and ingest failed with "Failed to apply logs to the hnsw
    segment writer"). Made here on purpose: after a second sync, the id map of the first is put
    back. The old ingest found nothing to do while every question failed; now the ingest sees
    it, empties the vector index and embeds every file again."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(120):  # 2,160 chunks: past Chroma's 1,000, so the HNSW files are written
        (docs / f"f{i:03d}.txt").write_text(long_fact(i), encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    assert run_rag(settings, "ingest", **SMALL_CHUNKS).returncode == 0
    (segment,) = [p for p in (settings.store_dir / "chroma").iterdir() if p.is_dir()]
    id_map = (segment / "index_metadata.pickle").read_bytes()
    for i in range(60):
        (docs / f"f{i:03d}.txt").write_text(long_fact(i, 1), encoding="utf-8")
    assert run_rag(settings, "ingest", **SMALL_CHUNKS).returncode == 0
    (segment / "index_metadata.pickle").write_bytes(id_map)
    question = "How tall is the quux3 tower?"
    broken = run_rag(settings, "ask", question, **SMALL_CHUNKS)
    assert broken.returncode == 1 and "failed while searching" in broken.stderr, broken.stderr

    repaired = run_rag(settings, "ingest", **SMALL_CHUNKS)
    assert repaired.returncode == 0, repaired.stderr
    assert f"WARNING: The vector index in {settings.store_dir / 'chroma'} cannot be read (" in (
        repaired.stderr
    )
    assert "rebuilding it from the documents (every chunk is embedded again)" in repaired.stderr
    assert repaired.stdout.startswith("120 added, 0 updated, 0 removed"), repaired.stdout
    answered = run_rag(settings, "ask", question, **SMALL_CHUNKS)
    assert answered.returncode == 0, answered.stderr
    answer_line = answered.stdout.splitlines()[0]
    assert "The quux3 tower is 14 metres tall. [" in answer_line, answered.stdout
    assert_consistent(settings)
    assert_nothing_to_do(settings, **SMALL_CHUNKS)


def store_generation(store_dir: Path) -> int | None:
    """The sync generation the store recorded, read from Chroma's SQLite without opening it."""
    path = store_dir / "chroma" / "chroma.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        row = db.execute(
            "SELECT int_value FROM collection_metadata WHERE key = 'generation'"
        ).fetchone()
    return None if row is None else int(row[0])


def stored_ids(store_dir: Path) -> set[str]:
    path = store_dir / "chroma" / "chroma.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return {row[0] for row in db.execute("SELECT embedding_id FROM embeddings")}


@pytest.mark.parametrize("point", kill_points.POINTS)
def test_kill_at_each_point_then_sync_is_consistent(small: Settings, point: str) -> None:
    """The ingest stops at a named step of its sync (tests/kill_points.py hooks it and writes a
    marker), is killed there, and the store on disk shows that it was: every kill lands
    mid-write, where it says. The next ingest repairs the index."""
    assert run_rag(small, "ingest").returncode == 0
    before = stored_ids(small.store_dir)
    generation = Manifest.load(small.store_dir / "manifest.json").generation
    _edit_round(small.docs_dir, 1, 0)
    for i in range(10, 20):
        (small.docs_dir / f"f{i:03d}.txt").unlink(missing_ok=True)
    marker = small.store_dir.parent / "kill-point"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kill_points", point, str(marker)],
        env=env_for(small),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]  # it must not finish or fail first
        assert time.monotonic() < deadline, "the ingest never reached " + point
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and marker.read_text() == point

    # Where the kill landed, seen on disk: always with the sync unfinished.
    manifest = Manifest.load(small.store_dir / "manifest.json")
    assert manifest.in_progress and manifest.generation == generation
    stored = stored_ids(small.store_dir)
    if point == "flagged":
        assert stored == before
    elif point == "deleting":
        assert stored < before  # some removed, none added
    else:
        assert stored - before  # new chunks in
    expected = generation + 1 if point == "committed" else generation
    assert store_generation(small.store_dir) == expected

    after = run_rag(small, "ingest")
    assert after.returncode == 0, after.stderr
    assert "Repairing the index first: the last sync did not finish" in after.stderr
    assert_consistent(small)
    assert_nothing_to_do(small)


# -- damaged or missing store files -----------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A small index built once; each damage test works on a copy."""
    base = tmp_path_factory.mktemp("built")
    write_docs(base / "docs")
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store")
    done = run_rag(settings, "ingest")
    assert done.returncode == 0, done.stderr
    return settings


@pytest.fixture
def copy(built: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(built.docs_dir, tmp_path / "docs", copy_function=shutil.copy2)
    shutil.copytree(built.store_dir, tmp_path / "store")
    settings = Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store")
    manifest = Manifest.load(settings.store_dir / "manifest.json")
    manifest.root = str(settings.docs_dir.resolve())  # the copy mirrors its own folder ...
    manifest.save(settings.store_dir / "manifest.json")
    store = VectorStore(settings)  # ... and Chroma records it too (a lost manifest's rebuild
    try:  # takes the folder from there)
        store.set_generation(store.state().generation, manifest.root)
    finally:
        store.close()
    return settings


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    # Keep SQLite's 100-byte header (else it is simply "not a database") and garble the rest.
    for start in range(100, len(data), 4096):
        data[start : start + 512] = rng.integers(
            0, 256, min(512, len(data) - start), np.uint8
        ).tobytes()
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


DAMAGE = {
    "manifest.json": [delete, empty, truncate, garble],
    "bm25/ids.json": [delete, empty, truncate, garble],
    "bm25/weights.npz": [delete, truncate, garble],
    "bm25/counts.npz": [delete, truncate],
    "bm25": [delete],
    "chroma": [delete],
    "chroma/chroma.sqlite3": [delete, empty],
}
CASES = [(name, how) for name, hows in DAMAGE.items() for how in hows]


@pytest.mark.parametrize(("name", "how"), CASES, ids=[f"{h.__name__}-{n}" for n, h in CASES])
def test_damaged_store_file_is_repaired_never_silently_empty(
    copy: Settings, name: str, how: object
) -> None:
    assert callable(how)
    how(copy.store_dir / name)
    # A question never gets "not in the documents" from an index that lost its chunks.
    top = rag.retrieve("How tall is the quux7 tower?", k=1, settings=copy)
    assert top and top[0].chunk.source == "f007.txt"
    assert_consistent(copy)
    engine(copy).close()
    # The next ingest embeds nothing again (a rebuilt manifest re-reads the files), the one
    # after it has nothing to do.
    again = run_rag(copy, "ingest")
    assert again.returncode == 0 and " 0 embedded; " in again.stdout, again.stdout + again.stderr
    assert_nothing_to_do(copy)
    assert_consistent(copy)


@pytest.mark.parametrize(("name", "how"), CASES, ids=[f"{h.__name__}-{n}" for n, h in CASES])
def test_ingest_after_damage_ends_consistent(copy: Settings, name: str, how: object) -> None:
    assert callable(how)
    how(copy.store_dir / name)
    done = run_rag(copy, "ingest")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert_consistent(copy)
    docs = run_rag(copy, "docs")
    assert docs.returncode == 0 and "f007.txt" in docs.stdout, docs.stderr


def test_garbled_chroma_database_is_one_line_naming_the_fix(copy: Settings) -> None:
    garble(copy.store_dir / "chroma" / "chroma.sqlite3")
    done = run_rag(copy, "ingest")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert str(copy.store_dir / "chroma") in lines[0] and "rag ingest" in lines[0]
    # The fix it names works.
    shutil.rmtree(copy.store_dir / "chroma")
    assert run_rag(copy, "ingest").returncode == 0
    assert_consistent(copy)


def test_manifest_rebuilt_from_the_store_embeds_nothing_again(copy: Settings) -> None:
    empty(copy.store_dir / "manifest.json")
    report = rag.ingest(settings=copy)
    assert report.embedded_chunks == 0
    assert report.total_files == FILES and report.added_files == 0
    assert_consistent(copy)


def test_manifest_unreadable_for_docs_is_rebuilt(copy: Settings) -> None:
    truncate(copy.store_dir / "manifest.json")
    status = rag.documents(copy)
    assert len(status.documents) == FILES
    assert json.loads((copy.store_dir / "manifest.json").read_text())["files"]


# -- unusable folders and full disks -----------------------------------------------------------


def test_store_folder_that_is_a_file_is_one_line(small: Settings) -> None:
    small.store_dir.write_text("not a folder")
    for command in ("ingest", "docs"):
        done = run_rag(small, command)
        assert done.returncode == 1, command
        assert done.stderr == (
            f"error: The store folder {small.store_dir} is a file, not a folder: move it away, "
            "or set RAG_STORE_DIR to a folder the index can live in.\n"
        ), command


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs -o size=64k tmpfs /mnt",
        ],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs a user namespace to mount a tmpfs")
def test_full_disk_is_one_line_and_loses_nothing(small: Settings, tmp_path: Path) -> None:
    mount = tmp_path / "disk"
    mount.mkdir()
    store = mount / "store"
    script = (
        f'mount -t tmpfs -o size=$SIZE tmpfs "{mount}" && '
        f'{sys.executable} -m rag ingest; echo "rc=$?"; '
        f"{sys.executable} -m rag docs | tail -1; "
        # Free space, then the same ingest ends consistent.
        f'mount -o remount,size=64m "{mount}" && {sys.executable} -m rag ingest && '
        f'{sys.executable} -c "{CHECK}" "{store}"'
    )
    env = env_for(small.with_(store_dir=store), SIZE="600k")
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = done.stdout.splitlines()
    assert "rc=1" in lines, done.stdout + done.stderr
    assert f"error: The disk holding {store}" in done.stderr
    assert "is full: free some space" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert lines[-1] == "consistent", done.stdout


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs a user namespace to mount a tmpfs")
def test_a_disk_out_of_inodes_is_named_and_loses_nothing(small: Settings, tmp_path: Path) -> None:
    """Review: a disk with bytes free but no inode left made SQLite say "unable to open
    database file", and the user was told to delete the store and rebuild it; at the edge it
    was told to free space. Now it says the disk can hold no more files, and the same ingest
    ends consistent once it can."""
    mount = tmp_path / "disk"
    mount.mkdir()
    store = mount / "store"
    script = (
        f'mount -t tmpfs -o size=64m,nr_inodes=12 tmpfs "{mount}" && '
        f'{sys.executable} -m rag ingest; echo "rc=$?"; '
        f'mount -o remount,nr_inodes=4096 "{mount}" && {sys.executable} -m rag ingest && '
        f'{sys.executable} -c "{CHECK}" "{store}"'
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env_for(small.with_(store_dir=store)),
        capture_output=True,
        text=True,
        timeout=240,
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"error: The disk holding {store}"), errors
    assert "can hold no more files (no free inodes" in errors[0]
    assert "delete" not in errors[0] and "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "rc=1" and lines[-1] == "consistent", done.stdout + done.stderr
    assert done.returncode == 0, done.stderr


def _can_mount_read_only() -> bool:
    if not shutil.which("unshare"):
        return False
    script = "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a user namespace to mount read-only")
def test_a_read_only_store_is_named_and_never_called_damaged(copy: Settings) -> None:
    """Attack review: a store on a read-only mount (or without write access) answered every
    command with `Cannot open the Chroma store ... (attempt to write a readonly database): if it
    is damaged, delete DIR`: advice that destroys a sound index. Now it says what is wrong."""
    store = copy.store_dir
    script = (
        f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" && '
        f"{sys.executable} -m rag ask 'What is in the documents?'; echo \"rc=$?\"; "
        f'{sys.executable} -m rag ingest; echo "rc=$?"'
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env_for(copy),
        capture_output=True,
        text=True,
        timeout=240,
    )
    where = store / "chroma"
    line = (
        f"error: The Chroma store at {where} is read-only for this user ({where} cannot be "
        "written, and Chroma writes even to answer): the index is not damaged, so do not delete "
        f"it; give this user write access to {where} and its files, or set RAG_STORE_DIR to a "
        "folder it can write."
    )
    assert done.stdout.splitlines() == ["rc=1", "rc=1"], done.stdout + done.stderr
    assert [e for e in done.stderr.splitlines() if e.startswith("error")] == [line, line]
    assert "Traceback" not in done.stderr
    before = index_state(copy)
    again = run_rag(copy, "ingest")  # writable again: the same index, sound, nothing to redo
    assert again.returncode == 0 and " 0 embedded;" in again.stdout, again.stdout + again.stderr
    assert index_state(copy) == before
    assert_consistent(copy)


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a user namespace to mount read-only")
def test_a_read_only_model_cache_is_one_line_naming_the_setting(
    small: Settings, tmp_path: Path
) -> None:
    """Attack review: a read-only home (the default RAG_CACHE_DIR is ~/.cache/rag-offline)
    without the model prepared yet ended every command with `unexpected OSError: [Errno 30]
    Read-only file system`."""
    cache = tmp_path / "cache"
    cache.mkdir()
    script = (
        f'mount --bind "{cache}" "{cache}" && mount -o remount,bind,ro "{cache}" && '
        f"{sys.executable} -m rag ingest"
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=env_for(small, RAG_CACHE_DIR=str(cache)),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"error: The embedding model cannot be prepared in RAG_CACHE_DIR={cache} (Read-only "
        "file system; it needs about 160 MB once): set RAG_CACHE_DIR to a folder you can "
        "write, with room."
    )


CHECK = (
    "import sys; from pathlib import Path; from tests.test_faults_store import index_state; "
    "from rag.config import Settings; "
    "s = Settings(store_dir=Path(sys.argv[1])); a, b, c = index_state(s); "
    "print('consistent' if a == b == c and a else 'inconsistent')"
)


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    from rag import api

    with api._engines_lock:
        engines = list(api._engines.values())
        api._engines.clear()
    for eng in engines:
        eng.close()
