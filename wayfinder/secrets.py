"""What must cross workflow history unreadable: secret parameter values, 2FA codes, proxy
credentials.

Workflow input and activity results are history, readable by anyone who can read the
namespace. So the sender encrypts each secret with a Fernet key (AES-128-CBC + HMAC, from
`cryptography`) that the clients and workers share, and only the activity that uses the value
decrypts it. The key is `WAYFINDER_SECRET_KEY`; without it one is made once under
`<WAYFINDER_HOME>/secret.key` (mode 0600), enough when client and worker share a machine, as
with `wayfinder dev`.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from wayfinder.errors import WayfinderError
from wayfinder.settings import Settings

KEY_FILE = "secret.key"


class SecretKeyError(WayfinderError):
    """A secret cannot be decrypted (this process holds another key than the sender's), or the
    key is not a Fernet key."""


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
    """Encrypts and decrypts secrets with the deployment's key."""

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
        """Decrypt `token`; `name` says what it is in the error ("secret parameter 'password'")."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt {name}: it was encrypted with another key than this process's; "
                "give every client and worker the same WAYFINDER_SECRET_KEY"
            ) from None
