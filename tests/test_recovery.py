"""Runs survive the death of what they run on: real processes, killed for real.

Slow by nature (Temporal's timers have to notice a dead host), so they live in this module.
Each test starts its own worker processes on its own task queue; two workers are two hosts
with separate WAYFINDER_HOME directories, so a checkpoint can only travel through Temporal.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.portal import CLAIM, add_portal, claim_task, claim_values
from tests.fixtures.sites import SiteRequest, SiteServer
from tests.fixtures.waiting import final_run
from tests.fixtures.worker_process import WorkerProcess
from wayfinder import Client, RunStatus, StepRecord, TaskRunResponse
from wayfinder.devserver import DevServer, free_port
from wayfinder.llm.prompts import recovered_note, retried_step_note
from wayfinder.settings import Settings

STEP_DELAY = 1.5
"""Seconds the fake model takes per answer here: long enough to kill a worker mid-step."""
SIGNED_IN = 3
"""Steps of the task's first answer (username, password, "Log in"): once they are logged, the
answer that fills and submits the claim is under way."""
RUN_LIMIT = 120.0


@pytest.fixture
def portal(sites: SiteServer) -> SiteServer:
    add_portal(sites)
    return sites


@pytest.fixture
async def queue_client(client: Client, queue: str) -> AsyncIterator[Client]:
    """The session's Temporal connection, starting runs on this test's queue."""
    yield Client(client.temporal, task_queue=queue)


async def _steps_at_least(client: Client, run_id: str, count: int) -> list[StepRecord]:
    async with asyncio.timeout(RUN_LIMIT):
        while True:
            steps = await client.get_run_steps(run_id)
            if len([s for s in steps if s.action_type != "recover"]) >= count:
                return steps
            await asyncio.sleep(0.1)


def _assert_claim_filed_once(sites: SiteServer, token: str) -> None:
    filed = [s for s in sites.submissions if s.get("form") == "claim"]
    mine = [s for s in filed if s.get("description") == CLAIM["description"] + " " + token]
    assert len(mine) == 1, f"expected one claim, got {mine}"
    claim = mine[0]
    assert claim["full_name"] == CLAIM["full_name"]
    assert claim["policy"] == CLAIM["policy"]
    assert claim["email"] == CLAIM["email"]
    assert claim["phone"] == CLAIM["phone"]
    assert claim["incident_date"] == CLAIM["incident_date"]
    assert claim["claim_type"] == "water"


def _assert_step_log_intact(run: TaskRunResponse, steps: list[StepRecord]) -> None:
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    recoveries = [s for s in steps if s.action_type == "recover"]
    assert len(recoveries) == run.recoveries
    assert run.step_count == len(steps) - len(recoveries)


async def _start_claim(
    client: Client,
    portal: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
    delay: float = STEP_DELAY,
) -> str:
    """Start the claims task, slowed down so that a process can be killed in the middle."""
    fake_model.delay(token, delay)
    run = await client.run_task(claim_task(claim_values(token)), url=f"{portal.url}/portal/login")
    return run.run_id


async def _assert_recovered_once(
    client: Client, portal: SiteServer, run_id: str, token: str
) -> StepRecord:
    """The run completed after one recovery, its step log intact and the claim filed once.

    Returns the step-log entry of the recovery.
    """
    final = await final_run(client, run_id)
    assert final.status is RunStatus.completed, final.failure_reason
    assert final.recoveries == 1
    steps = await client.get_run_steps(run_id)
    _assert_step_log_intact(final, steps)
    _assert_claim_filed_once(portal, token)
    return next(s for s in steps if s.action_type == "recover")


async def _model_calls_at_least(fake_model: FakeAnthropicServer, token: str, count: int) -> None:
    async with asyncio.timeout(RUN_LIMIT):
        while True:
            if len(fake_model.requests(token)) >= count:
                return
            await asyncio.sleep(0.1)


async def test_worker_killed_mid_run_the_run_completes_on_another(
    queue_client: Client,
    portal: SiteServer,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    token: str,
) -> None:
    # The answer that fills the claim (the second) is held until the first worker is dead:
    # the run waits there while the second worker starts, however long a loaded machine
    # takes to start one (10-16 s at load 20 on 2 cores, longer than the whole run takes).
    fake_model.script(token, [{}, {"delay": RUN_LIMIT}])
    first = await new_worker("host-a").start()
    run_id = await _start_claim(queue_client, portal, fake_model, token, delay=0)
    await _model_calls_at_least(fake_model, token, 2)
    second = await new_worker("host-b").start()
    # Signed in on the first host: its checkpoint carries the session cookie.
    assert len(await queue_client.get_run_steps(run_id)) == SIGNED_IN
    first.kill()

    recovery = await _assert_recovered_once(queue_client, portal, run_id, token)
    assert "worker" in recovery.action.reason
    # The browser that carried on is the second host's: the first never got it back.
    assert second.chromium_pid() is not None


async def test_chromium_killed_mid_run_is_relaunched_on_the_same_worker(
    queue_client: Client,
    portal: SiteServer,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    token: str,
) -> None:
    worker = await new_worker("host").start()
    run_id = await _start_claim(queue_client, portal, fake_model, token)
    await _steps_at_least(queue_client, run_id, SIGNED_IN)
    chromium = worker.chromium_pid()
    assert chromium is not None
    os.kill(chromium, signal.SIGKILL)

    recovery = await _assert_recovered_once(queue_client, portal, run_id, token)
    assert "crash" in recovery.action.reason.lower() or "gone" in recovery.action.reason
    relaunched = worker.chromium_pid()
    assert relaunched is not None and relaunched != chromium


async def test_a_crashed_tab_is_rebuilt_in_the_same_chromium(
    queue_client: Client,
    portal: SiteServer,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    token: str,
) -> None:
    """The renderer dies (out of memory, a bad page), Chromium itself lives on."""
    worker = await new_worker("host").start()
    run_id = await _start_claim(queue_client, portal, fake_model, token)
    await _steps_at_least(queue_client, run_id, SIGNED_IN)
    chromium = worker.chromium_pid()
    for renderer in worker.renderer_pids():
        os.kill(renderer, signal.SIGKILL)

    recovery = await _assert_recovered_once(queue_client, portal, run_id, token)
    assert "crashed" in recovery.action.reason  # the tab, not Chromium: no relaunch needed
    assert chromium is not None and worker.chromium_pid() is not None


async def test_temporal_server_restarted_mid_run(
    tmp_path: Path,
    settings: Settings,
    portal: SiteServer,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    queue: str,
    token: str,
) -> None:
    """Its own server on a fixed port and an on-disk database, stopped and started again."""
    port = free_port()
    db = tmp_path / "temporal.db"
    server = await DevServer(db_file=db, port=port).start()
    try:
        fake_model.delay(token, STEP_DELAY)
        await new_worker("host", address=server.address).start()
        own = settings.model_copy(update={"temporal_address": server.address, "task_queue": queue})
        async with await Client.connect(settings=own, run_worker=False) as client:
            run = await client.run_task(
                claim_task(claim_values(token)), url=f"{portal.url}/portal/login"
            )
            await _steps_at_least(client, run.run_id, 3)
            await server.stop()
            await asyncio.sleep(2)
            server = await DevServer(db_file=db, port=port).start()
            final = await final_run(client, run.run_id)
        assert final.status is RunStatus.completed, final.failure_reason
        _assert_claim_filed_once(portal, token)
    finally:
        await server.stop()


async def test_a_retried_step_is_told_its_action_may_have_happened(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """Temporal retries a step that failed (here its model call); the retry looks afresh."""
    fake_model.script(token, [{"status": 500}])
    result = await client.run_task(
        f"{token} Get the title of the top post", url=f"{sites.url}/news", wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    first, second = fake_model.requests(token)[:2]
    note = retried_step_note()  # the failed attempt never got as far as acting
    assert note not in json.dumps(first)
    assert note in json.dumps(second)


async def test_the_model_is_told_which_action_was_cut_off(
    queue_client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    token: str,
) -> None:
    """The host dies while an action is under way: the next step names that action."""
    requested = threading.Event()
    path = f"/report-{uuid.uuid4().hex[:8]}"

    def slow_report(request: SiteRequest) -> str:
        requested.set()
        time.sleep(5)
        return "<!doctype html><title>Report</title><h1>Quarterly report</h1>"

    sites.add_page(
        path,
        "<!doctype html><title>Reports</title><h1>Reports</h1>"
        f'<p><a href="{path}/q3">Quarterly report</a></p>',
    )
    sites.add_page(f"{path}/q3", slow_report)
    first = await new_worker("host-a").start()
    run = await queue_client.run_task(
        f'{token} Click "Quarterly report", then get the heading', url=f"{sites.url}{path}"
    )
    await new_worker("host-b").start()
    await asyncio.to_thread(requested.wait, RUN_LIMIT)
    first.kill()

    final = await final_run(queue_client, run.run_id)
    assert final.status is RunStatus.completed, final.failure_reason
    recovery = next(
        s for s in await queue_client.get_run_steps(run.run_id) if s.action_type == "recover"
    )
    assert "Quarterly report" in recovery.action.interrupted
    told = [
        r
        for r in fake_model.requests(token)
        if recovered_note(recovery.action.reason, recovery.action.interrupted)
        in json.dumps(r)
    ]
    assert len(told) == 1
