"""The conversation a browser keeps, sealed with the server's key (ui/sealed.py)."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from ui.sealed import KEY_BYTES, KEY_FILE, Sealer, load_key

DATA: dict[str, Any] = {"version": 1, "messages": [{"role": "user", "content": "Qu'est-ce?"}]}


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "store"  # made if missing
    key = load_key(folder)
    path = folder / KEY_FILE
    assert len(key) == KEY_BYTES and path.read_bytes() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(folder) == key  # a restart reads it
    assert sorted(p.name for p in folder.iterdir()) == [KEY_FILE]  # nothing left aside


@pytest.mark.parametrize("damaged", [b"short", b"", b"x" * (KEY_BYTES + 1)])
def test_a_damaged_key_is_replaced_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damaged: bytes
) -> None:
    """An empty key file (a truncation, a copy onto a full disk) went round in circles until
    the stack overflowed, and the page did not start."""
    (tmp_path / KEY_FILE).write_bytes(damaged)
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        key = load_key(tmp_path)
    assert len(key) == KEY_BYTES and (tmp_path / KEY_FILE).read_bytes() == key
    assert f"{tmp_path / KEY_FILE} is damaged ({len(damaged)} bytes): a new key is made" in (
        caplog.text
    )
    assert load_key(tmp_path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


def test_a_key_replaced_by_another_server_meanwhile_is_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers replacing one damaged key: the one that loses reads the winner's back."""
    (tmp_path / KEY_FILE).write_bytes(b"short")
    theirs = os.urandom(KEY_BYTES)
    real_replace = os.replace

    def then_another_server(source: Any, target: Any) -> None:
        real_replace(source, target)
        Path(target).write_bytes(theirs)

    monkeypatch.setattr(os, "replace", then_another_server)
    assert load_key(tmp_path) == theirs


def test_a_server_that_starts_second_takes_the_first_ones_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pages on one store folder: the key published first is the key of both."""
    theirs = os.urandom(KEY_BYTES)
    real_link = os.link

    def another_server_first(source: Any, target: Any) -> None:
        Path(target).write_bytes(theirs)  # published between our read and our link
        real_link(source, target)  # raises FileExistsError, as a link onto a name does

    monkeypatch.setattr(os, "link", another_server_first)
    assert load_key(tmp_path) == theirs
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


def test_a_folder_that_cannot_hold_the_key_gives_one_for_this_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        first, second = load_key(tmp_path / "a-file"), load_key(tmp_path / "a-file")
    assert len(first) == len(second) == KEY_BYTES and first != second
    assert "a key for this run only" in caplog.text


def test_a_sealed_copy_opens_only_for_its_user_whole_and_under_its_key() -> None:
    sealer = Sealer(os.urandom(KEY_BYTES))
    copy = sealer.seal(DATA, "rita")
    assert sealer.open(copy, "rita") == DATA
    assert sealer.open(sealer.seal(DATA, None), None) == DATA
    for user in ("ed", None, "Rita", ""):
        assert sealer.open(copy, user) is None
    raw = bytearray(base64.urlsafe_b64decode(copy))
    for at in (0, 12, len(raw) - 1):  # the nonce, the text, the tag
        changed = bytearray(raw)
        changed[at] ^= 1
        assert sealer.open(base64.urlsafe_b64encode(bytes(changed)).decode(), "rita") is None
    assert Sealer(os.urandom(KEY_BYTES)).open(copy, "rita") is None
    for sent in (None, 7, DATA, "", "not base64!", "QQ", copy[:10]):
        assert sealer.open(sent, "rita") is None
    nonce = os.urandom(12)  # sealed right, but not a conversation
    listed = sealer._aead.encrypt(nonce, json.dumps([1]).encode(), b'{"user": "rita"}')
    assert sealer.open(base64.urlsafe_b64encode(nonce + listed).decode(), "rita") is None
