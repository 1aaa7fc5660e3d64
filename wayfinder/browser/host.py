"""BrowserHost: the live browsers of this process, one isolated context per run.

A live browser cannot travel through Temporal, so it stays in the process that launched it and
the run's later activities are routed back here. One Chromium process serves every run of the
host; each run gets its own `BrowserContext` (cookies, storage, tabs), which is cheap and isolates
runs from each other.

A run given a `browser_address` works in a browser someone else started instead: the host
connects to it over CDP once per address and keeps the connection for later runs. Wayfinder
opens its own context there and closes only that context, never the browser; only when the
browser refuses a new context does the run use its default context (then it closes only the
tabs it opened, and cookies are shared with whatever else uses that browser).

The host also keeps the count behind `WAYFINDER_MAX_CONCURRENT_RUNS`: at most `max_contexts`
contexts are live at once. A launch first *reserves* room (`reserve_launch`, awaited by the
launch worker's slot supplier before it polls Temporal), so a launch is only taken from the queue
when its context is sure to fit; the reservation is turned into the context by
`open(..., reserved=True)` and ends with `launch_done` once the launch activity is over.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

CONNECT_TIMEOUT_MS = 10_000
"""How long to try reaching a `browser_address` before the launch fails (and is retried)."""


class BrowserGoneError(LookupError):
    """This host has no browser for the run (the process restarted or the run was closed)."""


class BrowserUnreachableError(ConnectionError):
    """The browser at a run's `browser_address` could not be reached over CDP."""


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
    owns_context: bool = True
    """False when the run borrowed a remote browser's default context: then only its tabs close."""
    downloads: list[SavedDownload] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    """Every tab the run opened, in order."""
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on("download", self._on_download)

    @property
    def is_alive(self) -> bool:
        browser = self.context.browser
        return browser is not None and browser.is_connected()

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
    """Owns this process's Chromium, its CDP connections and the runs' contexts in them."""

    def __init__(
        self,
        *,
        download_root: Path,
        chromium_path: str | None = None,
        headless: bool = True,
        max_contexts: int = 8,
    ) -> None:
        if max_contexts < 1:
            raise ValueError(f"max_contexts must be at least 1, got {max_contexts}")
        self._download_root = download_root
        self._chromium_path = find_chromium(chromium_path)
        self._headless = headless
        self.max_contexts = max_contexts
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._remote: dict[str, Browser] = {}
        self._runs: dict[str, BrowserRun] = {}
        self._lock = asyncio.Lock()
        self._reserved = 0
        self._filled: set[str] = set()
        """Runs whose context a launch opened under a reservation it still holds."""
        self._room = asyncio.Event()
        self.peak_live = 0
        """The most contexts this host has had open at once."""

    @property
    def run_ids(self) -> list[str]:
        return list(self._runs)

    @property
    def remote_addresses(self) -> list[str]:
        """The `browser_address`es this host holds a CDP connection to."""
        return [address for address, browser in self._remote.items() if browser.is_connected()]

    @property
    def live(self) -> int:
        """Contexts open now (one per run)."""
        return len(self._runs)

    @property
    def _in_use(self) -> int:
        # A reservation that became a context counts once, as the context.
        return len(self._runs) + self._reserved - len(self._filled)

    # -- room for launches ----------------------------------------------------------------

    async def reserve_launch(self) -> None:
        """Wait until one more context fits, and hold that room for a launch."""
        while self._in_use >= self.max_contexts:
            self._room.clear()
            await self._room.wait()
        self._reserved += 1

    def release_launch(self) -> None:
        """Give back a reservation (its launch is over, or it was never used)."""
        if self._reserved == 0:
            raise RuntimeError("release_launch without a reservation")
        self._reserved -= 1
        self._room.set()

    def launch_done(self, run_id: str) -> None:
        """The launch that opened `run_id` under a reservation has ended; call before releasing."""
        self._filled.discard(run_id)

    # -- browsers ---------------------------------------------------------------------------

    async def _playwright_started(self) -> Playwright:
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        return self._playwright

    async def _ensure_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            playwright = await self._playwright_started()
            log.info("launching Chromium %s", self._chromium_path or "(playwright's)")
            self._browser = await playwright.chromium.launch(
                executable_path=self._chromium_path, headless=self._headless, args=CHROMIUM_ARGS
            )
            return self._browser

    async def _connect(self, address: str) -> Browser:
        """This process's connection to the browser at `address`, made on first use."""
        async with self._lock:
            browser = self._remote.get(address)
            if browser is not None and browser.is_connected():
                return browser
            playwright = await self._playwright_started()
            log.info("connecting to the browser at %s over CDP", address)
            try:
                browser = await playwright.chromium.connect_over_cdp(
                    address, timeout=CONNECT_TIMEOUT_MS
                )
            except PlaywrightError as exc:
                raise BrowserUnreachableError(
                    f"could not connect to the browser at {address} over CDP "
                    f"({_first_line(exc)}); check that it runs with --remote-debugging-port "
                    "and that this worker can reach that address"
                ) from exc
            self._remote[address] = browser
            return browser

    async def _new_context(
        self, browser: Browser, *, remote: bool, **context_options: Any
    ) -> tuple[BrowserContext, bool]:
        """A fresh context, or (remote browsers that refuse one) the default context, unowned."""
        try:
            return await browser.new_context(**context_options), True
        except PlaywrightError:
            if not remote or not browser.contexts:
                raise
            log.warning("the remote browser refused a new context; using its default context")
            return browser.contexts[0], False

    async def open(
        self,
        run_id: str,
        *,
        browser_address: str | None = None,
        reserved: bool = False,
        user_agent: str | None = None,
        extra_http_headers: dict[str, str] | None = None,
    ) -> BrowserRun:
        """The run's browser, opening a fresh context if it has none here (idempotent).

        `browser_address` attaches to a browser started elsewhere (CDP, http(s):// or ws(s)://)
        instead of this process's Chromium. `reserved`: the caller holds a `reserve_launch`
        reservation, which the new context takes over until `launch_done`.
        """
        existing = self._runs.get(run_id)
        if existing is not None and existing.is_alive:
            return existing
        if existing is not None:
            self._forget(run_id)  # its browser is gone: open again from scratch
        if browser_address is None:
            browser = await self._ensure_browser()
        else:
            browser = await self._connect(browser_address)
        context, owned = await self._new_context(
            browser,
            remote=browser_address is not None,
            viewport=VIEWPORT,
            user_agent=user_agent,
            extra_http_headers=extra_http_headers,
            accept_downloads=True,
        )
        run = BrowserRun(
            run_id=run_id,
            context=context,
            page=await context.new_page(),
            download_dir=self._download_root / run_id,
            owns_context=owned,
        )
        run.watch(run.page)
        context.on("page", run.watch)
        self._runs[run_id] = run
        if reserved:
            self._filled.add(run_id)
        self.peak_live = max(self.peak_live, len(self._runs))
        return run

    def get(self, run_id: str) -> BrowserRun:
        run = self._runs.get(run_id)
        if run is None or not run.is_alive:
            raise BrowserGoneError(f"no live browser for run {run_id} on this worker")
        if run.page.is_closed():
            open_pages = [page for page in run.pages if not page.is_closed()]
            if not open_pages:
                raise BrowserGoneError(f"every tab of run {run_id} has been closed")
            run.page = open_pages[-1]
        return run

    def _forget(self, run_id: str) -> BrowserRun | None:
        run = self._runs.pop(run_id, None)
        self._filled.discard(run_id)
        self._room.set()
        return run

    async def close(self, run_id: str) -> BrowserRun | None:
        """Close the run's context (all its tabs). Returns the run it closed, if any.

        In a borrowed default context only the run's own tabs are closed: the context belongs
        to whoever started that browser.
        """
        run = self._forget(run_id)
        if run is None:
            return None
        await run.settle_downloads()
        if run.owns_context:
            await run.context.close()
        else:
            for page in run.pages:
                await page.close()
        return run

    async def aclose(self) -> None:
        """Close every run's context and Chromium itself; disconnect from remote browsers."""
        for run_id in list(self._runs):
            await self.close(run_id)
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        # For a CDP connection close() only disconnects: the browser keeps running.
        for browser in self._remote.values():
            await browser.close()
        self._remote.clear()
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


def _first_line(error: PlaywrightError) -> str:
    lines = error.message.splitlines()
    return lines[0] if lines else str(error)
