"""The conversation a browser keeps, sealed with the server's key (ui/sealed.py)."""

from __future__ import annotations

import base64
import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rag.durable import disk_full
from ui.sealed import FOR_THIS_RUN, KEY_BYTES, KEY_FILE, Sealer, load_key

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
    assert caplog.messages == [
        f"{tmp_path / KEY_FILE} is damaged ({len(damaged)} bytes): a new key is made "
        "(conversations kept by browsers before are not restored)"
    ]
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
    path = tmp_path / "a-file" / KEY_FILE
    with pytest.raises(NotADirectoryError) as unreadable:
        path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        first, second = load_key(tmp_path / "a-file"), load_key(tmp_path / "a-file")
    assert len(first) == len(second) == KEY_BYTES and first != second
    assert caplog.messages == [f"cannot read {path} ({unreadable.value}): {FOR_THIS_RUN}"] * 2


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


@pytest.mark.parametrize("key", [None, b"short"])
def test_a_key_the_disk_has_no_room_for_gives_one_for_this_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    key: bytes | None,
) -> None:
    """The first key published by a link, a damaged one replaced by a rename: a full disk at
    either gives a key for this run only, says why, and leaves the folder as it was."""
    path = tmp_path / KEY_FILE
    if key is not None:
        path.write_bytes(key)
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def no_room(source: Any, target: Any) -> None:
        raise full

    monkeypatch.setattr(os, "link" if key is None else "replace", no_room)
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        first, second = load_key(tmp_path), load_key(tmp_path)
    assert len(first) == len(second) == KEY_BYTES and first != second
    why = full if key is None else disk_full(tmp_path)  # write_atomic says it as a StoreError
    written = f"cannot write {path} ({why}): {FOR_THIS_RUN}"
    assert [m for m in caplog.messages if m.startswith("cannot write")] == [written] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if key is None else [KEY_FILE])
    assert key is None or path.read_bytes() == key


def test_a_key_name_that_is_a_link_to_nothing_is_said_and_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A name that reads as missing but cannot be linked to (a link to nowhere): one try, then
    a key for this run only and a warning that says what to remove, the link left as it was."""
    path = tmp_path / KEY_FILE
    path.symlink_to(tmp_path / "gone" / KEY_FILE)
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        key = load_key(tmp_path)
    assert len(key) == KEY_BYTES
    assert caplog.messages == [
        f"{path} is a link to a missing file: remove the link; {FOR_THIS_RUN}"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE] and path.is_symlink()


def test_a_key_published_under_the_writer_again_and_again_is_tried_three_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another server publishes a key each time this one reads none and then removes it (a
    race without end): three tries, then a key for this run only, said."""
    path = tmp_path / KEY_FILE
    tries = []

    def beaten(source: Any, target: Any) -> None:
        tries.append(target)
        raise FileExistsError(target)

    monkeypatch.setattr(os, "link", beaten)
    with caplog.at_level(logging.WARNING, logger="ui.sealed"):
        key = load_key(tmp_path)
    assert len(key) == KEY_BYTES and tries == [path] * 3
    assert caplog.messages == [f"{path} keeps changing: {FOR_THIS_RUN}"]


def test_a_store_folders_sealer_opens_its_copies_after_a_restart(tmp_path: Path) -> None:
    copy = Sealer.for_store(tmp_path / "store").seal(DATA, "rita")
    assert Sealer.for_store(tmp_path / "store").open(copy, "rita") == DATA  # the next start
    assert Sealer.for_store(tmp_path / "other").open(copy, "rita") is None


def test_a_sealed_copy_is_the_nonce_then_the_utf8_conversation_bound_to_its_user() -> None:
    """The format browsers keep across restarts and upgrades. The text is UTF-8, not JSON's
    \\u escapes: a conversation in Greek or Chinese would take two or three times the room in
    the browser's storage."""
    key = os.urandom(KEY_BYTES)
    data = {"version": 1, "messages": [{"role": "user", "content": "Τι είναι; 这是什么？"}]}
    raw = base64.urlsafe_b64decode(Sealer(key).seal(data, "rita"))
    plain = AESGCM(key).decrypt(raw[:12], raw[12:], b'{"user": "rita"}')
    assert plain == json.dumps(data, ensure_ascii=False).encode("utf-8")
