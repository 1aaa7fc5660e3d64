"""Each step's screenshot (now captured while the model decides) is a JPEG of the viewport."""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.async_api import Page

from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.activities.runtime import ActivityRuntime
from wayfinder.activities.step import StepActivities
from wayfinder.browser.host import VIEWPORT
from wayfinder.settings import Settings


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no start-of-frame segment")


async def test_every_step_has_a_viewport_screenshot(
    client: Client, sites: SiteServer, artifacts_root: Path, token: str
) -> None:
    run = await client.run_task(
        f'{token} Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        url=f"{sites.url}/shop",
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    steps = await client.get_run_steps(run.run_id)
    assert len(steps) == 3
    images = [(artifacts_root / str(step.screenshot_key)).read_bytes() for step in steps]
    assert {jpeg_size(image) for image in images} == {(VIEWPORT["width"], VIEWPORT["height"])}
    # One per page the model saw: shop, catalogue, garden.
    assert len(set(images)) == 3


async def test_a_page_cdp_cannot_capture_gets_playwrights_screenshot(
    page: Page, tmp_path: Path
) -> None:
    """The one-call capture can fail (a session gone, a page with no frame yet): the step
    still gets its screenshot, through Playwright's waiting one."""
    runtime = ActivityRuntime.create(Settings(home=tmp_path), host_queue="unused")
    steps = StepActivities(runtime)
    await page.set_content("<h1>Hello</h1>")
    gone = await page.context.new_cdp_session(page)
    await gone.detach()
    steps._cdp[page] = gone
    key = await steps._screenshot(page, "step-001.jpg")
    assert key is not None
    size = page.viewport_size
    assert size is not None
    assert jpeg_size(runtime.artifacts.path(key).read_bytes()) == (size["width"], size["height"])
    # The broken session was dropped: the next screenshot makes a new one.
    assert steps._cdp.get(page) is not gone
