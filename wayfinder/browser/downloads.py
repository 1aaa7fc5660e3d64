"""Keeping the files a run's pages download, within the run's limits.

Every download of every tab is saved under the run's download directory, with a name of its own
(a second `report.pdf` becomes `report-1.pdf`). A run may keep `max_count` files of at most
`max_bytes` each: a download past the count is cancelled, and so is one whose server announces
more than `max_bytes` (Content-Length of a HEAD request made with the page's cookies), before it
fills the disk. Playwright tells nothing of a download in progress (no response event, no size),
so one with no announced size (a chunked stream, a blob) is checked once written and deleted if
too large. Each is listed as skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Download
from playwright.async_api import Error as PlaywrightError

log = logging.getLogger(__name__)

SIZE_QUERY_MS = 10_000
"""How long the HEAD request that asks a download's size may take; past it, the download is
checked once written."""


@dataclass
class SavedDownload:
    """A file the run downloaded, saved under `path`."""

    path: Path
    url: str
    filename: str


@dataclass
class SkippedDownload:
    """A download that was not kept, and why."""

    url: str
    filename: str
    reason: str


@dataclass
class DownloadKeeper:
    """Saves one browser's downloads into `directory`."""

    directory: Path
    max_count: int = 20
    max_bytes: int = 100 * 1024 * 1024
    saved: list[SavedDownload] = field(default_factory=list)
    skipped: list[SkippedDownload] = field(default_factory=list)
    _started: int = 0
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    def on_download(self, download: Download) -> None:
        """The `download` event handler of a tab."""
        task = asyncio.create_task(self._keep(download))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _keep(self, download: Download) -> None:
        name = Path(download.suggested_filename).name or "download"
        if self._started >= self.max_count:
            await download.cancel()
            self._skip(
                download,
                name,
                f"the run already downloaded {self.max_count} files "
                f"(WAYFINDER_MAX_DOWNLOADS is {self.max_count})",
            )
            return
        self._started += 1
        announced = await _announced_size(download)
        if announced is not None and announced > self.max_bytes:
            await download.cancel()
            self._skip(
                download,
                name,
                f"its server announced {announced} bytes, more than WAYFINDER_MAX_DOWNLOAD_BYTES "
                f"({self.max_bytes}): cancelled as it started",
            )
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._free_name(name)
        try:
            await download.save_as(target)
        except PlaywrightError as exc:
            target.unlink(missing_ok=True)
            self._skip(download, name, f"the download failed: {exc.message.splitlines()[0]}")
            return
        size = target.stat().st_size
        if size > self.max_bytes:
            target.unlink()
            self._skip(
                download,
                name,
                f"{size} bytes is more than WAYFINDER_MAX_DOWNLOAD_BYTES ({self.max_bytes})",
            )
            return
        self.saved.append(SavedDownload(path=target, url=download.url, filename=target.name))

    def _free_name(self, name: str) -> Path:
        target = self.directory / name
        counter = 1
        while target.exists():
            target = self.directory / f"{Path(name).stem}-{counter}{Path(name).suffix}"
            counter += 1
        # Claimed at once: two downloads of one name finishing together must not share it.
        target.touch()
        return target

    def _skip(self, download: Download, name: str, reason: str) -> None:
        log.warning("download %s not kept: %s", name, reason)
        self.skipped.append(SkippedDownload(url=download.url, filename=name, reason=reason))

    async def settle(self) -> None:
        """Wait for downloads still being written, so none is lost at the end of the run."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


async def _announced_size(download: Download) -> int | None:
    """The size the download's server announces for it, if it does (HEAD with the context's
    cookies, headers and proxy); None when it does not say, or cannot be asked."""
    if not download.url.startswith(("http://", "https://")):
        return None  # a blob: or data: download has no server to ask
    try:
        response = await download.page.context.request.head(download.url, timeout=SIZE_QUERY_MS)
    except PlaywrightError as exc:
        log.info("no size announced for %s: %s", download.url, exc.message.splitlines()[0])
        return None
    try:
        length = response.headers.get("content-length", "") if response.ok else ""
    finally:
        await response.dispose()
    return int(length) if length.isdigit() else None
