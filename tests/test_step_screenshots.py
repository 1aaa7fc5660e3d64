"""Each step's screenshot (now captured while the model decides) is a JPEG of the viewport."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import imageio_ffmpeg
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


async def mean_colour(image: Path) -> tuple[int, int, int]:
    """The picture's mean colour, by ffmpeg (which the video needs anyway) scaling it to 1 px."""
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-loglevel", "error", "-i", str(image), "-vf", "scale=1:1:flags=area"),
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    red, green, blue = out[:3]
    return red, green, blue


PAINTED = """<title>Paint</title><body style="margin:0">
<button onclick="document.body.style.background = 'rgb(220, 0, 0)'">Paint it red</button>"""


async def test_a_step_screenshot_shows_the_page_as_the_step_found_it(
    client: Client, sites: SiteServer, artifacts_root: Path, token: str
) -> None:
    """The picture of the step after an action is of the page that action left, however the
    screenshot is taken (from the video's frames here, as by default)."""
    path = "/paint/" + token.strip("[]").replace(" ", "-")
    sites.add_page(path, PAINTED)
    run = await client.run_task(
        f'{token} Click "Paint it red"', url=sites.url + path, wait_for_completion=True
    )
    assert run.status is RunStatus.completed, run.failure_reason
    steps = await client.get_run_steps(run.run_id)
    assert len(steps) == 2  # the click, then complete on the painted page
    before, after = [await mean_colour(artifacts_root / str(s.screenshot_key)) for s in steps]
    assert min(before) > 200, before  # white
    assert after[0] > 150 and after[1] < 60 and after[2] < 60, after  # red


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
    key = await steps._screenshot(page, "step-001.jpg", recorder=None)
    assert key is not None
    size = page.viewport_size
    assert size is not None
    assert jpeg_size(runtime.artifacts.path(key).read_bytes()) == (size["width"], size["height"])
    # The broken session was dropped: the next screenshot makes a new one.
    assert steps._cdp.get(page) is not gone
