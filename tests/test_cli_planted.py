"""The ``rag`` command (rag/cli.py), in-process with exact output and exit codes: secrets hidden
from 6 characters on (the Chroma token too), the cut of a long error and of a long line at their
exact limits, ``-k`` passed on and checked, a password read whole, Ctrl-C's exit code 130, a
removal's fix advice, ``rag ui PATH`` that syncs nothing before the page starts and passes
its short options on, and a chat whose refused turns are not referred back to.

Tests written for deliberate bugs a review planted in rag/cli.py that the suite let through:

- a secret of exactly 6 characters left in the clear (``> 6`` for ``>= 6``);
- the Chroma token no longer hidden;
- an unexpected error cut at 501 characters, not 500;
- a line of exactly the limit cut (``<`` for ``<=``);
- ``-k`` not passed to the settings (so never checked, never used);
- the password read with ``strip()``: its own leading and trailing spaces dropped;
- Ctrl-C exiting 1, not 130;
- ``rag ui PATH`` syncing PATH before the page even without ``--replace``;
- a short option of `rag ui` (``-h``) taken for the folder (``startswith("--")``);
- a refused question added to `rag chat`'s history (the next "he" then refers to it).

(``rag users remove`` of an unknown name without "rag users list shows who is" was caught
already, by tests/test_auth.py; the test here says it alone.)
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import rag
from rag import users
from rag.cli import MASK, MAX_ERROR_CHARS, main, mask_secrets, one_line, print_answer
from rag.config import Settings
from rag.models import Answer


def test_secrets_of_six_characters_and_the_chroma_token_are_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k3y-6c")
    monkeypatch.setenv("RAG_CHROMA_TOKEN", "chroma-token-42")
    text = "401 for key k3y-6c and token chroma-token-42"
    assert mask_secrets(text) == f"401 for key {MASK} and token {MASK}"
    # Shorter ones are not hidden: they would hide ordinary words of the message.
    monkeypatch.setenv("OPENAI_API_KEY", "k3y-5")
    assert mask_secrets("key k3y-5") == "key k3y-5"


def test_an_unexpected_error_is_cut_at_its_limit() -> None:
    long = one_line(ValueError("x" * 1000))
    assert len(long) == MAX_ERROR_CHARS == 500
    assert long == "ValueError: " + "x" * (MAX_ERROR_CHARS - 13) + "…"
    exact = "x" * (MAX_ERROR_CHARS - len("ValueError: "))
    assert one_line(ValueError(exact)) == f"ValueError: {exact}"


def test_a_line_of_exactly_the_limit_is_printed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    claim = "w" * 160
    print_answer(Answer(question="q", text="An answer.", unsupported=[claim, claim + "w"]), False)
    assert capsys.readouterr().out.splitlines() == [
        "An answer.",
        "Removed (not supported by the documents):",
        f"  - {claim}",
        f"  - {'w' * 159}…",
    ]


def test_k_reaches_the_settings_and_is_checked(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    assert main(["ask", "Who is the president of Serbia?", "-k", "0"]) == 1
    assert capsys.readouterr().err == (
        "error: k must be a whole number from 1 to 50 (got 0): set RAG_K (or pass k=) to a "
        "value in range.\n"
    )
    assert not settings.store_dir.exists()  # refused before anything was opened


def test_a_password_from_stdin_keeps_its_spaces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.json"
    monkeypatch.setenv("RAG_USERS_FILE", str(path))
    monkeypatch.setattr("sys.stdin", io.StringIO("  two words  \r\n"))
    assert main(["users", "add", "alice", "--password-stdin"]) == 0
    assert capsys.readouterr().out == f"added alice (reader) in {path}\n"
    found = users.load_users(path)
    assert users.verify(found, "alice", "  two words  ") is not None
    assert users.verify(found, "alice", "two words") is None


def test_ctrl_c_exits_130(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Interrupted(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    monkeypatch.setenv("RAG_USERS_FILE", str(tmp_path / "users.json"))
    monkeypatch.setattr("sys.stdin", Interrupted())
    assert main(["users", "add", "alice", "--password-stdin"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert not (tmp_path / "users.json").exists()


def test_removing_an_unknown_user_says_how_to_list_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.json"
    monkeypatch.setenv("RAG_USERS_FILE", str(path))
    assert main(["users", "remove", "nobody"]) == 1
    assert capsys.readouterr().err == (
        f"error: 'nobody' is not in {path}: rag users list shows who is.\n"
    )


def test_rag_ui_path_syncs_nothing_before_the_page_without_replace(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page is served at once and indexes in the background: here it refuses to start
    (another address with no sign-in), and the index must still be empty."""
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    assert main(["ui", str(settings.docs_dir), "--host", "0.0.0.0"]) == 1
    assert capsys.readouterr().err.startswith("error: The page would serve 0.0.0.0 with no sign-in")
    assert rag.documents(settings).documents == []


def test_a_short_option_of_rag_ui_is_the_pages_not_a_folder() -> None:
    from rag.cli import split_ui_args

    assert split_ui_args(["-h"]) == (None, False, ["-h"])
    assert split_ui_args(["docs", "-v"]) == (Path("docs"), False, ["-v"])


def test_a_refused_question_is_not_what_the_next_one_refers_back_to(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """In `rag chat`, "he" after a refusal still means the president of the answered turn."""
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    lines = iter(
        [
            "Who is the president of Serbia?",
            "What is the capital of Australia?",
            "Who will he speak with?",
            "",
        ]
    )
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    answers = out.split("The documents do not contain an answer to this question")
    assert len(answers) == 2  # the second question alone is refused
    assert "Vučić" in answers[0] and "Putin" in answers[1]


def test_a_key_at_the_cut_of_an_unexpected_error_is_not_shown_in_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the probe: the line was cut first and masked after, so a key that straddled
    the 500-character cut was no longer whole, not recognised, and its first characters were
    printed."""
    key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    line = one_line(RuntimeError("x" * 480 + key + " more"))
    assert key[:5] not in line
    assert line == ("RuntimeError: " + "x" * 480 + MASK + " more")[: MAX_ERROR_CHARS - 1] + "…"
