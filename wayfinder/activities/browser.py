"""Launching and closing a run's browser on this worker process."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Error as PlaywrightError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wayfinder.activities.contracts import (
    CLOSE_BROWSER,
    LAUNCH_BROWSER,
    BrowserLease,
    CloseBrowserInput,
    CloseBrowserOutput,
    LaunchBrowserInput,
    is_launch_queue,
)
from wayfinder.activities.options import BROWSER_LOST
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.checkpoint import NAVIGATION_TIMEOUT_MS, restore
from wayfinder.browser.host import BrowserGoneError, BrowserRun, BrowserUnreachableError
from wayfinder.models import FileInfo
from wayfinder.proxies import ProxyNotConfiguredError, resolve_proxy
from wayfinder.secrets import SecretKeyError


class BrowserActivities(ActivityGroup):
    @activity.defn(name=LAUNCH_BROWSER)
    async def launch_browser(self, request: LaunchBrowserInput) -> BrowserLease:
        """Open the run's context on this process and hand back this process's own queue.

        With a checkpoint, the context is rebuilt from it (a recovery); a run this host
        already has a live context for keeps it (a retried launch). On the launch queue the
        launch holds room reserved for its context (see `wayfinder.worker`). A launch that
        fails closes the context again, so that it does not keep that room while the retry
        goes wherever there is some.
        """
        if request.reuse_only:
            return await self._navigate(request)
        host = self._rt.host
        reserved = is_launch_queue(activity.info().task_queue)
        launched = False
        try:
            run = await self._open(request, reserved=reserved)
            await self._load(run, request)
            launched = True
        finally:
            if not launched:
                await host.close(request.run_id, request.generation)
            if reserved:
                host.limit.launch_done(request.run_id)
        return BrowserLease(
            run_id=request.run_id, host_queue=self._rt.host_queue, generation=request.generation
        )

    async def _navigate(self, request: LaunchBrowserInput) -> BrowserLease:
        """A run in a browser session opens its URL in the session's live browser."""
        host = self._rt.host
        try:
            if not host.holds(request.run_id, request.generation):
                raise BrowserGoneError(
                    f"the browser of session {request.run_id} is no longer on this worker"
                )
            await self._load(host.get(request.run_id), request)
        except BrowserGoneError as exc:
            raise ApplicationError(str(exc), type=BROWSER_LOST, non_retryable=True) from exc
        return BrowserLease(
            run_id=request.run_id, host_queue=self._rt.host_queue, generation=request.generation
        )

    async def _open(self, request: LaunchBrowserInput, *, reserved: bool) -> BrowserRun:
        checkpoint = request.checkpoint
        try:
            proxy = resolve_proxy(request.proxy, self._rt.settings)
        except (ProxyNotConfiguredError, SecretKeyError) as exc:
            # Another worker would not do better: its configuration is the deployment's.
            raise ApplicationError(str(exc), type="ProxyNotConfigured", non_retryable=True) from exc
        try:
            return await self._rt.host.open(
                request.run_id,
                browser_address=request.browser_address,
                reserved=reserved,
                user_agent=request.user_agent,
                extra_http_headers=request.extra_http_headers,
                proxy=proxy,
                storage_state=checkpoint.storage_state if checkpoint else None,
                generation=request.generation,
            )
        except BrowserUnreachableError as exc:
            raise ApplicationError(str(exc), type="BrowserUnreachable") from exc

    async def _load(self, run: BrowserRun, request: LaunchBrowserInput) -> None:
        """Rebuild the checkpoint's tabs, or open the run's start URL."""
        checkpoint = request.checkpoint
        if checkpoint is not None and checkpoint.tabs:
            try:
                run.page = await restore(run.context, run.page, checkpoint)
            except PlaywrightError as exc:
                raise ApplicationError(
                    f"could not restore the browser at {checkpoint.url}: "
                    f"{exc.message.splitlines()[0]}",
                    type="NavigationError",
                ) from exc
        elif request.url:
            try:
                await run.page.goto(
                    request.url, wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS
                )
            except PlaywrightError as exc:
                # Retried by the policy (a site can be briefly down); the last message is what
                # the user reads as failure_reason.
                raise ApplicationError(
                    f"could not open {request.url}: {exc.message.splitlines()[0]}",
                    type="NavigationError",
                ) from exc

    @activity.defn(name=CLOSE_BROWSER)
    async def close_browser(self, request: CloseBrowserInput) -> CloseBrowserOutput:
        """Take the final screenshots, collect downloads and close the run's context.

        Idempotent: closing a run this host no longer has returns an empty result. A browser
        that died is closed without screenshots.
        """
        run_id = request.lease.run_id
        if not self._rt.host.holds(run_id, request.lease.generation):
            return CloseBrowserOutput()
        screenshots: list[str] = []
        if request.final:
            screenshots = await self._final_screenshots(
                run_id, request.run_id or run_id, request.screenshot_scrolls
            )
        if request.keep_open:
            return CloseBrowserOutput(screenshot_urls=screenshots)
        closed = await self._rt.host.close(run_id, request.lease.generation)
        files = [
            FileInfo(
                url=saved.path.as_uri(),
                filename=saved.filename,
                checksum=self._rt.artifacts.sha256(
                    str(saved.path.relative_to(self._rt.artifacts.root))
                ),
                modified_at=datetime.fromtimestamp(saved.path.stat().st_mtime, tz=UTC),
            )
            for saved in (closed.downloads if closed else [])
        ]
        return CloseBrowserOutput(screenshot_urls=screenshots, downloaded_files=files)

    async def _final_screenshots(self, run_id: str, owner: str, scrolls: int) -> list[str]:
        """The viewport, then `scrolls` more while scrolling down; most recent first. They are
        kept under `owner`: the run whose screenshots they are."""
        screenshots: list[str] = []
        try:
            run = self._rt.host.get(run_id)
            for index in range(scrolls + 1):
                if index:
                    await run.page.evaluate("window.scrollBy(0, window.innerHeight)")
                    await run.page.wait_for_timeout(300)  # let lazily loaded content appear
                image = await run.page.screenshot(type="png")
                key = self._rt.artifacts.put(f"{owner}/final-{index}.png", image)
                screenshots.insert(0, self._rt.artifacts.url(key))
        except BrowserGoneError as exc:
            activity.logger.warning("no final screenshot of %s: %s", run_id, exc)
        except PlaywrightError as exc:
            activity.logger.warning("final screenshot of %s failed: %s", run_id, exc.message)
        return screenshots
