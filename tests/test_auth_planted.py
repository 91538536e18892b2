"""The page's sign-in and roles (ui/auth.py) on real settings, users file, audit log and
starlette requests: a host name in any case, a proxy's network written with its host bits,
an over-long user name from a proxy, the cap on the file names an audit line keeps, and what a
signed-in user the users file no longer lists may do.

Tests written for deliberate bugs a review planted in ui/auth.py that the suite let through:

- ``is_loopback`` without ``.lower()`` ("LOCALHOST" then needs sign-in to start);
- ``ip_network(...)`` without ``strict=False`` ("10.0.0.7/24", as an address and its
  network are often written, refused at start);
- the 256-character cap on a proxy's user name dropped;
- an audit line's file names no longer capped at ``MAX_LOGGED_NAMES``;
- the unknown-user rule of a signing-in proxy applied to password sign-in too (a user removed
  from the file, still signed in, then a reader rather than nobody);
- the reader's refusal without its fix ("an administrator can change the role with rag users
  add").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request

from rag import audit
from rag.config import Settings
from rag.users import add_user, remove_user
from ui.auth import MAX_LOGGED_NAMES, Access, is_loopback

FAST = 4  # bcrypt rounds for the tests' users


def request(client: str, headers: dict[str, str]) -> Any:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw, "client": (client, 1)})


def test_host_names_are_read_in_any_case(tmp_path: Path) -> None:
    assert all(map(is_loopback, ["LOCALHOST", "LocalHost", " localhost "]))
    Access.from_settings(Settings(store_dir=tmp_path / "store")).check_host("LOCALHOST")


def test_a_proxy_network_written_with_its_host_bits_is_that_network(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "s", trusted_proxies=("10.0.0.7/24",))
    access = Access.from_settings(settings)
    assert access.trusted("10.0.0.200") and not access.trusted("10.0.1.1")


def test_a_proxys_user_name_over_256_characters_is_nobody(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "s", proxy_user_header="X-Forwarded-User")
    access = Access.from_settings(settings)
    assert access.proxy_user(request("127.0.0.1", {"X-Forwarded-User": "a" * 256})) == "a" * 256
    assert access.proxy_user(request("127.0.0.1", {"X-Forwarded-User": "a" * 257})) is None


def test_an_audit_line_keeps_the_first_file_names_only(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "s")
    access = Access.from_settings(settings)  # open: everyone is an editor
    names = [f"file-{i:03d}.txt" for i in range(MAX_LOGGED_NAMES + 10)]
    access.record("ed", "delete", names, "ok", "deleted", "127.0.0.1")
    (line,) = audit.read(settings.audit_path)
    assert MAX_LOGGED_NAMES == 50
    assert line["files"] == names[:50]
    assert (line["user"], line["role"], line["result"]) == ("ed", "editor", "ok")


def test_a_removed_user_still_signed_in_has_no_role(tmp_path: Path) -> None:
    """README: a removed user's open session can still ask, but no longer change anything."""
    settings = Settings(store_dir=tmp_path / "s")
    add_user(settings.users_path, "rita", "reader", "reader-pass-1", rounds=FAST)
    add_user(settings.users_path, "ed", "editor", "editor-pass-1", rounds=FAST)
    access = Access.from_settings(settings)
    assert access.mode == "password"
    assert access.refusal("rita") == (
        "rita is a reader: only editors may upload, delete or re-sync documents (an "
        "administrator can change the role with rag users add)."
    )
    assert access.refusal("ed") is None
    remove_user(settings.users_path, "ed")
    assert access.role("ed") is None
    assert access.refusal("ed") == "ed has no role on this page: ask an administrator to add them."
