"""The conversation a browser keeps, sealed: only this server reads it, and only for the user
who saved it.

The page keeps each conversation in the browser's storage (``gr.BrowserState``) so that a reload
restores it. Gradio encrypts that storage with a secret it sends to every page, so anyone using
the browser next could read it: another user who signed in on a shared machine decrypted the
last user's questions with the secret from their own page. So the page stores only a sealed
copy: AES-GCM under a key that never leaves the server (``conversations.key`` in the store
folder, mode 0600, made at the first start), with the user's name as associated data. Another
user's copy, a changed one or one sealed under another key does not open, and shows nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rag.durable import write_atomic, write_new
from rag.errors import RagError

log = logging.getLogger(__name__)

KEY_FILE = "conversations.key"
FOR_THIS_RUN = (
    "a key for this run only: conversations kept by browsers are not restored after a restart"
)
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12


def _bound(user: str | None) -> bytes:
    """The associated data that ties a sealed copy to ``user`` (None: nobody signed in)."""
    return json.dumps({"user": user}).encode("utf-8")


def load_key(folder: Path) -> bytes:
    """This server's key, kept in ``folder``; made there the first time. Two servers starting
    on one folder get the same key (the file is published whole, once, by a link). A damaged
    key (any length but 32 bytes, an empty file included) is replaced. A folder that cannot be
    used gives a key for this run only (conversations kept by browsers are not restored after
    a restart), and a warning."""
    path = folder / KEY_FILE
    for _ in range(3):  # a file another server publishes or replaces meanwhile is read again
        try:
            key: bytes | None = path.read_bytes()
        except FileNotFoundError:
            key = None
        except OSError as exc:
            log.warning("cannot read %s (%s): %s", path, exc, FOR_THIS_RUN)
            return secrets.token_bytes(KEY_BYTES)
        if key is not None and len(key) == KEY_BYTES:
            return key
        if key is not None:
            log.warning("%s is damaged (%d bytes): a new key is made (conversations kept by "
                        "browsers before are not restored)", path, len(key))  # fmt: skip
        made = secrets.token_bytes(KEY_BYTES)
        try:  # over a damaged key, or by a link that fails if another server made one first
            (write_new if key is None else write_atomic)(path, made, 0o600)
        except FileExistsError:  # another server published one first: theirs is the key
            if path.is_symlink() and not path.exists():
                log.warning(
                    "%s is a link to a missing file: remove the link; %s", path, FOR_THIS_RUN
                )
                return secrets.token_bytes(KEY_BYTES)
            continue
        except (OSError, RagError) as exc:
            log.warning("cannot write %s (%s): %s", path, exc, FOR_THIS_RUN)
            return secrets.token_bytes(KEY_BYTES)
    log.warning("%s keeps changing: %s", path, FOR_THIS_RUN)
    return secrets.token_bytes(KEY_BYTES)


class Sealer:
    """Seals and opens the conversation a browser keeps (one key per server)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def for_store(cls, folder: Path) -> Sealer:
        return cls(load_key(folder))

    def seal(self, data: dict[str, Any], user: str | None) -> str:
        """``data`` as text only this server opens, and only for ``user``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps(data, ensure_ascii=False).encode("utf-8")
        sealed = self._aead.encrypt(nonce, plain, _bound(user))
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, value: Any, user: str | None) -> dict[str, Any] | None:
        """What ``seal(data, user)`` sealed, or None: another user's copy, a changed or
        damaged one, one of another key, or anything else the browser sends."""
        if not isinstance(value, str):
            return None
        try:
            raw = base64.urlsafe_b64decode(value.encode("ascii"))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound(user))
            data = json.loads(plain.decode("utf-8"))
        except (InvalidTag, ValueError, UnicodeError, binascii.Error):
            return None
        return data if isinstance(data, dict) else None
