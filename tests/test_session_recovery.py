"""A browser session outlives the worker holding its browser: a real process, killed for real.

Its own module because it is slow (Temporal's heartbeat timeout has to notice the dead host) and
because it runs its own worker processes on its own task queue, as `test_recovery.py` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.fixtures.portal import add_portal
from tests.fixtures.sites import SiteServer
from tests.fixtures.waiting import session_until
from tests.fixtures.worker_process import WorkerProcess
from tests.test_sessions import LOGIN_TASK, claim_only_task
from wayfinder import BrowserSessionStatus, Client, RunStatus

WAIT_LIMIT = 120.0
REBUILD_LIMIT = 30.0
"""Seconds from the kill to the rebuilt browser (16 measured on a loaded machine: the 6 s
heartbeat timeout, then a first Chromium launch on the other host)."""


async def test_session_whose_host_dies_is_restored_on_another_with_its_cookies(
    client: Client,
    sites: SiteServer,
    new_worker: Callable[[str], WorkerProcess],
    queue: str,
    token: str,
) -> None:
    add_portal(sites)
    on_queue = Client(client.temporal, task_queue=queue)
    first_host = await new_worker("host-a").start()
    session = await on_queue.create_browser_session(timeout=10)
    session_id = session.browser_session_id
    login = await on_queue.run_task(
        LOGIN_TASK,
        url=f"{sites.url}/portal/login",
        browser_session_id=session_id,
        wait_for_completion=True,
    )
    assert login.status is RunStatus.completed, login.failure_reason

    second_host = await new_worker("host-b").start()
    assert second_host.chromium_pid() is None
    first_host.kill()
    killed = time.monotonic()
    # Nothing runs in the session now: its hold on the browser is what notices the dead host.
    rebuilt = await session_until(on_queue, session_id, lambda s: s.rebuilds >= 1)
    # The hold's heartbeat timeout (6 s), then a launch restoring the checkpoint.
    assert time.monotonic() - killed < REBUILD_LIMIT
    assert rebuilt.status is BrowserSessionStatus.running
    assert second_host.chromium_pid() is not None

    claim = await on_queue.run_task(
        claim_only_task(token),
        url=f"{sites.url}/portal/claim",
        browser_session_id=session_id,
        wait_for_completion=True,
    )
    assert claim.status is RunStatus.completed, claim.failure_reason
    assert claim.recoveries == 0
    steps = await on_queue.get_run_steps(claim.run_id)
    assert steps and all("/portal/login" not in step.url for step in steps)
    filed = [s for s in sites.submissions if s.get("description") == f"Kitchen fire {token}"]
    assert len(filed) == 1

    closed = await on_queue.close_browser_session(session_id)
    assert closed.status is BrowserSessionStatus.closed
    assert closed.rebuilds == 1
