"""Shared fixtures: every test gets its own store and documents folder, no API keys and none of
the user's RAG_* settings (the opt-ins of ``TEST_CONTROLS`` are read first)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.config import Settings
from tests.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_FILE = "000_f1c14fb623d5a113.txt"


def system_calls(code: str, args: list[str], calls: str, trace: Path) -> list[str]:
    """The system calls (``calls``, strace's ``trace=`` list) a fresh Python running ``code``
    with ``args`` makes, one line each as strace writes them to ``trace``."""
    subprocess.run(
        ["strace", "-f", "-e", f"trace={calls}", "-o", str(trace), sys.executable, "-c", code,
         *args],
        check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    return trace.read_text(encoding="utf-8").splitlines()


# The user's shell must not change what the tests measure (RAG_REFUSAL_THRESHOLD=0.9 would move
# every gate): every RAG_* and OPENAI_* variable goes for the whole session, session fixtures
# and subprocesses included, before anything reads the environment.
# The test-control variables are opt-ins, not settings: read here, before they go with the rest
# (``RAG_EVAL_CLAPNQ=1 make test`` runs the ClapNQ answer gate, ``RAG_TEST_BENCH=1`` the bench
# smoke run; tests read ``OPT_IN``).
USER_SETTINGS = ("RAG_", "OPENAI_")
TEST_CONTROLS = ("RAG_EVAL_CLAPNQ", "RAG_TEST_BENCH")
OPT_IN = {name: os.environ.get(name, "") not in ("", "0") for name in TEST_CONTROLS}
for _var in [name for name in os.environ if name.startswith(USER_SETTINGS)]:
    del os.environ[_var]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing touches the user's vectorstore/ or reaches a real LLM by accident."""
    for var in [name for name in os.environ if name.startswith(USER_SETTINGS)]:
        monkeypatch.delenv(var)  # set by an earlier import or test after the session started
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "env-store"))


@pytest.fixture(autouse=True)
def _restore_log_levels() -> Iterator[None]:
    """The CLI's main() configures logging; later tests must see the levels they started with."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(manager.loggerDict))]
    levels = [(logger, logger.level) for logger in loggers]
    handlers = list(logging.getLogger().handlers)
    yield
    for logger, level in levels:
        logger.setLevel(level)
    logging.getLogger().handlers[:] = handlers


@pytest.fixture
def sentence_citations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sentences cited without their short paragraphs (``PARAGRAPH_SENTENCES`` 1): for tests of
    how other rules pick, count and join sentences."""
    monkeypatch.setattr("rag.answering.PARAGRAPH_SENTENCES", 1)


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A private copy of the seed documents."""
    target = tmp_path / "docs"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, docs_dir: Path) -> Settings:
    """Settings pointing at a private documents folder and an empty private store."""
    return Settings(docs_dir=docs_dir, store_dir=tmp_path / "store")


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py); modules that
    start a page of their own name their page fixture ``server`` and override this one."""
    with OpenAIServer() as running:
        yield running


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A store with the seeds indexed once per test session (read-only use)."""
    base = tmp_path_factory.mktemp("seeded")
    shutil.copytree(SEEDS, base / "docs")
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store")
    rag.ingest(settings=settings)
    yield settings
