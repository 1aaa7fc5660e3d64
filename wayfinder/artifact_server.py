"""A small read-only http server for the artifact directory (aiohttp).

`wayfinder artifacts` runs it for a deployment (whose workers then set
`WAYFINDER_ARTIFACT_BASE_URL` to where it is reached); `wayfinder dev` and the background host
run one beside their worker and set the base URL themselves.

Only files are served, never a directory listing, and only below the root: a key with `..`, an
absolute path, or a symlink that leads out of the root is a 404. Responses allow any origin, so
that the trace viewer at trace.playwright.dev can load a trace by its link.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from pathlib import Path

from aiohttp import web

from wayfinder.artifacts import ArtifactStore

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}


def _app(store: ArtifactStore) -> web.Application:
    async def serve(request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if any(part.startswith(".") for part in key.split("/")):
            raise web.HTTPNotFound()  # work files (a video's frames), never a finished artifact
        try:
            path = store.path(key)
            path.resolve().relative_to(store.root)  # a symlink out of the root is not served
        except ValueError:
            raise web.HTTPNotFound() from None
        if not path.is_file():
            raise web.HTTPNotFound()
        headers = {"Access-Control-Allow-Origin": "*"}
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type:
            headers["Content-Type"] = content_type
        # FileResponse answers Range requests, which video players use to seek.
        return web.FileResponse(path, headers=headers)

    app = web.Application()
    app.router.add_get("/{key:.+}", serve)
    return app


class ArtifactServer:
    """Serves one artifact directory on `host:port` while entered (`async with`)."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = ArtifactStore(root)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, *, fall_back_to_free_port: bool = False) -> None:
        """Listen on the port; with `fall_back_to_free_port`, on any free one if it is busy."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        runner = web.AppRunner(_app(self.store), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                if not fall_back_to_free_port or exc.errno != errno.EADDRINUSE:
                    raise
                log.warning("port %s is busy: serving artifacts on a free port", self.port)
                site = web.TCPSite(runner, self.host, 0)
                await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.port = runner.addresses[0][1]
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(RuntimeError):
                await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ArtifactServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
