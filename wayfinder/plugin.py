"""WayfinderPlugin: Wayfinder inside a team's own Temporal client and workers.

Give it to `temporalio.client.Client.connect(plugins=[WayfinderPlugin()])`. The client then
uses the pydantic data converter, and every `Worker` built from that client runs Wayfinder's
workflows and `launch_browser`, and starts this process's browser-host worker beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker, WorkerConfig

from wayfinder.activities.browser import BrowserActivities
from wayfinder.activities.extract import ExtractActivities
from wayfinder.activities.heartbeat import HEARTBEAT_INTERVAL
from wayfinder.activities.runtime import ActivityRuntime
from wayfinder.activities.step import StepActivities
from wayfinder.activities.verify import VerifyActivities
from wayfinder.settings import Settings, get_settings
from wayfinder.worker import is_host_queue, new_host_queue
from wayfinder.workflows.task_run import TaskRunWorkflow

PLUGIN_NAME = "wayfinder.WayfinderPlugin"


def _pydantic_converter(existing: DataConverter | None) -> DataConverter:
    """Switch to pydantic payloads, keeping any codec (encryption, compression) already set."""
    base = existing or DataConverter.default
    return dataclasses.replace(base, payload_converter_class=PydanticPayloadConverter)


class WayfinderPlugin(SimplePlugin):
    """Registers Wayfinder's workflows and activities on a team's workers."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(PLUGIN_NAME, data_converter=_pydantic_converter)
        self.settings = settings or get_settings()
        self.runtime = ActivityRuntime.create(self.settings, new_host_queue())
        browser = BrowserActivities(self.runtime)
        self._shared_activities: list[Callable[..., Any]] = [browser.launch_browser]
        self._host_activities: list[Callable[..., Any]] = [
            # Launch is also on the host queue: a Chromium that crashed under a live worker
            # is relaunched on that same worker.
            browser.launch_browser,
            StepActivities(self.runtime).take_step,
            VerifyActivities(self.runtime).verify_completion,
            ExtractActivities(self.runtime).extract_output,
            browser.close_browser,
        ]
        self._host_task: asyncio.Task[None] | None = None
        self._host_worker: Worker | None = None
        self._users = 0

    @property
    def host_queue(self) -> str:
        return self.runtime.host_queue

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        if is_host_queue(config.get("task_queue", "")):
            config["activities"] = [*config.get("activities", []), *self._host_activities]
            config["max_concurrent_activities"] = self.settings.max_concurrent_runs
            # Send heartbeats as often as activities beat, not at 80% of the timeout: the
            # host heartbeat timeout is a few seconds (it is how a dead host is noticed), and
            # the default throttling would leave a live one almost no margin.
            config["max_heartbeat_throttle_interval"] = timedelta(seconds=HEARTBEAT_INTERVAL)
        else:
            config["activities"] = [*config.get("activities", []), *self._shared_activities]
            config["workflows"] = [*config.get("workflows", []), TaskRunWorkflow]
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        if is_host_queue(worker.task_queue):
            await next(worker)
            return
        await self._acquire_host(worker.client)
        try:
            await next(worker)
        finally:
            await self._release_host()

    async def _acquire_host(self, client: Client) -> None:
        """Start this process's host worker with its first shared worker (reference-counted)."""
        self._users += 1
        if self._host_task is not None:
            return
        # Normally the client carries this plugin and configures the host worker through it.
        on_client = self in client.config().get("plugins", [])
        self._host_worker = Worker(
            client, task_queue=self.host_queue, plugins=[] if on_client else [self]
        )
        self._host_task = asyncio.create_task(self._host_worker.run())

    async def _release_host(self) -> None:
        self._users -= 1
        if self._users or self._host_task is None:
            return
        worker, task = self._host_worker, self._host_task
        self._host_worker = self._host_task = None
        if worker is not None:
            await worker.shutdown()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self.runtime.aclose()
