"""The artifact store: screenshots, page snapshots, downloads, recordings and traces.

Only keys travel through Temporal; the bytes live here, in a local directory on the worker.
Links to them are http(s) URLs under `base_url` when the directory is served (by
`wayfinder artifacts`, `wayfinder dev`, or any web server pointed at it), else `file://` paths
that only work on the worker's own machine.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from urllib.parse import quote


class ArtifactStore:
    """Files under one root, addressed by relative POSIX keys like `tsk_x/step-001.jpg`."""

    def __init__(self, root: Path, base_url: str | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.base_url = base_url.rstrip("/") if base_url else None

    def path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if not key or relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"artifact key must be relative and stay in the store: {key!r}")
        return self.root.joinpath(*relative.parts)

    def key_of(self, path: Path) -> str:
        """The key of a file under the root (raises ValueError for one outside it)."""
        return path.resolve().relative_to(self.root).as_posix()

    def put(self, key: str, data: bytes | str) -> str:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
        return key

    def url(self, key: str) -> str:
        path = self.path(key)
        if self.base_url is None:
            return path.as_uri()
        return f"{self.base_url}/{quote(PurePosixPath(key).as_posix())}"

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.path(key).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()
