"""Recordings and traces: a video ffmpeg reads, a trace `playwright show-trace` opens."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest
from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

from tests.fixtures.media_worker import ServedWorker, served_worker
from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.devserver import free_port
from wayfinder.settings import Settings

SHOP_TASK = 'Click "Catalogue", then click "Garden", then get the price of the Watering Can'


@pytest.fixture(scope="module")
async def served(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedWorker]:
    async with served_worker(
        settings, tmp_path_factory.mktemp("recorded"), record_trace=True
    ) as worker:
        yield worker


async def _fetch(url: str, target: Path) -> Path:
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
    answer.raise_for_status()
    target.write_bytes(answer.content)
    return target


async def video_facts(path: Path) -> tuple[float, int]:
    """Duration (s) and decoded frame count, as ffmpeg reads the file (decoding all of it)."""
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-hide_banner", "-i", str(path), "-f", "null", "-"),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    report = err.decode()
    assert process.returncode == 0, report
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", report)
    frames = re.findall(r"frame=\s*(\d+)", report)
    assert duration and frames, report
    hours, minutes, seconds = duration.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds), int(frames[-1])


async def viewer_actions(browser: Browser, trace: str) -> str:
    """The action list `playwright show-trace` shows for the trace (a path or URL).

    show-trace with --host/--port serves its viewer over http instead of opening a window, so
    the test's own Chromium can look at it. It runs node in a child process: the whole
    process group is ended afterwards.
    """
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "playwright", "show-trace", "--host", "127.0.0.1", "--port", str(port), trace),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        page = await browser.new_page()
        try:
            for _ in range(100):
                try:
                    await page.goto(f"http://127.0.0.1:{port}")
                    break
                except PlaywrightError:
                    await asyncio.sleep(0.2)  # not listening yet
            clicked = page.get_by_text("Click", exact=True).first
            await clicked.wait_for(timeout=20_000)
            return await page.inner_text("body")
        finally:
            await page.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await process.wait()


async def test_a_run_has_a_video_and_a_trace_that_show_trace_opens(
    served: ServedWorker, sites: SiteServer, browser: Browser, tmp_path: Path
) -> None:
    result = await served.client.run_task(
        SHOP_TASK, url=sites.url + "/shop", wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.recording_url and result.recording_url.endswith(".mp4")
    assert result.trace_url and result.trace_url.endswith(".zip")
    assert result.recordings and len(result.recordings) == 1

    video = await _fetch(result.recording_url, tmp_path / "run.mp4")
    duration, frames = await video_facts(video)
    assert duration > 0.5 and frames >= 3, (duration, frames)

    trace = await _fetch(result.trace_url, tmp_path / "trace.zip")
    with zipfile.ZipFile(trace) as archive:
        names = archive.namelist()
        assert "trace.trace" in names and "trace.network" in names
        events = archive.read("trace.trace").decode()
    assert "/shop/catalogue" in events  # the run's navigation is in it
    assert any(name.startswith("resources/") for name in names)  # snapshots and screenshots
    listed = await viewer_actions(browser, result.trace_url)
    assert "Click" in listed


async def test_runs_in_a_session_each_get_their_own_recording(
    served: ServedWorker, sites: SiteServer, tmp_path: Path
) -> None:
    client = served.client
    session = await client.create_browser_session(timeout=10)
    try:
        first = await client.run_task(
            "Get the title of the top post",
            url=sites.url + "/news",
            browser_session_id=session.browser_session_id,
            wait_for_completion=True,
        )
        second = await client.run_task(
            SHOP_TASK,
            url=sites.url + "/shop",
            browser_session_id=session.browser_session_id,
            wait_for_completion=True,
        )
    finally:
        await client.close_browser_session(session.browser_session_id)
    assert first.status is RunStatus.completed and second.status is RunStatus.completed
    traces = []
    for run in (first, second):
        assert run.trace_url and run.recording_url
        assert run.run_id in run.trace_url and run.run_id in run.recording_url
        trace = await _fetch(run.trace_url, tmp_path / f"{run.run_id}.zip")
        with zipfile.ZipFile(trace) as archive:
            traces.append(archive.read("trace.trace").decode())
        duration, _ = await video_facts(await _fetch(run.recording_url, tmp_path / "v.mp4"))
        assert duration > 0
    # Each trace is its own run's part of the session: the second starts after the first ended
    # (on the page the first left, so that page shows, but none of the first run's actions).
    assert _visited(traces[0]) == [f"{sites.url}/news"]
    assert _visited(traces[1]) == [f"{sites.url}/shop"]
    assert "/shop/catalogue" in traces[1]


def _visited(trace: str) -> list[str]:
    """The URLs the trace's `goto` actions opened."""
    events = [json.loads(line) for line in trace.splitlines() if line.strip()]
    return [
        event["params"]["url"]
        for event in events
        if event.get("type") == "before" and event.get("method") == "goto"
    ]


async def test_a_run_keeps_a_video_and_no_trace_unless_asked(
    client: Client, sites: SiteServer
) -> None:
    result = await client.run_task(
        "Get the title of the top post", url=sites.url + "/news", wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.recording_url and result.recording_url.endswith(".mp4")
    assert result.trace_url is None


async def test_recording_and_tracing_can_be_switched_off(
    settings: Settings, sites: SiteServer, tmp_path: Path
) -> None:
    async with served_worker(settings, tmp_path, record_video=False, record_trace=False) as off:
        result = await off.client.run_task(
            "Get the title of the top post", url=sites.url + "/news", wait_for_completion=True
        )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.recording_url is None and result.trace_url is None
    assert result.recordings is None
    assert not list(tmp_path.rglob("*.mp4")) and not list(tmp_path.rglob("*.zip"))
    assert result.screenshot_urls  # the rest of the artifacts are still there
