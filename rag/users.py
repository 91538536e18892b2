"""The users of a shared page: a JSON file of names, roles and salted bcrypt hashes.

``rag users add NAME --role editor`` writes it (rag/cli.py); the page reads it at each sign-in
and each change, so an added or removed user counts at once, without a restart. Roles:
``reader`` may ask; ``editor`` may also upload, delete and re-sync.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import bcrypt

from rag.durable import write_atomic
from rag.errors import ConfigError, StoreError

Role = Literal["reader", "editor"]
ROLES: tuple[Role, ...] = ("reader", "editor")
VERSION = 1
# bcrypt's work factor: about 0.2-0.7 s per sign-in on a small server, the library's default.
ROUNDS = 12
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer ones)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    hash: str  # bcrypt's "$2b$12$<salt><hash>"


def check_name(name: str) -> str:
    """``name`` if it can be a user name, else ``ConfigError`` saying what one looks like."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} cannot be a user name: use 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise ConfigError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")


def check_password(password: str) -> bytes:
    """The password as bcrypt takes it, or ``ConfigError`` when it is too short or too long."""
    raw = password.encode("utf-8")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"The password is too short: use at least {MIN_PASSWORD} characters.")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ConfigError(
            f"The password is {len(raw)} bytes long; bcrypt reads at most {MAX_PASSWORD_BYTES}: "
            "use a shorter one."
        )
    return raw


def load_users(path: Path) -> dict[str, User]:
    """The users in ``path`` by name; none when the file does not exist.

    Raises ``ConfigError`` when the file cannot be read or is not a users file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read the users file {path} ({exc}): fix its permissions, or set "
            "RAG_USERS_FILE to another file."
        ) from exc
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"not a version {VERSION} users file")
        users = {}
        for name, entry in data["users"].items():
            hashed = str(entry["hash"])
            if not hashed.startswith("$2"):
                raise ValueError(f"the hash of {name!r} is not a bcrypt hash")
            users[name] = User(check_name(name), check_role(entry["role"]), hashed)
        return users
    except (ValueError, KeyError, TypeError, AttributeError, ConfigError) as exc:
        raise ConfigError(
            f"The users file {path} is damaged ({exc}): restore it, or delete it and add the "
            "users again with rag users add NAME --role reader|editor."
        ) from exc


def save_users(path: Path, users: dict[str, User]) -> None:
    """Replace ``path`` atomically with ``users`` (readable by its owner only)."""
    data = {
        "version": VERSION,
        "users": {u.name: {"role": u.role, "hash": u.hash} for u in sorted(users.values(),
                                                                           key=lambda u: u.name)},
    }  # fmt: skip
    try:
        write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), mode=0o600)
        path.chmod(0o600)  # whatever the umask left
    except (StoreError, OSError) as exc:
        raise ConfigError(
            f"Cannot write the users file {path} ({exc}): set RAG_USERS_FILE to a file in a "
            "folder you can write."
        ) from exc


def add_user(
    path: Path, name: str, role: str, password: str, rounds: int = ROUNDS
) -> tuple[User, bool]:
    """Add ``name`` (or replace its role and password); the user and whether it is new."""
    user = User(
        check_name(name),
        check_role(role),
        bcrypt.hashpw(check_password(password), bcrypt.gensalt(rounds)).decode("ascii"),
    )
    users = load_users(path)
    new = name not in users
    users[name] = user
    save_users(path, users)
    return user, new


def remove_user(path: Path, name: str) -> bool:
    """Remove ``name``; whether it was there."""
    users = load_users(path)
    if users.pop(name, None) is None:
        return False
    save_users(path, users)
    return True


@functools.cache
def _dummy_hash() -> bytes:
    """Checked when a name is unknown, so that a wrong name takes as long as a wrong password."""
    return bcrypt.hashpw(b"not a password", bcrypt.gensalt(ROUNDS))


def verify(users: dict[str, User], name: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else None (an unknown name takes as long)."""
    user = users.get(name)
    raw = password.encode("utf-8")
    too_long = len(raw) > MAX_PASSWORD_BYTES  # never theirs: check_password refuses such ones
    try:
        matches = bcrypt.checkpw(
            raw[:MAX_PASSWORD_BYTES], user.hash.encode("ascii") if user else _dummy_hash()
        )
    except ValueError:  # a damaged hash
        return None
    if user is None or too_long or not matches:
        return None
    return user
