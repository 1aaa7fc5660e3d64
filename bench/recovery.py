"""What a recovery costs: kill -9 the worker holding a run's browser, time the way back.

Runs the claims-portal task (log in, fill eight fields, submit: eleven steps) on real worker
processes against the fake model, once undisturbed and once with the worker holding the browser
killed at step 5 while a second worker is alive; then once with Chromium killed under its
worker. Prints, from Temporal's own history of each run:
- seconds from the kill to the next `take_step` starting (on the other worker, or on the same
  one after a Chromium relaunch);
- the extra wall time the recovery cost the run, against the undisturbed run.

    .venv/bin/python -m bench.recovery [--repeat 3] [--delay 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType

from bench.stack import bench_stack
from tests.fixtures.portal import add_portal, claim_task, claim_values
from tests.fixtures.sites import SiteServer
from tests.fixtures.worker_process import WorkerProcess
from wayfinder import Client

KILL_AT_STEP = 5


async def _wait_steps(client: Client, run_id: str, count: int) -> None:
    while True:
        if len(await client.get_run_steps(run_id)) >= count:
            return
        await asyncio.sleep(0.05)


async def _step_starts(client: Client, run_id: str) -> list[datetime]:
    """When each take_step attempt started, from the run's history."""
    scheduled: dict[int, str] = {}
    starts: list[datetime] = []
    async for event in client.temporal.get_workflow_handle(run_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes = event.activity_task_started_event_attributes
            if scheduled.get(attributes.scheduled_event_id) == "take_step":
                starts.append(event.event_time.ToDatetime(tzinfo=UTC))
    return starts


async def _one_run(
    client: Client,
    sites: SiteServer,
    token: str,
    kill: Callable[[], None] | None,
) -> tuple[float, float | None]:
    """Wall time of one run, and seconds from the kill to the next step starting."""
    started = time.perf_counter()
    run = await client.run_task(claim_task(claim_values(token)), url=f"{sites.url}/portal/login")
    killed_at: datetime | None = None
    if kill is not None:
        await _wait_steps(client, run.run_id, KILL_AT_STEP - 1)
        killed_at = datetime.now(UTC)
        kill()
    while True:
        final = await client.get_run(run.run_id)
        if final.status.is_final:
            break
        await asyncio.sleep(0.1)
    wall = time.perf_counter() - started
    assert final.status == "completed", final.failure_reason
    if killed_at is None:
        return wall, None
    # The step that was in flight at the kill started before it; the first start after it is
    # the recovered step.
    after = [start for start in await _step_starts(client, run.run_id) if start > killed_at]
    return wall, (after[0] - killed_at).total_seconds()


async def main(repeat: int, delay: float) -> None:
    async with bench_stack() as stack:
        fake, sites, dev, home = stack.fake, stack.sites, stack.dev, stack.home
        add_portal(sites)
        client = await Client.connect(settings=stack.settings, run_worker=False)
        results: dict[str, list[tuple[float, float | None]]] = {
            "undisturbed": [],
            "worker killed": [],
            "chromium killed": [],
        }
        for index in range(repeat):
            queue = f"bench-recovery-{uuid.uuid4().hex[:8]}"
            client = Client(client.temporal, task_queue=queue)

            def worker(name: str, queue: str = queue, index: int = index) -> WorkerProcess:
                return WorkerProcess(
                    temporal_address=dev.address,
                    task_queue=queue,
                    home=home / f"{index}-{name}",
                    model_url=fake.url,
                )

            token = f"[bench {uuid.uuid4().hex[:8]}]"
            fake.delay(token, delay)
            async with worker("a") as first:
                await _one_run(client, sites, token, None)  # launches its Chromium
                results["undisturbed"].append(await _one_run(client, sites, token, None))
                async with worker("b"):
                    results["worker killed"].append(
                        await _one_run(client, sites, token, first.kill)
                    )

            def kill_chromium(host: WorkerProcess) -> None:
                pid = host.chromium_pid()
                assert pid is not None, "the worker has no Chromium"
                os.kill(pid, signal.SIGKILL)

            async with worker("c") as only:
                await _one_run(client, sites, token, None)  # launches its Chromium
                results["chromium killed"].append(
                    await _one_run(client, sites, token, lambda: kill_chromium(only))
                )
    baseline = statistics.median(wall for wall, _ in results["undisturbed"])
    print(f"claims task, 11 steps, fake model answering in {delay:.2f} s; {repeat} runs each")
    print(f"{'case':<18}{'wall s':>9}{'extra s':>9}{'kill -> next step s':>22}")
    for case, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        gaps = [gap for _, gap in rows if gap is not None]
        gap_text = f"{statistics.median(gaps):.1f} (max {max(gaps):.1f})" if gaps else "-"
        print(f"{case:<18}{wall:>9.1f}{wall - baseline:>9.1f}{gap_text:>22}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.delay))
