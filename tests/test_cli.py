"""The ``rag`` command: exact output and exit codes, in-process and as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.cli import main
from rag.config import Settings
from tests.conftest import SEED_FILE


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    return settings


def test_ingest_then_docs(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 added, 0 updated, 0 removed, 0 renamed, 0 unchanged files; ")
    assert main(["ingest"]) == 0
    assert capsys.readouterr().out.startswith(
        "0 added, 0 updated, 0 removed, 0 renamed, 1 unchanged"
    )
    assert main(["docs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    total = rag.documents(cli_env).total_chunks
    assert lines[0].startswith(f"{SEED_FILE}  {total:>6} chunks        3377 bytes  ")
    assert lines[-1].startswith(f"1 files, {total} chunks, last sync ")


def test_ask_json(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Who is the president of Serbia?", "--json", "-k", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"question", "text", "citations", "refused", "confidence"}
    assert data["refused"] is False
    first = data["citations"][0]
    assert set(first) >= {"index", "source", "text", "start", "end", "score", "page"}
    assert "Vučić" in first["text"]
    text = rag.document_text(first["source"], cli_env)
    assert text[first["start"] : first["end"]] == first["text"]


def test_ask_refusal_text(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is the capital of Australia?"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "The documents do not contain an answer to this question.",
        "Closest passages (not an answer):",
    ]
    # Each closest passage: its exact span of the document, on one line.
    text = rag.document_text(SEED_FILE, cli_env)
    lines = out[2:]
    assert 1 <= len(lines) <= 3
    for line in lines:
        match = re.fullmatch(rf"  - {re.escape(SEED_FILE)}, characters (\d+)-(\d+): (.+)", line)
        assert match, line
        start, end = int(match.group(1)), int(match.group(2))
        shown = " ".join(text[start:end].split())
        assert match.group(3) == (shown if len(shown) <= 160 else shown[:159] + "…")


def test_errors_print_one_line_and_exit_1(
    cli_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["ask", "   "]) == 1
    assert capsys.readouterr().err == "error: Ask a question: the question is empty.\n"
    assert main(["ingest", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: The documents folder {tmp_path / 'missing'} does not exist")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["ask", "x", "--mode", "fuzzy"])
    assert exc.value.code == 2


def test_chat_loop(cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    answers = iter(["Who is the president of Serbia?", "", "never read"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "Vučić" in out
    assert f"[1] {SEED_FILE}:" in out


def test_real_process_offline(tmp_path: Path) -> None:
    """The installed entry point, with no network at all when `unshare -rn` is available."""
    docs = tmp_path / "docs"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", docs)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS"))}
    env.update(RAG_DOCS_DIR=str(docs), RAG_STORE_DIR=str(tmp_path / "store"))
    rag_bin = str(Path(sys.executable).with_name("rag"))
    command = [rag_bin, "ask", "Who is the president of Serbia?", "--json"]
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"]).returncode == 0:
        command = ["unshare", "-rn", *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "Vučić" in data["citations"][0]["text"]
    assert "No index yet: indexing" in done.stderr
    refused = subprocess.run(
        [*command[:-2], "What is the capital of Australia?"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert refused.returncode == 0
    assert refused.stdout.splitlines()[:2] == [
        "The documents do not contain an answer to this question.",
        "Closest passages (not an answer):",
    ]
