"""The users file (rag/users.py) in a temporary folder: its mode whatever the umask, and an
unknown name costing a bcrypt check as a known one does.

Tests written for deliberate bugs a review planted in rag/users.py that the suite let through:

- ``path.chmod(0o600)`` dropped after the write: under a umask that takes the owner's write
  bit (0o277) the users file was left 0o400, not the 0o600 the module promises;
- ``verify`` returning at once for a name the file does not list (no check against the dummy
  hash): a wrong name answered in microseconds and a wrong password in a bcrypt's time, so
  timing the sign-in told which user names exist;
- ``load_users`` taking each name as written (``check_name`` dropped): a hand-edited file
  with a name no ``rag users add`` accepts ("bad name", "../ed") loaded as a user.

Judged equivalent: ``verify`` setting ``matches = False`` on a damaged hash instead of
returning None: the next line returns None for any non-match.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.users import add_user, load_users, verify


def test_the_users_file_is_0600_whatever_the_umask_left(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    umask = os.umask(0o277)
    try:
        add_user(path, "rita", "reader", "reader-pass-1", rounds=4)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_unknown_name_costs_a_bcrypt_check_too(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "rita", "reader", "reader-pass-1", rounds=4)
    users = load_users(path)
    verify(users, "nobody", "reader-pass-1")  # the dummy hash is made once, at the first use
    started = time.perf_counter()
    assert verify(users, "nobody", "reader-pass-1") is None
    # 2**12 bcrypt rounds take some 0.2 s on a small server, never under 20 ms.
    assert time.perf_counter() - started > 0.02


@pytest.mark.parametrize("name", ["bad name", "../ed", "-rita"])
def test_a_users_file_with_a_name_add_refuses_is_damaged(tmp_path: Path, name: str) -> None:
    path = tmp_path / "users.json"
    add_user(path, "rita", "reader", "reader-pass-1", rounds=4)
    hashed = load_users(path)["rita"].hash
    path.write_text(
        f'{{"version": 1, "users": {{"{name}": {{"role": "editor", "hash": "{hashed}"}}}}}}'
    )
    with pytest.raises(ConfigError, match=r"is damaged .*cannot be a user name"):
        load_users(path)
