"""Many runs on one worker: each in its own browser context, never more than the limit at once.

Each test runs its own worker (own settings, own task queue, own Chromium) so that the session
worker does not take its runs; the fake model is slowed down for these runs so that they really
overlap.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

import pytest
from temporalio.api.enums.v1 import PendingActivityState

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteRequest, SiteResponse, SiteServer
from tests.fixtures.waiting import final_run, run_until
from wayfinder import Client, RunStatus, TaskRunResponse, WayfinderPlugin
from wayfinder.browser.host import BrowserHost
from wayfinder.browser.limit import ContextLimit
from wayfinder.settings import Settings

MODEL_DELAY = 0.8
"""Seconds each model call of these runs takes: long enough for the runs to overlap."""


@asynccontextmanager
async def worker_with_limit(
    settings: Settings, max_runs: int, task_queue: str | None = None
) -> AsyncIterator[tuple[Client, BrowserHost]]:
    """A client with its own in-process worker (on a fresh task queue unless given one), and
    that worker's host: a worker process of its own, as far as Temporal can tell."""
    own = settings.model_copy(
        update={
            "task_queue": task_queue or f"wayfinder-limit-{uuid.uuid4().hex[:8]}",
            "max_concurrent_runs": max_runs,
        }
    )
    client = await Client.connect(settings=own, run_worker=True)
    try:
        plugin = next(
            p for p in client.temporal.config()["plugins"] if isinstance(p, WayfinderPlugin)
        )
        yield client, plugin.runtime.host
    finally:
        await client.close()


def _locker(request: SiteRequest) -> SiteResponse:
    """Give this browser a locker: a cookie named after it."""
    name = request.params["name"]
    body = (
        f"<!doctype html><title>Locker {escape(name)}</title><h1>Locker {escape(name)}</h1>"
        '<p>Your locker is ready.</p><p><a href="/lockers">Open my locker room</a></p>'
    )
    return SiteResponse(body, headers={"set-cookie": f"locker_{name}=1; Path=/"})


def _locker_room(request: SiteRequest) -> str:
    """Every locker this browser holds, read from the cookies it sent."""
    cookies = [part.strip() for part in request.headers.get("cookie", "").split(";")]
    names = sorted(
        c.split("=")[0].removeprefix("locker_") for c in cookies if c.startswith("locker_")
    )
    return (
        "<!doctype html><title>Locker room</title><h1>Locker room</h1>"
        f"<p>Lockers in this browser: {escape(', '.join(names) or 'none')}</p>"
    )


@pytest.fixture(scope="module")
def lockers(sites: SiteServer) -> str:
    sites.add_page("/locker/{name}", _locker)
    sites.add_page("/lockers", _locker_room)
    return f"{sites.url}/locker"


async def _run_all(client: Client, requests: list[tuple[str, str]]) -> list[TaskRunResponse]:
    """Start every run at once, then wait for all of them to end."""
    started = [await client.run_task(prompt, url=url) for prompt, url in requests]
    return list(await asyncio.gather(*(final_run(client, run.run_id) for run in started)))


async def test_ten_runs_at_once_each_in_its_own_context(
    settings: Settings, fake_model: FakeAnthropicServer, lockers: str, token: str
) -> None:
    fake_model.delay(token, MODEL_DELAY)
    names = [f"L{i}{uuid.uuid4().hex[:4]}" for i in range(10)]
    async with worker_with_limit(settings, max_runs=10) as (client, host):
        runs = await _run_all(
            client,
            [
                (
                    f'{token} Click "Open my locker room", then tell me which lockers are in '
                    "this browser",
                    f"{lockers}/{name}",
                )
                for name in names
            ],
        )
        assert host.limit.peak == 10, "the ten runs did not all have a browser at the same time"
        assert host.limit.live == 0
    for name, run in zip(names, runs, strict=True):
        assert run.status is RunStatus.completed, run.failure_reason
        # Each run sees its own cookie and nobody else's.
        assert run.output == f"Lockers in this browser: {name}"


async def test_runs_beyond_the_limit_wait_for_a_free_context(
    settings: Settings, fake_model: FakeAnthropicServer, sites: SiteServer, token: str
) -> None:
    fake_model.delay(token, MODEL_DELAY)
    async with worker_with_limit(settings, max_runs=2) as (client, host):
        runs = await _run_all(
            client, [(f"{token} Get the title of the top post", f"{sites.url}/news")] * 4
        )
        assert host.limit.peak == 2
        assert host.limit.live == 0
    assert [run.status for run in runs] == [RunStatus.completed] * 4, [
        run.failure_reason for run in runs
    ]


async def test_a_launch_waits_in_the_queue_for_a_worker_with_room(
    settings: Settings, fake_model: FakeAnthropicServer, sites: SiteServer, token: str
) -> None:
    fake_model.delay(token, 2.0)
    prompt, url = f"{token} Get the title of the top post", f"{sites.url}/news"
    async with worker_with_limit(settings, max_runs=1) as (full, full_host):
        first = await full.run_task(prompt, url=url)
        await run_until(full, first.run_id, lambda run: run.status is RunStatus.running)
        second = await full.run_task(prompt, url=url)
        await asyncio.sleep(1.5)
        # The full worker has not taken the second launch: it waits in Temporal's queue.
        described = await full.temporal.get_workflow_handle(second.run_id).describe()
        pending = described.raw_description.pending_activities
        assert [(a.activity_type.name, a.state) for a in pending] == [
            ("launch_browser", PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED)
        ]
        assert pending[0].attempt == 1
        # A second worker with room takes it.
        async with worker_with_limit(settings, max_runs=1, task_queue=full.task_queue) as (
            _,
            spare_host,
        ):
            results = [await final_run(full, run.run_id) for run in (first, second)]
            assert spare_host.limit.peak == 1
        assert full_host.limit.peak == 1
    assert [run.status for run in results] == [RunStatus.completed] * 2, [
        run.failure_reason for run in results
    ]


async def test_the_limit_counts_a_launch_once_and_passes_a_dead_context_on() -> None:
    limit = ContextLimit(2)
    await limit.reserve()
    limit.opened("a", reserved=True)  # the reservation became run a's context
    await limit.reserve()  # still room for one: a is not counted twice
    waiting = asyncio.create_task(limit.reserve())
    await asyncio.sleep(0.05)
    assert not waiting.done(), "a third launch got room with two places taken"
    limit.launch_done("a")
    limit.release()  # a's launch is over; a itself still holds its place
    await asyncio.sleep(0.05)
    assert not waiting.done()
    limit.hand_over("a")  # a's browser died and is being rebuilt: its place is kept
    await asyncio.sleep(0.05)
    assert not waiting.done()
    limit.opened("a", reserved=True)
    limit.launch_done("a")
    limit.release()
    limit.closed("a")  # a's run ends: its place goes to the launch that waited
    await asyncio.wait_for(waiting, 1)
    assert limit.in_use == 2
