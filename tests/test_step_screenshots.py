"""Each step's screenshot (now captured while the model decides) is a JPEG of the viewport."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.browser.host import VIEWPORT


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
