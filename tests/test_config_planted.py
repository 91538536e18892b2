"""Settings (rag/config.py) from a real environment: each variable reaches its setting (text ones
without the spaces around them), keyword overrides win over the environment, the user's own
offline switches are kept, a bound that must be exceeded refuses the bound itself, the default
collection keeps the plain file names, and a file in the way of a folder is named. Each range
includes its upper bound, and a whole-number setting refuses fractions and booleans, k=0 and a
collection name with '..' are refused, empty entries of RAG_TRUSTED_PROXIES are dropped, and a
folder checked without create is not made.

Tests written for deliberate bugs a review planted in rag/config.py that the suite let through."""

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


def test_each_numeric_setting_accepts_its_upper_bound() -> None:
    """A setting at the top of its documented range (RAG_K=50) is accepted, not refused."""
    assert Settings(k=50).k == 50
    assert Settings().resolve_k(50) == 50
    assert Settings(chat_concurrency=64).chat_concurrency == 64
    with pytest.raises(ConfigError, match="k must be a whole number from 1 to 50"):
        Settings(k=51)


def test_a_whole_number_setting_refuses_fractions_and_booleans() -> None:
    """RAG_K and its kind take whole numbers only: 2.5 or True (the Python API) is refused."""
    with pytest.raises(ConfigError, match="k must be a whole number"):
        Settings(k=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="k must be a whole number"):
        Settings(k=True)
    with pytest.raises(ConfigError, match="llm_timeout must be a number above 0"):
        Settings(llm_timeout=True)


def test_k_of_zero_is_refused() -> None:
    """RAG_K=0 (no passages to answer from) is refused with the range, not accepted."""
    with pytest.raises(ConfigError, match="k must be a whole number from 1 to 50"):
        Settings(k=0)
    with pytest.raises(ConfigError, match="k must be a whole number from 1 to 50"):
        Settings().resolve_k(0)


def test_a_collection_name_with_two_dots_in_a_row_is_refused() -> None:
    """RAG_COLLECTION="team..docs" (which Chroma refuses) is refused up front, naming the rule."""
    assert Settings(collection="team.docs").collection == "team.docs"
    with pytest.raises(ConfigError, match=r"RAG_COLLECTION='team\.\.docs'"):
        Settings(collection="team..docs")


def test_empty_entries_of_the_trusted_proxies_are_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RAG_TRUSTED_PROXIES="10.0.0.1, ,10.0.0.2," trusts those two addresses and nothing else."""
    monkeypatch.setenv("RAG_TRUSTED_PROXIES", "10.0.0.1, ,10.0.0.2,")
    assert Settings.from_env().trusted_proxies == ("10.0.0.1", "10.0.0.2")


def test_a_folder_checked_without_create_is_not_made(tmp_path: Path) -> None:
    """Checking a setting's folder with create=False leaves the disk as it was."""
    wanted = tmp_path / "store" / "inner"
    usable_folder(wanted, "RAG_STORE_DIR", create=False)
    assert not (tmp_path / "store").exists()
    usable_folder(wanted, "RAG_STORE_DIR")
    assert wanted.is_dir()
