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
from rag import Answer, Citation
from rag.cli import main, print_answer
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
        "The documents do not contain an answer to this question: they never mention “Australia”.",
        "Closest passages (not an answer):",
    ]
    # Each closest passage: its sentence of the document, on one line.
    text = " ".join(rag.document_text(SEED_FILE, cli_env).split())
    lines = out[2:]
    assert 1 <= len(lines) <= 3
    for line in lines:
        match = re.fullmatch(rf"  - {re.escape(SEED_FILE)}: (.+)", line)
        assert match, line
        assert match.group(1).rstrip("…") in text


def test_ask_quotes_each_cited_passage(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18 item 8: under the answer, each citation's file (and page) and its sentence."""
    assert main(["ask", "Who is the president of Serbia?"]) == 0
    out = capsys.readouterr().out.splitlines()
    answer = rag.answer("Who is the president of Serbia?", settings=cli_env)
    assert out[0] == answer.text
    quotes = [" ".join(c.text.split()) for c in answer.citations]
    assert len(out) == 1 + len(quotes) and "Vučić" in out[1]
    for line, c, q in zip(out[1:], answer.citations, quotes, strict=False):
        match = re.fullmatch(rf'  \[{c.index}\] {re.escape(c.source)}: "(.+)"', line)
        assert match, line
        quoted = match.group(1)
        if len(q) <= 400:
            assert quoted == q
        else:  # cut after a whole word (the answer above holds it whole)
            kept = quoted.removesuffix("…")
            assert quoted.endswith("…") and len(quoted) <= 400 and q.startswith(kept)
            assert q[len(kept)] == " " and len(kept) > 200


def test_a_long_quote_is_cut_after_a_whole_word(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paragraph cited whole is often past 400 characters: the terminal's quote was cut
    inside a word ("... the defa…"); it now ends after a whole word, and a closest passage's
    too. A quote of one long token (a URL, code) is still cut inside it."""
    answer = Answer(
        question="q",
        text="An answer. [1]",
        citations=[
            Citation(1, "a.txt", "Harbours " * 50, 0, 450, 0.9),
            Citation(2, "b.txt", "h" * 450, 0, 450, 0.9),
        ],
    )
    print_answer(answer, False)
    out = capsys.readouterr().out.splitlines()
    assert out[1] == '  [1] a.txt: "' + "Harbours " * 43 + 'Harbours…"'
    assert out[2] == '  [2] b.txt: "' + "h" * 399 + '…"'
    print_answer(Answer(question="q", text="", refused=True, closest=answer.citations), False)
    closest = capsys.readouterr().out.splitlines()[-2]
    assert closest == "  - a.txt: " + "Harbours " * 16 + "Harbours…"


def test_control_characters_never_reach_the_terminal(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """B11: ANSI escapes and BEL inside a document are stripped from what the CLI prints."""
    (cli_env.docs_dir / "evil.txt").write_text(
        "The \x1b[2J\x1b[31mquorvex\x1b[0m reactor was designed by Ilsa Trunmoor.\x07 "
        "Its \x1b]0;pwned\x07title is quiet.\x9b",
        encoding="utf-8",
    )
    assert main(["ask", "Who designed the quorvex reactor?"]) == 0
    out = capsys.readouterr().out
    assert "Trunmoor" in out
    assert not any(ch in out for ch in "\x1b\x07\x9b"), repr(out)
    assert "quorvex reactor was designed by Ilsa Trunmoor." in out
    assert main(["ask", "Who designed the quorvex reactor?", "--json"]) == 0
    assert "\x1b" not in capsys.readouterr().out  # JSON escapes them: \u001b


def test_a_closed_pipe_ends_quietly(cli_env: Settings) -> None:
    """Issue 18: `rag docs | head -1` printed "error: unexpected BrokenPipeError"."""
    for i in range(400):
        (cli_env.docs_dir / f"n{i:03d}.txt").write_text(f"Note {i} is short.", encoding="utf-8")
    rag.ingest(settings=cli_env)
    env = dict(os.environ, RAG_DOCS_DIR=str(cli_env.docs_dir), RAG_STORE_DIR=str(cli_env.store_dir))
    done = subprocess.run(
        f"{sys.executable} -m rag docs | head -1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.startswith(SEED_FILE)
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_ui_arguments_split_from_the_page_options() -> None:
    from rag.cli import split_ui_args

    assert split_ui_args(["--port", "8001", "docs", "--replace", "--host", "0.0.0.0"]) == (
        Path("docs"),
        True,
        ["--port", "8001", "--host", "0.0.0.0"],
    )
    assert split_ui_args(["--no-sync"]) == (None, False, ["--no-sync"])


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
        "The documents do not contain an answer to this question: they never mention “Australia”.",
        "Closest passages (not an answer):",
    ]
