"""An index belongs to one folder (issue 20 item 1, issue 18 item 1): no sync swaps it for
another folder (seeds/ least of all) unless asked to, and a lost manifest is rebuilt from the
store, never read as an empty index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import rag
from rag.cli import main
from rag.config import Settings
from rag.errors import DocumentsError


def town(i: int) -> str:
    return f"The mayor of Veloria{i:03d} is Mayor{i:03d} Castellan. Veloria{i:03d} has a river."


def make_folder(folder: Path, names: list[str], first: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names, first):
        (folder / name).write_text(town(i), encoding="utf-8")
    return folder


@pytest.fixture
def default_settings(tmp_path: Path) -> Settings:
    """The settings of a user who names no folder (docs_dir is seeds/): the index's own
    folder must win over it."""
    return Settings(store_dir=tmp_path / "store")


def sources(settings: Settings) -> list[str]:
    return [d.source for d in rag.documents(settings).documents]


def test_a_sync_without_a_folder_keeps_the_index_folder(
    default_settings: Settings, tmp_path: Path
) -> None:
    """D9 / issue 18: `rag ingest FOLDER`, then `rag ui` (a sync without a path)."""
    folder = make_folder(tmp_path / "mine", ["a.txt", "b.txt"])
    rag.ingest(folder, settings=default_settings)
    report = rag.ingest(settings=default_settings)  # what rag ui and rag ingest do
    assert (report.unchanged_files, report.removed_files, report.total_files) == (2, 0, 2)
    assert sources(default_settings) == ["a.txt", "b.txt"]
    source = rag.index_source(default_settings)
    assert source == rag.IndexSource(
        folder=folder.resolve(),
        recorded=str(folder.resolve()),
        writer=source.writer,
        files=2,
        shared=False,
        writable=True,
        where=str(default_settings.store_dir / "chroma"),
    )
    assert source.writer  # the host that synced it


def test_another_folder_needs_replace_and_says_what_goes(
    default_settings: Settings, tmp_path: Path
) -> None:
    first = make_folder(tmp_path / "first", ["a.txt", "b.txt", "c.txt"])
    other = make_folder(tmp_path / "other", ["b.txt", "z.txt"])
    rag.ingest(first, settings=default_settings)
    with pytest.raises(DocumentsError) as refused:
        rag.ingest(other, settings=default_settings)
    message = str(refused.value)
    assert f"holds 3 files from {first.resolve()}" in message
    assert "would remove 2 of them (a.txt, c.txt)" in message
    assert "--replace" in message and "RAG_COLLECTION" in message
    assert sources(default_settings) == ["a.txt", "b.txt", "c.txt"]
    # RAG_DOCS_DIR naming another folder is the same request.
    with pytest.raises(DocumentsError, match="--replace"):
        rag.ingest(settings=default_settings.with_(docs_dir=other))
    report = rag.ingest(other, settings=default_settings, replace=True)
    assert report.removed_files == 2
    assert sources(default_settings) == ["b.txt", "z.txt"]
    assert rag.index_source(default_settings).recorded == str(other.resolve())


def test_cli_ingest_replace(
    default_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(default_settings.store_dir))
    first = make_folder(tmp_path / "first", ["a.txt"])
    other = make_folder(tmp_path / "other", ["z.txt"], first=7)
    assert main(["ingest", str(first)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(other)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: The index on {default_settings.store_dir / 'chroma'} holds 1 ")
    assert err.count("\n") == 1
    assert main(["ingest"]) == 0  # no path: the index's folder, not seeds/
    assert capsys.readouterr().out.startswith("0 added, 0 updated, 0 removed, 0 renamed, 1 unc")
    assert main(["ingest", str(other), "--replace"]) == 0
    assert capsys.readouterr().out.startswith("1 added, 0 updated, 1 removed, ")
    assert sources(default_settings) == ["z.txt"]


def test_a_vanished_folder_is_named_not_swapped(default_settings: Settings, tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "gone", ["a.txt"])
    rag.ingest(folder, settings=default_settings)
    folder.rename(tmp_path / "moved")
    with pytest.raises(DocumentsError, match=r"was built from .*gone, which no longer exists"):
        rag.ingest(settings=default_settings)
    assert sources(default_settings) == ["a.txt"]
    assert not rag.answer("Who is the mayor of Veloria000?", settings=default_settings).refused


@pytest.mark.parametrize("damage", ["delete", "old-version", "empty-list"])
def test_a_lost_manifest_is_rebuilt_from_the_store(
    default_settings: Settings, tmp_path: Path, damage: str
) -> None:
    """D7 / D8: the manifest deleted (or of another version, or listing nothing) while Chroma
    holds the chunks: `rag docs` lists them and a question does not re-index seeds/."""
    folder = make_folder(tmp_path / "mine", [f"t{i}.txt" for i in range(5)])
    rag.ingest(folder, settings=default_settings)
    chunks = rag.documents(default_settings).total_chunks
    path = default_settings.store_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if damage == "delete":
        path.unlink()
    elif damage == "old-version":
        path.write_text(json.dumps({**data, "version": 0}), encoding="utf-8")
    else:
        path.write_text(json.dumps({**data, "files": {}}), encoding="utf-8")
    rag.api._engines.clear()  # a new process
    status = rag.documents(default_settings)
    assert [d.source for d in status.documents] == [f"t{i}.txt" for i in range(5)]
    assert status.total_chunks == chunks
    answer = rag.answer("Who is the mayor of Veloria003?", settings=default_settings)
    assert answer.citations and answer.citations[0].source == "t3.txt"
    assert sources(default_settings) == [f"t{i}.txt" for i in range(5)]
    assert rag.ingest(settings=default_settings).total_files == 5


def test_files_over_the_size_caps_are_skipped_with_the_reason(
    settings: Settings, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "caps", ["small.txt"])
    (folder / "big.txt").write_text("Big file. " * 30_000, encoding="utf-8")  # 0.29 MB
    (folder / "page.html").write_text("<p>x</p>" * 20_000, encoding="utf-8")  # 0.15 MB
    capped = settings.with_(max_file_mb=0.2, max_html_mb=0.1)
    report = rag.ingest(folder, settings=capped)
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons == {
        "big.txt": "0.3 MB is over the 0.2 MB limit for a file (raise RAG_MAX_FILE_MB to index it)",
        "page.html": "0.2 MB is over the 0.1 MB limit for an HTML file "
        "(raise RAG_MAX_HTML_MB to index it)",
    }
    assert sources(capped) == ["small.txt"]
    assert Settings.from_env().max_file_mb == 40.0


def test_progress_lines_when_not_a_terminal(
    default_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = make_folder(tmp_path / "mine", ["a.txt", "b.txt", "c.txt"])
    caplog.set_level("INFO", logger="rag")
    rag.ingest(folder, settings=default_settings)
    lines = [r.getMessage() for r in caplog.records if r.name == "rag"]
    assert "Reading 3/3 files" in lines
    assert any(line.startswith("Indexed ") and line.endswith("of 3/3 files") for line in lines)


def test_rag_ui_with_another_folder_needs_replace(
    default_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`rag ui OTHER` is refused before the page starts; `rag ui` hands the page the index's
    folder (RAG_DOCS_DIR), so that it syncs and saves uploads there."""
    import ui.app

    monkeypatch.setenv("RAG_STORE_DIR", str(default_settings.store_dir))
    first = make_folder(tmp_path / "first", ["a.txt"])
    other = make_folder(tmp_path / "other", ["z.txt"], first=7)
    rag.ingest(first, settings=default_settings)
    started: list[tuple[list[str], str | None]] = []
    monkeypatch.setattr(
        ui.app, "main", lambda argv: started.append((list(argv), os.environ.get("RAG_DOCS_DIR")))
    )
    assert main(["ui", str(other), "--port", "8123"]) == 1
    assert "--replace" in capsys.readouterr().err and started == []
    assert main(["ui", "--port", "8123"]) == 0
    assert started == [(["--port", "8123"], str(first.resolve()))]
    assert main(["ui", str(other), "--replace", "--no-sync"]) == 0
    assert started[-1] == (["--no-sync"], str(other))
    assert sources(default_settings) == ["z.txt"]


def test_a_second_collection_keeps_both_indexes_in_one_store_folder(
    default_settings: Settings, tmp_path: Path
) -> None:
    """The refusal's advice, followed: RAG_COLLECTION set to a new name keeps both indexes, each
    with its own manifest and BM25 index (a reviewer's reproduction: the second collection's
    manifest replaced the first's, and the next question "repaired" the first index into the
    second folder's documents)."""
    first = make_folder(tmp_path / "first", ["a.txt", "b.txt", "c.txt"])
    other = make_folder(tmp_path / "other", ["z.txt"], first=7)
    second = default_settings.with_(collection="second")
    rag.ingest(first, settings=default_settings)
    report = rag.ingest(other, settings=second)
    assert (report.added_files, report.removed_files) == (1, 0)
    assert sources(default_settings) == ["a.txt", "b.txt", "c.txt"]
    assert sources(second) == ["z.txt"]
    store = default_settings.store_dir
    assert second.own("manifest.json") == store / "manifest-second.json"
    assert second.own("bm25") == store / "bm25-second"
    assert default_settings.own("manifest.json") == store / "manifest.json"  # as before
    assert {p.name for p in store.iterdir()} >= {
        "manifest.json",
        "manifest-second.json",
        "bm25",
        "bm25-second",
    }
    # Each answers from its own documents, in every mode; neither is synced into the other.
    for settings, town_ in ((default_settings, 1), (second, 7)):
        for mode in ("bm25", "hybrid"):
            answer = rag.answer(
                f"Who is the mayor of Veloria{town_:03d}?", settings=settings.with_(mode=mode)
            )
            assert not answer.refused, (settings.collection, mode)
            assert f"Mayor{town_:03d}" in answer.text
    assert sources(default_settings) == ["a.txt", "b.txt", "c.txt"]
    assert sources(second) == ["z.txt"]
    assert rag.index_source(default_settings).recorded == str(first.resolve())
    assert rag.index_source(second).recorded == str(other.resolve())
