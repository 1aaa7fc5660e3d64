"""Launching and closing a run's browser on this worker process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
from wayfinder.browser.downloads import DownloadKeeper
from wayfinder.browser.host import BrowserGoneError, BrowserRun, BrowserUnreachableError
from wayfinder.browser.recording import Frame, discard, encode
from wayfinder.models import FileInfo, RecordingSegment, SkippedDownload
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
            run = host.get(request.run_id)
            if run.recorder is not None:
                await run.recorder.restart()  # the session's idle time is no run's recording
            await self._load(run, request)
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
        """Take the final screenshots, save the recording, collect downloads, close the context.

        Idempotent: closing a run this host no longer has returns an empty result. A browser
        that died is closed without screenshots or trace; its video is still made from the
        frames it sent. With `keep_open` (a session's run ending) the browser stays open and
        only the run's part of the recording is saved.
        """
        run_id = request.lease.run_id
        generation = request.lease.generation
        host = self._rt.host
        if not host.holds(run_id, generation):
            return CloseBrowserOutput()
        owner = request.run_id or run_id
        screenshots: list[str] = []
        if request.final:
            screenshots = await self._final_screenshots(run_id, owner, request.screenshot_scrolls)
        keys = _recording_keys(owner, generation)
        trace: Path | None = None
        frames: list[Frame] = []
        recorder = host.recorder(run_id, generation)
        if recorder is not None:
            # Before the context closes: a trace can only be saved from a live context.
            trace, frames = await recorder.save(
                self._rt.artifacts.path(keys.trace), last=not request.keep_open
            )
        if request.keep_open:
            recording = await self._recording(generation, keys, trace, frames)
            return CloseBrowserOutput(screenshot_urls=screenshots, recording=recording)
        closed = await host.close(run_id, generation)
        recording = await self._recording(generation, keys, trace, frames)
        if recorder is not None and recorder.screencast is not None:
            discard(recorder.screencast.directory)
        files, skipped = self._downloads(closed.downloads) if closed else ([], [])
        return CloseBrowserOutput(
            screenshot_urls=screenshots,
            downloaded_files=files,
            skipped_downloads=skipped,
            recording=recording,
        )

    async def _recording(
        self, generation: str, keys: _RecordingKeys, trace: Path | None, frames: list[Frame]
    ) -> RecordingSegment | None:
        """Encode the video (after the run's last step: no step waits for it) and link both."""
        if trace is None and not frames:
            return None
        artifacts = self._rt.artifacts
        video = await encode(frames, artifacts.path(keys.video))
        return RecordingSegment(
            generation=generation,
            recording_url=artifacts.url(keys.video) if video else None,
            trace_url=artifacts.url(keys.trace) if trace is not None else None,
        )

    def _downloads(self, keeper: DownloadKeeper) -> tuple[list[FileInfo], list[SkippedDownload]]:
        artifacts = self._rt.artifacts
        files = []
        for saved in keeper.saved:
            key = artifacts.key_of(saved.path)
            stat = saved.path.stat()
            files.append(
                FileInfo(
                    url=artifacts.url(key),
                    filename=saved.filename,
                    checksum=artifacts.sha256(key),
                    size=stat.st_size,
                    source_url=saved.url,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )
            )
        skipped = [
            SkippedDownload(filename=item.filename, source_url=item.url, reason=item.reason)
            for item in keeper.skipped
        ]
        return files, skipped

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


@dataclass(frozen=True)
class _RecordingKeys:
    """Where one browser's (or one session run's) video and trace are kept."""

    video: str
    trace: str


def _recording_keys(owner: str, generation: str) -> _RecordingKeys:
    # Per generation: a run that lost its browser keeps one recording per browser.
    part = generation[:8] or "first"
    return _RecordingKeys(video=f"{owner}/recording-{part}.mp4", trace=f"{owner}/trace-{part}.zip")
