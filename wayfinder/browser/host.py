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

`limit` (a `ContextLimit`) keeps this host to `WAYFINDER_MAX_CONCURRENT_RUNS` live contexts: a
launch reserves room before it is taken from Temporal's queue and passes `reserved=True` to
`open`; any other `open` of a new context waits for room itself.
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
    Page,
    Playwright,
    ProxySettings,
    ViewportSize,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from wayfinder.browser.downloads import DownloadKeeper
from wayfinder.browser.limit import ContextLimit
from wayfinder.browser.recording import Recorder, Screencast, discard

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


@dataclass(frozen=True)
class RecordingOptions:
    """What a host records of each browser it opens (see `wayfinder.browser.recording`)."""

    video: bool = True
    trace: bool = True
    fps: float = 5.0
    max_downloads: int = 20
    max_download_bytes: int = 100 * 1024 * 1024


@dataclass
class BrowserRun:
    """One run's browser state on this host: its context and the tab it is looking at."""

    run_id: str
    context: BrowserContext
    page: Page
    downloads: DownloadKeeper
    recorder: Recorder | None = None
    owns_context: bool = True
    """False when the run borrowed a remote browser's default context: then only its tabs close."""
    generation: str = ""
    """Which launch of the run made this browser: a recovery's rebuild is a new generation, so
    closing the lost one can never close its replacement."""
    pages: list[Page] = field(default_factory=list)
    """Every tab the run opened, in order."""

    crashed: bool = False

    @property
    def alive(self) -> bool:
        browser = self.context.browser
        return not self.crashed and browser is not None and browser.is_connected()

    def watch(self, page: Page) -> None:
        """Keep the tab's downloads, record it, and notice if its renderer crashes."""
        self.pages.append(page)
        page.on("download", self.downloads.on_download)
        page.on("crash", self._on_crash)
        if self.recorder is not None:
            self.recorder.watch(page)

    def _on_crash(self, page: Page) -> None:
        log.warning("a tab of run %s crashed at %s", self.run_id, page.url)
        self.crashed = True

    async def shut(self) -> None:
        """Close the run's context, or in a borrowed default context only the run's tabs."""
        recorder = self.recorder
        if recorder is not None and recorder.screencast is not None and not recorder.saved:
            discard(recorder.screencast.directory)  # frames nobody took for a video
        # A context whose Chromium died is closed already; there is nothing left to do.
        with contextlib.suppress(PlaywrightError):
            if self.owns_context:
                await self.context.close()
            else:
                for page in self.pages:
                    await page.close()


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
        recording_root: Path | None = None,
        recording: RecordingOptions | None = None,
        chromium_path: str | None = None,
        headless: bool = True,
        max_contexts: int = 8,
    ) -> None:
        self._download_root = download_root
        self._recording_root = recording_root or download_root.parent / ".recording"
        self._recording = recording or RecordingOptions()
        self._chromium_path = find_chromium(chromium_path)
        self._headless = headless
        self.limit = ContextLimit(max_contexts)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._remote: dict[str, Browser] = {}
        self._runs: dict[str, BrowserRun] = {}
        self._lock = asyncio.Lock()

    @property
    def run_ids(self) -> list[str]:
        return list(self._runs)

    @property
    def remote_addresses(self) -> list[str]:
        """The `browser_address`es this host holds a CDP connection to."""
        return [address for address, browser in self._remote.items() if browser.is_connected()]

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

    async def open(
        self,
        run_id: str,
        *,
        browser_address: str | None = None,
        reserved: bool = False,
        user_agent: str | None = None,
        extra_http_headers: dict[str, str] | None = None,
        proxy: ProxySettings | None = None,
        storage_state: dict[str, Any] | None = None,
        generation: str = "",
    ) -> BrowserRun:
        """The run's browser, opening a fresh context if it has none here (idempotent).

        Idempotent per `generation`: a retried launch gets the browser it already opened; a
        new generation (a recovery) replaces whatever the run had here.

        A run whose browser is gone (Chromium crashed, a tab crashed) gets a fresh context, in
        a relaunched Chromium if need be; `storage_state` (cookies, localStorage) seeds it.
        `browser_address` attaches to a browser started elsewhere (CDP, http(s):// or ws(s)://)
        instead of this process's Chromium. `reserved`: the caller holds a reservation of
        `self.limit` for this context; without one, a new context waits for room. `proxy` is
        the context's own proxy (Playwright sends loopback addresses through it too).
        """
        existing = self._runs.get(run_id)
        if existing is not None and existing.alive and existing.generation == generation:
            return existing
        own_reservation = not reserved
        if existing is not None:
            self._runs.pop(run_id)
            if own_reservation:
                self.limit.hand_over(run_id)
            else:
                self.limit.closed(run_id)
            await existing.shut()
        elif own_reservation:
            # Not through the launch queue (a relaunch on this host): wait like any launch.
            await self.limit.reserve()
        try:
            run = await self._new_run(
                run_id,
                browser_address,
                generation,
                viewport=VIEWPORT,
                user_agent=user_agent,
                extra_http_headers=extra_http_headers,
                proxy=proxy,
                accept_downloads=True,
                storage_state=cast(Any, storage_state),
            )
            self._runs[run_id] = run
            self.limit.opened(run_id, reserved=True)
        finally:
            if own_reservation:
                self.limit.launch_done(run_id)
                self.limit.release()
        return run

    async def _new_run(
        self, run_id: str, browser_address: str | None, generation: str, **context_options: Any
    ) -> BrowserRun:
        if browser_address is None:
            browser = await self._ensure_browser()
        else:
            browser = await self._connect(browser_address)
        owned = True
        try:
            context = await browser.new_context(**context_options)
        except PlaywrightError:
            # The default context has no proxy of the run's: better no run than an unproxied one.
            if browser_address is None or not browser.contexts or context_options.get("proxy"):
                raise
            log.warning(
                "the browser at %s refused a new context; using its default one", browser_address
            )
            context, owned = browser.contexts[0], False
        options = self._recording
        recorder = None
        if options.video or options.trace:
            frames = self._recording_root / f"{run_id}-{generation or 'first'}"
            screencast = Screencast(frames, fps=options.fps) if options.video else None
            recorder = Recorder(context, screencast, trace=options.trace)
            await recorder.start()
        run = BrowserRun(
            run_id=run_id,
            context=context,
            page=await context.new_page(),
            downloads=DownloadKeeper(
                self._download_root / run_id / (generation or "first"),
                max_count=options.max_downloads,
                max_bytes=options.max_download_bytes,
            ),
            recorder=recorder,
            owns_context=owned,
            generation=generation,
        )
        run.watch(run.page)
        context.on("page", run.watch)
        return run

    def recorder(self, run_id: str, generation: str) -> Recorder | None:
        """The recorder of the run's browser of that generation, alive or not."""
        run = self._runs.get(run_id)
        if run is None or run.generation != generation:
            return None
        return run.recorder

    def holds(self, run_id: str, generation: str) -> bool:
        """Whether this host has the run's browser of that generation (alive or not)."""
        run = self._runs.get(run_id)
        return run is not None and run.generation == generation

    def get(self, run_id: str) -> BrowserRun:
        run = self._runs.get(run_id)
        if run is None:
            raise BrowserGoneError(f"no live browser for run {run_id} on this worker")
        if not run.alive:
            raise BrowserGoneError(
                f"the browser of run {run_id} crashed"
                if run.crashed
                else f"Chromium of run {run_id} is gone from this worker"
            )
        if run.page.is_closed():
            open_pages = [page for page in run.pages if not page.is_closed()]
            if not open_pages:
                raise BrowserGoneError(f"every tab of run {run_id} has been closed")
            run.page = open_pages[-1]
        return run

    async def close(self, run_id: str, generation: str | None = None) -> BrowserRun | None:
        """Close the run's context (all its tabs). Returns the run it closed, if any.

        With `generation`, only a browser of that generation is closed. In a borrowed default
        context only the run's own tabs are closed: the context belongs to whoever started
        that browser.
        """
        run = self._runs.get(run_id)
        if run is None or (generation is not None and run.generation != generation):
            return None
        del self._runs[run_id]
        self.limit.closed(run_id)
        await run.downloads.settle()
        await run.shut()
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
