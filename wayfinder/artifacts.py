"""The artifact store: screenshots, page snapshots and downloads, kept out of workflow history.

Only keys travel through Temporal; the bytes live here. The store is a local directory for now,
addressed by `file://` URLs, behind an interface small enough to put object storage behind later.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath


class ArtifactStore:
    """Files under one root, addressed by relative POSIX keys like `tsk_x/step-001.jpg`."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()

    def path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"artifact key must be relative and stay in the store: {key!r}")
        return self.root.joinpath(*relative.parts)

    def put(self, key: str, data: bytes | str) -> str:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
        return key

    def url(self, key: str) -> str:
        return self.path(key).as_uri()

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.path(key).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()
