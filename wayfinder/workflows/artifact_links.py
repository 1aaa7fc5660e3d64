"""What a run's closed browsers leave on its response: screenshots, downloads, recordings.

Workflow code (deterministic): only copies what the `close_browser` activities returned.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from wayfinder.models import FileInfo, RecordingSegment, SkippedDownload, TaskRunResponse


class ClosedBrowser(Protocol):
    screenshot_urls: list[str]
    downloads: list[FileInfo]
    skipped_downloads: list[SkippedDownload]
    recordings: list[RecordingSegment]


def add_artifacts(state: TaskRunResponse, browser: ClosedBrowser) -> None:
    state.screenshot_urls = browser.screenshot_urls or None
    state.downloaded_files = browser.downloads or None
    state.skipped_downloads = browser.skipped_downloads or None
    state.recordings = browser.recordings or None
    if browser.recordings:
        # The browser the run ended in; the earlier ones (lost browsers) are in `recordings`.
        state.recording_url = browser.recordings[-1].recording_url
        state.trace_url = browser.recordings[-1].trace_url
