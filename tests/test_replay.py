"""Histories of today's runs replay against the current workflow code: a task run, its
published workflow's entity, and a code rerun. A change that makes a workflow
non-deterministic (running workflows could not resume on a new worker) fails here."""

from __future__ import annotations

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.plugin import WORKFLOWS
from wayfinder.workflows.inputs import TaskRunInput


@pytest.fixture(scope="module")
async def histories(client: Client, sites: SiteServer) -> dict[str, WorkflowHistory]:
    """A published task run (three steps and an output) and a code rerun of it."""
    run = await client.run_task(
        '[replay] Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        url=f"{sites.url}/shop",
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.workflow_id is not None
    rerun = await client.run_workflow(run.workflow_id, wait_for_completion=True)
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    ids = {"task run": run.run_id, "entity": run.workflow_id, "rerun": rerun.run_id}
    return {
        name: await client.temporal.get_workflow_handle(workflow_id).fetch_history()
        for name, workflow_id in ids.items()
    }


@pytest.mark.parametrize("name", ["task run", "entity", "rerun"])
async def test_a_history_replays_against_the_current_workflows(
    client: Client, histories: dict[str, WorkflowHistory], name: str
) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=client.temporal.data_converter)
    result = await replayer.replay_workflow(histories[name])  # raises when not deterministic
    assert result.replay_failure is None


@workflow.defn(name="TaskRunWorkflow", sandboxed=False)
class ChangedTaskRun:
    """A TaskRunWorkflow changed the way a careless edit would: a timer before anything."""

    @workflow.run
    async def run(self, run: TaskRunInput) -> None:
        await workflow.sleep(1)


async def test_a_changed_workflow_fails_the_replay(
    client: Client, histories: dict[str, WorkflowHistory]
) -> None:
    replayer = Replayer(workflows=[ChangedTaskRun], data_converter=client.temporal.data_converter)
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(histories["task run"])
