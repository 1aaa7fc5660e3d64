"""Building and running Wayfinder workers, the queues of this process, and its launch slots.

Three kinds of worker poll on behalf of one process:
- the shared-queue worker (`wayfinder` by default, or any queue a team gives the plugin) runs
  `TaskRunWorkflow`, and the team's own workflows and activities if it has any;
- the launch worker (`<shared queue>-launch`) runs only `launch_browser`. Its activity slots
  come from `LaunchSlotSupplier`: before each poll it waits until this process's `BrowserHost`
  has room for one more context (live contexts + reserved launches < WAYFINDER_MAX_CONCURRENT_RUNS).
  A process at its limit therefore does not take launches at all: they wait in Temporal's queue,
  where another process with room picks them up, instead of failing. Keeping launches off the
  shared queue means this throttle never holds up a team's own activities;
- the host-queue worker (`wayfinder-host-<uuid>`) runs the activities that need a browser this
  process holds. Its name is unique to the process, so Temporal routes a run's later browser
  activities back here (the "worker-specific task queues" pattern). It has a fixed number of
  slots, `host_activity_slots(limit)`, larger than any number of host tasks its runs can have
  at once, so a live host never leaves a task waiting: host activities have a 4 s
  schedule-to-start timeout, and one left waiting would be taken for a dead host.
`WayfinderPlugin` starts the last two beside the first; this module names and builds them.
"""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client
from temporalio.worker import (
    CustomSlotSupplier,
    FixedSizeSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
    Worker,
    WorkerTuner,
)

from wayfinder.browser.limit import ContextLimit

HOST_QUEUE_PREFIX = "wayfinder-host-"

HOST_TASKS_PER_RUN = 2
"""Host tasks one run can have at once: the current one, plus one still finishing after it was
canceled or timed out (the workflow moves on to the next, or to `close_browser`, meanwhile)."""

HOST_SPARE_SLOTS = 2
"""Room for a relaunch or checkpoint task on top of that."""

LAUNCH_POLLERS = 1
"""Polls of the launch queue at once. Each holds a launch reservation while it waits, so one is
enough: a launch is short and the poller polls again as soon as it has one."""


def new_host_queue() -> str:
    return f"{HOST_QUEUE_PREFIX}{uuid.uuid4().hex[:12]}"


def is_host_queue(task_queue: str) -> bool:
    return task_queue.startswith(HOST_QUEUE_PREFIX)


def host_activity_slots(max_runs: int) -> int:
    """Activity slots of the host worker of a process holding at most `max_runs` contexts."""
    return max_runs * HOST_TASKS_PER_RUN + HOST_SPARE_SLOTS


class LaunchSlotSupplier(CustomSlotSupplier):
    """The launch worker's activity slots: one per browser context its host still has room for.

    The SDK calls `reserve_slot` on the event loop before it polls, but `release_slot` from its
    own threads, so releases are handed back to the loop, where the host's counts live.
    """

    def __init__(self, limit: ContextLimit) -> None:
        self._limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outstanding = 0
        self._closed = False

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        self._loop = asyncio.get_running_loop()
        await self._limit.reserve()
        self._outstanding += 1
        return SlotPermit()

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        # Eager dispatch would bypass the wait, and a launch never runs on the workflow's own
        # queue anyway: always go through the queue.
        return None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        pass  # the reservation already counts; the launch's `open` turns it into a context

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        if self._closed:
            return
        self._outstanding -= 1
        self._limit.release()

    def close(self) -> None:
        """The worker has stopped: give back the reservations the SDK will never release
        (a poll cut short by shutdown is not always released)."""
        self._closed = True
        for _ in range(self._outstanding):
            self._limit.release()
        self._outstanding = 0


def launch_tuner(supplier: LaunchSlotSupplier) -> WorkerTuner:
    """A tuner for the launch worker: activity slots from `supplier`, little of anything else."""
    return WorkerTuner.create_composite(
        workflow_supplier=FixedSizeSlotSupplier(1),
        activity_supplier=supplier,
        local_activity_supplier=FixedSizeSlotSupplier(1),
        nexus_supplier=FixedSizeSlotSupplier(1),
    )


def build_worker(client: Client, task_queue: str, **worker_options: object) -> Worker:
    """A shared-queue worker. The client must carry `WayfinderPlugin`, which adds the rest."""
    from wayfinder.plugin import WayfinderPlugin

    plugins = client.config().get("plugins", [])
    if not any(isinstance(plugin, WayfinderPlugin) for plugin in plugins):
        raise ValueError(
            "the Temporal client has no WayfinderPlugin: connect it with "
            "`Client.connect(..., plugins=[WayfinderPlugin()])` or use `wayfinder.Client`"
        )
    return Worker(client, task_queue=task_queue, **worker_options)  # type: ignore[arg-type]
