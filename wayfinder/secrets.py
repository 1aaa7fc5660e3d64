"""Encryption of what must cross workflow history unreadable: 2FA codes (and secret values).

Fernet (AES-128-CBC + HMAC, from `cryptography`) with the key in `WAYFINDER_SECRET_KEY`; every
process that encrypts or decrypts (the client sending a code, the worker typing it) needs the
same key. Without the setting a key is made once under `<WAYFINDER_HOME>/secret.key` (mode
0600): enough when client and worker share a machine, as with `wayfinder dev`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from wayfinder.settings import Settings, get_settings

KEY_FILE = "secret.key"


class SecretKeyError(ValueError):
    """The key is not a Fernet key, or a token was made with another key."""


def _key_from_file(home: Path) -> bytes:
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except ValueError as exc:
        raise SecretKeyError(
            f"WAYFINDER_SECRET_KEY is not a Fernet key ({exc}); make one with python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None


def fernet(settings: Settings | None = None) -> Fernet:
    settings = settings or get_settings()
    key = settings.secret_key.encode() if settings.secret_key else _key_from_file(settings.home)
    return _fernet(key)


def encrypt(value: str, settings: Settings | None = None) -> str:
    return fernet(settings).encrypt(value.encode()).decode()


def decrypt(token: str, settings: Settings | None = None) -> str:
    try:
        return fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            "a secret could not be decrypted: it was encrypted with another key; give the "
            "client and every worker the same WAYFINDER_SECRET_KEY"
        ) from None
