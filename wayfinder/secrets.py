"""Secret parameter values (passwords) as they travel through workflow history: encrypted.

A rerun's parameters are its workflow input, and workflow input is history, readable by anyone
who can read the namespace. So the client encrypts each secret value with a Fernet key that the
clients and workers share, and only the activity that types the value decrypts it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from wayfinder.errors import WayfinderError
from wayfinder.settings import Settings

KEY_FILE = "secret.key"


class SecretKeyError(WayfinderError):
    """A secret parameter cannot be decrypted: the worker holds another key than the client."""


def secret_key(settings: Settings) -> bytes:
    """WAYFINDER_SECRET_KEY, else the key kept under the home directory (made on first use)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.home / KEY_FILE
    if not path.exists():
        _write_new_key(path)
    return path.read_bytes().strip()


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once agree on the first key written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(Fernet.generate_key())


class SecretBox:
    """Encrypts and decrypts secret parameter values with the deployment's key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise SecretKeyError(
                f"WAYFINDER_SECRET_KEY is not a Fernet key ({exc}); make one with: python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        return cls(secret_key(settings))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str, name: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt secret parameter {name!r}: this worker's secret key is not the "
                "client's; give every client and worker the same WAYFINDER_SECRET_KEY"
            ) from None
