"""WayfinderPlugin: Wayfinder inside a team's own Temporal client and workers.

Give it to `temporalio.client.Client.connect(plugins=[WayfinderPlugin()])`. The client then
uses the pydantic data converter, and every `Worker` built from that client runs Wayfinder's
workflows, and starts beside it a launch worker on `<its queue>-launch` (`launch_browser`,
polled only while this process has room for another browser context) and, once per process,
the browser-host worker. `wayfinder.worker` explains the three.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker, WorkerConfig

from wayfinder.activities.browser import BrowserActivities
from wayfinder.activities.contracts import is_launch_queue, launch_queue
from wayfinder.activities.error_code import ErrorCodeActivities
from wayfinder.activities.extract import ExtractActivities
from wayfinder.activities.runtime import ActivityRuntime
from wayfinder.activities.script import ScriptActivities
from wayfinder.activities.session import SessionActivities
from wayfinder.activities.step import StepActivities
from wayfinder.activities.totp import TotpActivities
from wayfinder.activities.verify import VerifyActivities
from wayfinder.activities.webhook import WebhookActivities
from wayfinder.errors import CompanionWorkerError
from wayfinder.settings import Settings, get_settings
from wayfinder.worker import (
    LAUNCH_POLLERS,
    LaunchSlotSupplier,
    host_activity_slots,
    is_host_queue,
    launch_tuner,
    new_host_queue,
)
from wayfinder.workflows.browser_session import BrowserSessionWorkflow
from wayfinder.workflows.published import PublishedWorkflowEntity
from wayfinder.workflows.script_run import ScriptRunWorkflow
from wayfinder.workflows.task_run import TaskRunWorkflow
from wayfinder.workflows.totp_mailbox import TotpMailboxWorkflow
from wayfinder.workflows.webhook import WebhookDeliveryWorkflow

PLUGIN_NAME = "wayfinder.WayfinderPlugin"

log = logging.getLogger(__name__)

WORKFLOWS = (
    TaskRunWorkflow,
    BrowserSessionWorkflow,
    WebhookDeliveryWorkflow,
    TotpMailboxWorkflow,
    PublishedWorkflowEntity,
    ScriptRunWorkflow,
)
"""Every workflow Wayfinder registers on its shared task queue (also what a replay needs)."""



def _pydantic_converter(existing: DataConverter | None) -> DataConverter:
    """Switch to pydantic payloads, keeping any codec (encryption, compression) already set."""
    base = existing or DataConverter.default
    return dataclasses.replace(base, payload_converter_class=PydanticPayloadConverter)


@dataclasses.dataclass
class _Companion:
    """A worker the plugin runs beside the team's shared workers, while any of them runs."""

    worker: Worker
    task: asyncio.Task[None]
    users: int = 1

    async def stop(self) -> None:
        if not self.task.done():
            await self.worker.shutdown()
        # A companion that crashed was reported when it did (see `_supervised`).
        await asyncio.gather(self.task, return_exceptions=True)


class WayfinderPlugin(SimplePlugin):
    """Registers Wayfinder's workflows and activities on a team's workers."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(PLUGIN_NAME, data_converter=_pydantic_converter)
        self.settings = settings or get_settings()
        self.runtime = ActivityRuntime.create(self.settings, new_host_queue())
        browser = BrowserActivities(self.runtime)
        error_codes = ErrorCodeActivities(self.runtime)
        session = SessionActivities(self.runtime)
        script = ScriptActivities(self.runtime)
        self._launch_activities: list[Callable[..., Any]] = [browser.launch_browser]
        self._host_activities: list[Callable[..., Any]] = [
            # Launch is also on the host queue: a Chromium that crashed under a live worker
            # is relaunched on that same worker.
            browser.launch_browser,
            StepActivities(self.runtime).take_step,
            VerifyActivities(self.runtime).verify_completion,
            ExtractActivities(self.runtime).extract_output,
            browser.close_browser,
            session.hold_browser,
            session.run_is_open,
            error_codes.map_error_code,
            TotpActivities(self.runtime).enter_verification_code,
            script.publish_script,
            script.run_script_step,
            script.extract_by_plan,
        ]
        # Activities that need no browser run on the workflows' own task queue.
        self._shared_activities: list[Callable[..., Any]] = [
            WebhookActivities(self.runtime).deliver_webhook,
            error_codes.map_error_code,
        ]
        self._host: _Companion | None = None
        self._launchers: dict[str, _Companion] = {}
        self._slot_suppliers: dict[str, LaunchSlotSupplier] = {}

    @property
    def host_queue(self) -> str:
        return self.runtime.host_queue

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        task_queue = config.get("task_queue", "")
        if is_host_queue(task_queue):
            config["activities"] = [*config.get("activities", []), *self._host_activities]
            config["max_concurrent_activities"] = host_activity_slots(
                self.settings.max_concurrent_runs
            )
            # Send each heartbeat as it comes rather than at 80% of the timeout: the host
            # heartbeat timeout is a few seconds (it is how a dead host is noticed), and a
            # step's note of the action it is about to take must reach Temporal before the
            # action does (activities beat every HEARTBEAT_INTERVAL, so this is no flood).
            config["max_heartbeat_throttle_interval"] = timedelta(0)
        elif is_launch_queue(task_queue):
            supplier = LaunchSlotSupplier(self.runtime.host.limit)
            self._slot_suppliers[task_queue] = supplier
            config["activities"] = [*config.get("activities", []), *self._launch_activities]
            config["tuner"] = launch_tuner(supplier)
            config["max_concurrent_activity_task_polls"] = LAUNCH_POLLERS
        else:
            config["workflows"] = [*config.get("workflows", []), *WORKFLOWS]
            config["activities"] = [*config.get("activities", []), *self._shared_activities]
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        if is_host_queue(worker.task_queue) or is_launch_queue(worker.task_queue):
            await next(worker)
            return
        self._host = self._start(self._host, worker.client, self.host_queue)
        queue = launch_queue(worker.task_queue)
        self._launchers[queue] = self._start(self._launchers.get(queue), worker.client, queue)
        try:
            await self._supervised(worker, next(worker), self._host, self._launchers[queue])
        finally:
            await self._stop_launcher(queue)
            await self._stop_host()

    async def _supervised(
        self, worker: Worker, running: Awaitable[None], *companions: _Companion
    ) -> None:
        """Run the shared worker; if a companion stops under it, stop it too and say why.

        Without the host worker no run's browser can be reached, and without the launch worker
        no run starts: a shared worker polling on without them would look healthy while every
        run waited. So the failure is logged and raised where the team's `worker.run()` sees it.
        """
        main = asyncio.ensure_future(running)
        try:
            await asyncio.wait(
                [main, *(companion.task for companion in companions)],
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopped = next((c for c in companions if c.task.done()), None)
            if main.done() or stopped is None:
                await main
                return
            error = None if stopped.task.cancelled() else stopped.task.exception()
            message = (
                f"Wayfinder's worker on {stopped.worker.task_queue} stopped "
                f"({error or 'it exited'}); stopping the worker on {worker.task_queue} too"
            )
            log.error(message)
            await worker.shutdown()
            await main
            raise CompanionWorkerError(message) from error
        finally:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await main

    def _start(self, running: _Companion | None, client: Client, task_queue: str) -> _Companion:
        """Start the companion worker on `task_queue`, or count one more user of it."""
        if running is not None:
            running.users += 1
            return running
        # Normally the client carries this plugin and configures the worker through it.
        on_client = self in client.config().get("plugins", [])
        worker = Worker(client, task_queue=task_queue, plugins=[] if on_client else [self])
        return _Companion(worker=worker, task=asyncio.create_task(worker.run()))

    async def _stop_launcher(self, task_queue: str) -> None:
        launcher = self._launchers[task_queue]
        launcher.users -= 1
        if launcher.users:
            return
        del self._launchers[task_queue]
        await launcher.stop()
        supplier = self._slot_suppliers.pop(task_queue, None)
        if supplier is not None:
            supplier.close()

    async def _stop_host(self) -> None:
        """The last shared worker of the process stops the host worker and closes Chromium."""
        host = self._host
        if host is None:
            return
        host.users -= 1
        if host.users:
            return
        self._host = None
        await host.stop()
        await self.runtime.aclose()
