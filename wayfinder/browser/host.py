"""BrowserHost: the live browsers of this process, one isolated context per run.

A live browser cannot travel through Temporal, so it stays in the process that launched it and
the run's later activities are routed back here. One Chromium process serves every run of the
host; each run gets its own `BrowserContext` (cookies, storage, tabs), which is cheap and isolates
runs from each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from playwright.async_api import (
    Browser,
    BrowserContext,
    Download,
    Page,
    Playwright,
    ViewportSize,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these Chromium keeps calling home, which on a closed network means a flood of
    # failing connections and slow starts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


class BrowserGoneError(LookupError):
    """This host has no browser for the run (the process restarted or the run was closed)."""


@dataclass
class SavedDownload:
    """A file the run downloaded, saved under `path`."""

    path: Path
    url: str
    filename: str


@dataclass
class BrowserRun:
    """One run's browser state on this host: its context and the tab it is looking at."""

    run_id: str
    context: BrowserContext
    page: Page
    download_dir: Path
    downloads: list[SavedDownload] = field(default_factory=list)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    crashed: bool = False

    @property
    def alive(self) -> bool:
        browser = self.context.browser
        return not self.crashed and browser is not None and browser.is_connected()

    def watch(self, page: Page) -> None:
        """Keep the tab's downloads, and notice if its renderer crashes."""
        page.on("download", self._on_download)
        page.on("crash", self._on_crash)

    def _on_crash(self, page: Page) -> None:
        log.warning("a tab of run %s crashed at %s", self.run_id, page.url)
        self.crashed = True

    def _on_download(self, download: Download) -> None:
        task = asyncio.create_task(self._save(download))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _save(self, download: Download) -> None:
        self.download_dir.mkdir(parents=True, exist_ok=True)
        name = Path(download.suggested_filename).name or "download"
        target = self.download_dir / name
        counter = 1
        while target.exists():
            target = self.download_dir / f"{target.stem}-{counter}{target.suffix}"
            counter += 1
        await download.save_as(target)
        self.downloads.append(SavedDownload(path=target, url=download.url, filename=target.name))

    async def settle_downloads(self) -> None:
        """Wait for downloads still being written, so none is lost at the end of the run."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def find_chromium(configured: str | None) -> str | None:
    """The Chromium to launch: the configured one, else the system's, else Playwright's own."""
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserHost:
    """Owns this process's Chromium and the runs' contexts in it."""

    def __init__(
        self, *, download_root: Path, chromium_path: str | None = None, headless: bool = True
    ) -> None:
        self._download_root = download_root
        self._chromium_path = find_chromium(chromium_path)
        self._headless = headless
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._runs: dict[str, BrowserRun] = {}
        self._lock = asyncio.Lock()

    @property
    def run_ids(self) -> list[str]:
        return list(self._runs)

    async def _ensure_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            log.info("launching Chromium %s", self._chromium_path or "(playwright's)")
            self._browser = await self._playwright.chromium.launch(
                executable_path=self._chromium_path, headless=self._headless, args=CHROMIUM_ARGS
            )
            return self._browser

    async def open(
        self,
        run_id: str,
        *,
        user_agent: str | None = None,
        extra_http_headers: dict[str, str] | None = None,
        storage_state: dict[str, Any] | None = None,
    ) -> BrowserRun:
        """The run's browser, opening a fresh context if it has none here (idempotent).

        A run whose browser is gone (Chromium crashed, a tab crashed) gets a fresh context, in
        a relaunched Chromium if need be; `storage_state` (cookies, localStorage) seeds it.
        """
        existing = self._runs.get(run_id)
        if existing is not None:
            if existing.alive:
                return existing
            await self._discard(run_id)
        browser = await self._ensure_browser()
        context = await browser.new_context(
            viewport=VIEWPORT,
            user_agent=user_agent,
            extra_http_headers=extra_http_headers,
            accept_downloads=True,
            storage_state=cast(Any, storage_state),
        )
        page = await context.new_page()
        run = BrowserRun(
            run_id=run_id, context=context, page=page, download_dir=self._download_root / run_id
        )
        run.watch(page)
        context.on("page", run.watch)
        self._runs[run_id] = run
        return run

    def get(self, run_id: str) -> BrowserRun:
        run = self._runs.get(run_id)
        if run is None:
            raise BrowserGoneError(f"no live browser for run {run_id} on this worker")
        if not run.alive:
            raise BrowserGoneError(
                f"the browser of run {run_id} crashed" if run.crashed
                else f"Chromium of run {run_id} is gone from this worker"
            )
        if run.page.is_closed():
            open_pages = run.context.pages
            if not open_pages:
                raise BrowserGoneError(f"every tab of run {run_id} has been closed")
            run.page = open_pages[-1]
        return run

    async def close(self, run_id: str) -> BrowserRun | None:
        """Close the run's context (all its tabs). Returns the run it closed, if any."""
        run = self._runs.pop(run_id, None)
        if run is not None:
            await run.settle_downloads()
            # A context whose Chromium died is closed already; there is nothing left to do.
            with contextlib.suppress(PlaywrightError):
                await run.context.close()
        return run

    async def _discard(self, run_id: str) -> None:
        """Forget a run whose browser died; close what is left of its context."""
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        with contextlib.suppress(PlaywrightError):
            await run.context.close()

    async def aclose(self) -> None:
        """Close every run's context and Chromium itself."""
        for run_id in list(self._runs):
            await self.close(run_id)
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
