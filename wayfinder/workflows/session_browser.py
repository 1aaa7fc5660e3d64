"""SessionBrowser: a run's browser when the run is in a browser session.

The same interface as `RunBrowser` (`launch`, `rebuild`, `close`, `settle`, `lease`,
`checkpoint`), so `TaskRunWorkflow` does not care which it has; but the browser belongs to the
session (`BrowserSessionWorkflow`), which launches, rebuilds and closes it. This side waits for
its turn, opens the run's URL in the session's browser, asks for a rebuild when the browser is
lost, and gives the browser back, with its latest checkpoint, when the run ends: never closing it.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

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
    )
    from wayfinder.models import FileInfo, RecordingSegment, SkippedDownload
    from wayfinder.workflows.failures import Loss, browser_loss, failure_reason
    from wayfinder.workflows.session_messages import (
        ACQUIRE,
        REBUILD,
        RELEASE,
        SessionAcquire,
        SessionGrant,
        SessionRebuild,
        SessionRelease,
    )

SESSION_UNAVAILABLE = "BrowserSessionUnavailable"


class SessionBrowser:
    def __init__(
        self, session_id: str, *, run_id: str, url: str | None, screenshot_scrolls: int = 0
    ) -> None:
        self.session_id = session_id
        self._run_id = run_id
        self._url = url
        self._screenshot_scrolls = screenshot_scrolls
        self.lease: BrowserLease | None = None
        self.checkpoint: Checkpoint | None = None
        self.screenshot_urls: list[str] = []
        self.downloads: list[FileInfo] = []
        """Always empty: downloads are collected when a browser closes, and the session's
        browser outlives the run."""
        self.skipped_downloads: list[SkippedDownload] = []
        self.recordings: list[RecordingSegment] = []
        """The run's part of the session's recording (saved when the run gives it back)."""
        self._grant: SessionGrant | None = None
        self._asked = False
        """Whether the session has heard of this run (it may be waiting for the browser)."""

    @property
    def leased(self) -> BrowserLease:
        if self.lease is None:
            raise RuntimeError("the run has no browser (this is a bug in Wayfinder)")
        return self.lease

    def granted(self, grant: SessionGrant) -> None:
        """The session's answer (the `session_granted` signal of the run)."""
        self._grant = grant

    async def launch(self) -> None:
        """Wait for the session's browser (runs in a session take turns), then open the URL."""
        self._asked = True
        await self._signal(ACQUIRE, SessionAcquire(run_id=self._run_id))
        grant = await self._answer()
        self.checkpoint = grant.checkpoint
        try:
            await self._open_url()
        except ActivityError as exc:
            # The session's browser went while it sat idle, before the session noticed.
            loss = browser_loss(exc)
            if loss is None:
                raise
            await self.rebuild(loss)
            await self._open_url()

    async def rebuild(self, loss: Loss) -> None:
        """Ask the session to replace the lost browser, and wait for the new one."""
        lost = self.leased
        self.lease = None
        await self._signal(
            REBUILD,
            SessionRebuild(
                run_id=self._run_id,
                lost_generation=lost.generation,
                checkpoint=self.checkpoint,
                host_lost=loss is Loss.host,
            ),
        )
        await self._answer(not_generation=lost.generation)

    async def close(self) -> None:
        """Take the run's final screenshots, then give the browser back to the session (or
        stop waiting for it); the browser stays open."""
        if not self._asked and self.lease is None:
            return
        self._asked = False
        if self.lease is not None:
            await self._final_screenshots(self.lease)
        self.lease = None
        try:
            await self._signal(
                RELEASE, SessionRelease(run_id=self._run_id, checkpoint=self.checkpoint)
            )
        except ApplicationError:
            pass  # the session has ended: there is nothing to give back

    async def settle(self) -> None:
        """Nothing to wait for: the session closes the browsers it discards."""

    async def _final_screenshots(self, lease: BrowserLease) -> None:
        try:
            shot = await workflow.execute_activity(
                CLOSE_BROWSER,
                CloseBrowserInput(
                    lease=lease,
                    screenshot_scrolls=self._screenshot_scrolls,
                    keep_open=True,
                    run_id=self._run_id,
                ),
                task_queue=lease.host_queue,
                result_type=CloseBrowserOutput,
                **options.CLOSE.kwargs(),
            )
        except ActivityError as exc:
            # The run's outcome stands; the browser went with its host.
            workflow.logger.warning("no final screenshots: %s", failure_reason(exc))
            return
        self.screenshot_urls = shot.screenshot_urls
        if shot.recording is not None:
            self.recordings.append(shot.recording)

    async def _answer(self, *, not_generation: str | None = None) -> SessionGrant:
        """Wait for the session's grant (of a browser other than `not_generation`)."""

        def answered() -> bool:
            grant = self._grant
            if grant is None:
                return False
            return grant.error is not None or (
                grant.lease is not None and grant.lease.generation != not_generation
            )

        await workflow.wait_condition(answered)
        grant = self._grant
        assert grant is not None
        if grant.error is not None or grant.lease is None:
            raise ApplicationError(
                f"{grant.error}: the run cannot use its browser; create a new session with "
                "create_browser_session() and run the task there",
                type=SESSION_UNAVAILABLE,
            )
        self.lease = grant.lease
        return grant

    async def _open_url(self) -> None:
        if self._url is None:
            return
        lease = self.leased
        await workflow.execute_activity(
            LAUNCH_BROWSER,
            LaunchBrowserInput(
                run_id=lease.run_id, url=self._url, generation=lease.generation, reuse_only=True
            ),
            task_queue=lease.host_queue,
            result_type=BrowserLease,
            **options.SESSION_NAVIGATE.kwargs(),
        )

    async def _signal(self, name: str, payload: object) -> None:
        try:
            await workflow.get_external_workflow_handle(self.session_id).signal(name, payload)
        except FailureError as exc:
            raise ApplicationError(
                f"browser session {self.session_id} has ended, so the run has no browser: "
                f"create a new session with create_browser_session() and run the task there "
                f"({exc})",
                type=SESSION_UNAVAILABLE,
            ) from exc
