"""RunBrowser: a run's browser as its workflow sees it — where it lives and how to rebuild it.

Workflow code (deterministic; every side effect is an activity called by name). The browser
lives in one worker process and is reached through its lease (that process's host queue). When
it is lost, `rebuild` launches a new one from the last checkpoint: on the same host if only
Chromium died there, else on whichever worker takes the launch. The lost one is closed in the
background (a new generation, so that close can never hit its replacement).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import (
        CLOSE_BROWSER,
        LAUNCH_BROWSER,
        BrowserLease,
        Checkpoint,
        CloseBrowserInput,
        CloseBrowserOutput,
        LaunchBrowserInput,
        launch_queue,
    )
    from wayfinder.browser_options import BrowserOptions
    from wayfinder.models import FileInfo, RecordingSegment, SkippedDownload, TaskRunRequest
    from wayfinder.workflows.failures import Loss, browser_loss, failure_reason
    from wayfinder.workflows.session_browser import SessionBrowser


class RunBrowser:
    def __init__(self, launch: LaunchBrowserInput, *, screenshot_scrolls: int = 0) -> None:
        self._launch_input = launch
        self._screenshot_scrolls = screenshot_scrolls
        self.lease: BrowserLease | None = None
        self.checkpoint: Checkpoint | None = None
        """The browser's state after the last recorded step: what a rebuild restores."""
        self.screenshot_urls: list[str] = []
        self.downloads: list[FileInfo] = []
        self.skipped_downloads: list[SkippedDownload] = []
        self.recordings: list[RecordingSegment] = []
        """One per browser the run used, in the order they closed."""
        self._discarded: list[workflow.ActivityHandle[CloseBrowserOutput]] = []
        """Closing of lost browsers: awaited before the run ends or continues as new."""

    @property
    def leased(self) -> BrowserLease:
        if self.lease is None:
            raise RuntimeError("the run has no browser (this is a bug in Wayfinder)")
        return self.lease

    async def launch(self, *, on_host: str | None = None) -> None:
        """Open the browser on any worker (or rebuild it from the checkpoint, if there is one).

        `on_host` asks for it on that host first (its Chromium died, it did not); if that
        host is gone too, the launch queue takes over.
        """
        launch = self._launch_input.model_copy(
            update={"checkpoint": self.checkpoint, "generation": str(workflow.uuid4())}
        )
        if on_host is not None:
            try:
                self.lease = await self._launch_on(launch, on_host, options.RELAUNCH_ON_HOST)
                return
            except ActivityError as exc:
                if browser_loss(exc) is None:
                    raise
                workflow.logger.warning("relaunch on %s failed, using any worker", on_host)
        queue = launch_queue(workflow.info().task_queue)
        self.lease = await self._launch_on(launch, queue, options.LAUNCH)

    async def rebuild(self, loss: Loss) -> None:
        """Replace a lost browser by one restored from the checkpoint."""
        lost, self.lease = self.lease, None
        if lost is not None:
            # If the old host is still alive (a crash, a stall), its context goes; if it is
            # dead, this gives up after a few seconds. Either way the run does not wait.
            self._discarded.append(self._start_close(lost, final=False))
        same_host = lost is not None and loss is Loss.browser
        await self.launch(on_host=lost.host_queue if same_host and lost else None)

    async def _launch_on(
        self, launch: LaunchBrowserInput, queue: str, launch_options: options.ActivityOptions
    ) -> BrowserLease:
        handle = workflow.start_activity(
            LAUNCH_BROWSER,
            launch,
            task_queue=queue,
            result_type=BrowserLease,
            **launch_options.kwargs(),
        )
        try:
            return await asyncio.shield(handle)
        except asyncio.CancelledError:
            # Canceled while launching: wait for the browser anyway, so that it gets closed.
            self.lease = await handle
            await self.close()
            raise

    async def close(self) -> None:
        """Close the browser (final screenshots, downloads), and wait for the lost ones."""
        await self.settle()
        if self.lease is None:
            return
        closed = await self._closed(self._start_close(self.lease, final=True))
        self.lease = None
        if closed is not None:
            self._collect(closed)
            self.screenshot_urls = closed.screenshot_urls

    async def settle(self) -> None:
        """Wait for the closing of lost browsers (their downloads are kept)."""
        for handle in self._discarded:
            closed = await self._closed(handle)
            if closed is not None:
                self._collect(closed)
        self._discarded = []

    def _collect(self, closed: CloseBrowserOutput) -> None:
        """What a closed browser leaves the run: its downloads and its recording."""
        self.downloads += closed.downloaded_files
        self.skipped_downloads += closed.skipped_downloads
        if closed.recording is not None:
            self.recordings.append(closed.recording)

    def _start_close(
        self, lease: BrowserLease, *, final: bool
    ) -> workflow.ActivityHandle[CloseBrowserOutput]:
        return workflow.start_activity(
            CLOSE_BROWSER,
            CloseBrowserInput(
                lease=lease, screenshot_scrolls=self._screenshot_scrolls, final=final
            ),
            task_queue=lease.host_queue,
            result_type=CloseBrowserOutput,
            **options.CLOSE.kwargs(),
        )

    @staticmethod
    async def _closed(
        handle: workflow.ActivityHandle[CloseBrowserOutput],
    ) -> CloseBrowserOutput | None:
        try:
            return await handle
        except ActivityError as exc:
            # The run's outcome stands; that browser went with its host.
            workflow.logger.warning("closing a browser failed: %s", failure_reason(exc))
            return None


def browser_of(request: TaskRunRequest, run_id: str) -> RunBrowser | SessionBrowser:
    """The task run's browser: its browser session's when it runs in one, else its own,
    launched with what the request asks of the browser context."""
    if request.browser_session_id is not None:
        return SessionBrowser(
            request.browser_session_id,
            run_id=run_id,
            url=request.url,
            screenshot_scrolls=request.max_screenshot_scrolls or 0,
        )
    return own_browser(run_id, request.url, request)


def own_browser(
    run_id: str, url: str | None, options: TaskRunRequest | BrowserOptions
) -> RunBrowser:
    """A browser of the run's own, launched at `url` with the browser options of a task run's
    request or of a code rerun (the same fields)."""
    return RunBrowser(
        LaunchBrowserInput(
            run_id=run_id,
            url=url,
            browser_address=options.browser_address,
            user_agent=options.user_agent,
            extra_http_headers=options.extra_http_headers,
            proxy=options.proxy_location,
        ),
        screenshot_scrolls=options.max_screenshot_scrolls or 0,
    )
