"""Settings (rag/config.py) from a real environment: each variable reaches its setting (text
ones without the spaces around them), keyword overrides win over the environment, the user's
own offline switches are kept, a bound that must be exceeded refuses the bound itself, the
default collection keeps the plain file names, and a file in the way of a folder is named.

Tests written for deliberate bugs a review planted in rag/config.py that the suite let
through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import OFFLINE_ENV, Settings, apply_offline_env, usable_folder
from rag.errors import ConfigError


def test_each_variable_reaches_its_setting_without_surrounding_spaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_MAX_HTML_MB", "2.5")
    monkeypatch.setenv("RAG_MODE", " dense ")
    monkeypatch.setenv("RAG_MODEL", " local-model\n")
    settings = Settings.from_env()
    assert (settings.max_html_mb, settings.mode, settings.model) == (2.5, "dense", "local-model")


def test_keyword_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_K", "7")
    monkeypatch.setenv("RAG_MODE", "bm25")
    assert Settings.from_env().k == 7
    settings = Settings.from_env(k=3, mode="dense")
    assert (settings.k, settings.mode) == (3, "dense")


def test_the_users_own_offline_switches_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the user lets the hub download on purpose
    apply_offline_env()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_a_bound_that_must_be_exceeded_refuses_itself() -> None:
    with pytest.raises(ConfigError, match=r"llm_timeout must be a number above 0 up to 3600"):
        Settings(llm_timeout=0.0)
    with pytest.raises(ConfigError, match=r"RAG_CHUNK_OVERLAP \(300\) must be smaller"):
        Settings(chunk_size=300, chunk_overlap=300)
    assert Settings(chunk_size=300, chunk_overlap=299).chunk_overlap == 299


def test_the_default_collection_keeps_the_plain_file_names(tmp_path: Path) -> None:
    plain = Settings(store_dir=tmp_path)
    assert (plain.own("manifest.json"), plain.own("bm25")) == (
        tmp_path / "manifest.json",
        tmp_path / "bm25",
    )
    team = plain.with_(collection="team")
    assert (team.own("manifest.json"), team.own("bm25")) == (
        tmp_path / "manifest-team.json",
        tmp_path / "bm25-team",
    )


def test_a_file_in_the_way_of_a_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        usable_folder(tmp_path / "store" / "sub", "RAG_STORE_DIR")
    assert str(caught.value) == (
        f"RAG_STORE_DIR={tmp_path / 'store' / 'sub'} cannot be a folder: {tmp_path / 'store'} "
        "is a file. Set RAG_STORE_DIR to a folder you can write."
    )
