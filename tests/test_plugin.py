"""WayfinderPlugin on a team's own Temporal client and worker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import temporalio.client
from temporalio.worker import Worker

from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import WATERING_CAN_PRICE
from tests.fixtures.team_workflow import PriceCheckWorkflow
from wayfinder import WayfinderPlugin
from wayfinder.errors import CompanionWorkerError
from wayfinder.settings import Settings
from wayfinder.worker import build_worker


async def test_team_workflow_runs_a_task_as_a_child(settings: Settings, sites: SiteServer) -> None:
    plugin = WayfinderPlugin(settings)
    assert settings.temporal_address
    team_client = await temporalio.client.Client.connect(
        settings.temporal_address, plugins=[plugin]
    )
    queue = f"team-{uuid.uuid4().hex[:8]}"
    async with Worker(team_client, task_queue=queue, workflows=[PriceCheckWorkflow]):
        summary = await team_client.execute_workflow(
            PriceCheckWorkflow.run, f"{sites.url}/shop", id=f"team-{uuid.uuid4()}", task_queue=queue
        )
        # The browser activities ran on this plugin's own host queue, and it has let go of them.
        assert plugin.runtime.host.run_ids == []
    assert summary.startswith("completed: ")
    assert WATERING_CAN_PRICE in summary


def test_plugin_refuses_a_client_without_it(settings: Settings) -> None:
    class Bare:
        def config(self) -> dict[str, object]:
            return {"plugins": []}

    with pytest.raises(ValueError, match="no WayfinderPlugin"):
        build_worker(Bare(), "wayfinder")  # type: ignore[arg-type]


async def test_a_worker_whose_host_worker_stops_stops_too_and_says_why(settings: Settings) -> None:
    """Polling on without the browser host would look healthy while every run waited."""
    plugin = WayfinderPlugin(settings)
    assert settings.temporal_address
    team_client = await temporalio.client.Client.connect(
        settings.temporal_address, plugins=[plugin]
    )
    worker = Worker(team_client, task_queue=f"team-{uuid.uuid4().hex[:8]}")
    running = asyncio.create_task(worker.run())
    async with asyncio.timeout(30):
        while True:  # the host worker starts with the shared one
            host = plugin._host
            if host is not None:
                break
            await asyncio.sleep(0.05)
        await host.worker.shutdown()
        with pytest.raises(CompanionWorkerError, match=plugin.host_queue):
            await running
