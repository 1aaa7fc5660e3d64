"""`browser_address`: a run attaches over CDP to a Chromium someone else started, and leaves it
running. The Chromium here is started by the test itself, as a user would start theirs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import TOP_STORY
from wayfinder import Client, RunStatus, WayfinderPlugin
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.devserver import free_port


@dataclass
class ExternalChromium:
    process: subprocess.Popen[bytes]
    address: str
    """http://127.0.0.1:<port>"""

    def version(self) -> dict[str, str]:
        with urllib.request.urlopen(f"{self.address}/json/version", timeout=5) as answer:
            return dict(json.load(answer))

    def tab_urls(self) -> list[str]:
        with urllib.request.urlopen(f"{self.address}/json/list", timeout=5) as answer:
            return [t["url"] for t in json.load(answer) if t["type"] == "page"]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExternalChromium]:
    executable = find_chromium(None)
    assert executable, "these tests need a Chromium on PATH"
    port = free_port()
    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [
            executable,
            f"--remote-debugging-port={port}",
            "--headless",
            f"--user-data-dir={profile}",
            *CHROMIUM_ARGS,
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    external = ExternalChromium(process=process, address=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                external.version()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield external
    finally:
        process.kill()
        process.wait(timeout=10)


async def test_a_run_works_in_a_browser_it_did_not_start_and_leaves_it_running(
    client: Client,
    plugin: WayfinderPlugin,
    fake_model: FakeAnthropicServer,
    sites: SiteServer,
    chromium: ExternalChromium,
    token: str,
) -> None:
    fake_model.delay(token, 1.0)
    started = await client.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        browser_address=chromium.address,
    )
    # While it runs, the run's tab is one of that browser's tabs.
    async with asyncio.timeout(30):
        while True:
            if f"{sites.url}/news" in chromium.tab_urls():
                break
            await asyncio.sleep(0.1)
    async with asyncio.timeout(60):
        while True:
            result = await client.get_run(started.run_id)
            if result.status.is_final:
                break
            await asyncio.sleep(0.2)
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.output == TOP_STORY
    # Still running and reachable; the run's own tab is gone, the browser's own tab is not.
    assert chromium.process.poll() is None
    assert chromium.version()["Browser"]
    assert chromium.tab_urls() == ["about:blank"]
    # The host keeps its connection for the next run.
    assert chromium.address in plugin.runtime.host.remote_addresses


async def test_the_websocket_url_works_too(
    client: Client, plugin: WayfinderPlugin, sites: SiteServer, chromium: ExternalChromium
) -> None:
    result = await client.run_task(
        "Get the title of the top post",
        url=f"{sites.url}/news",
        browser_address=chromium.version()["webSocketDebuggerUrl"],
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.output == TOP_STORY
    assert chromium.process.poll() is None
    assert chromium.tab_urls() == ["about:blank"]
    assert chromium.version()["webSocketDebuggerUrl"] in plugin.runtime.host.remote_addresses


async def test_a_browser_that_cannot_be_reached_fails_the_run_naming_it(
    client: Client, sites: SiteServer
) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = await client.run_task(
        "Get the title of the top post",
        url=f"{sites.url}/news",
        browser_address=address,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.failed
    assert result.failure_reason and address in result.failure_reason
    assert "could not connect to the browser" in result.failure_reason
