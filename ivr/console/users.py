"""The console's staff logins: one small JSON file of names and password hashes, with the secret that
signs sessions, so every worker and host that reads the same file shares the same sessions.

Written only by `ivr console add-user` and `remove-user`, read by the app on each login and page
(a changed password or a removed user takes effect at once, with no restart). Passwords are kept
as werkzeug.security hashes (scrypt), never in clear.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from werkzeug.security import check_password_hash, generate_password_hash

#: A login name: letters, digits and . _ @ - (an e-mail address works).
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 12
#: A new file is readable by its group (the service's: chgrp ivr), never by others.
NEW_FILE_MODE = 0o640


@cache
def _dummy_hash() -> str:
    """What an unknown name's password is checked against, so that it takes as long as a known
    one's. Made on the first login, not at import: a scrypt hash costs 0.1 s, which every process
    that imports the line (each `ivr` command, each gunicorn master) would otherwise pay."""
    return generate_password_hash("not a password of anyone")


class UsersFileError(ValueError):
    """The users file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Users:
    """The logins and the session secret, as stored."""

    secret: str
    hashes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def check(self, name: str, password: str) -> bool:
        """Whether `password` is `name`'s, in about the same time whether or not the name exists."""
        stored = self.hashes.get(name)
        ok = check_password_hash(stored or _dummy_hash(), password)
        return ok and stored is not None

    def stamp(self, name: str) -> str | None:
        """A short digest of the user's password hash: a session remembers it, so a changed
        password or a removed user ends every session of that user. None: no such user."""
        stored = self.hashes.get(name)
        return hashlib.sha256(stored.encode()).hexdigest()[:16] if stored else None


def read(path: Path) -> Users:
    """The users file, checked. Raises UsersFileError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsersFileError(f"{path} does not exist: create it with `ivr console add-user NAME`") from None
    except (OSError, ValueError) as exc:
        raise UsersFileError(f"{path} cannot be read ({exc}): write it again with `ivr console add-user`") from None
    secret, hashes = (data.get("secret"), data.get("users")) if isinstance(data, dict) else (None, None)
    if not isinstance(secret, str) or len(secret) < 32 or not isinstance(hashes, dict):
        raise UsersFileError(f"{path} is not a console users file (written by `ivr console add-user`)")
    return Users(secret, MappingProxyType({str(k): str(v) for k, v in hashes.items()}))


def write(path: Path, users: Users) -> None:
    """Replace the file whole (another process reads the old file or the new one, never half),
    keeping an existing file's mode and owner."""
    path = Path(path)
    text = json.dumps({"secret": users.secret, "users": dict(sorted(users.hashes.items()))}, indent=2) + "\n"
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, stat.S_IMODE(old.st_mode) if old else NEW_FILE_MODE)
        if old and os.geteuid() == 0:
            os.chown(partial, old.st_uid, old.st_gid)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsersFileError(f"'{name}' cannot be a login name: use letters, digits and . _ @ - (up to 64)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsersFileError(f"a password needs at least {MIN_PASSWORD} characters: a few words make a good one")
    return password


def add_user(path: Path, name: str, password: str) -> bool:
    """Add a login, or set a new password for an existing one; True if the name was new. Creates
    the file, with a new random session secret, when it does not exist yet."""
    check_name(name)
    check_password(password)
    path = Path(path)
    users = read(path) if path.exists() else Users(secrets.token_hex(32))
    new = name not in users.hashes
    hashes = {**users.hashes, name: generate_password_hash(password)}
    write(path, Users(users.secret, MappingProxyType(hashes)))
    return new


def remove_user(path: Path, name: str) -> bool:
    """Remove a login (its sessions end at their next page); False if there was none."""
    users = read(path)
    if name not in users.hashes:
        return False
    hashes = {k: v for k, v in users.hashes.items() if k != name}
    write(path, Users(users.secret, MappingProxyType(hashes)))
    return True
