"""Long runs continue as new before their history grows large, and lose nothing doing so.

The server here suggests continue-as-new after a few dozen events (Temporal's own setting,
`limit.historyCount.suggestContinueAsNew`), so an ordinary form task crosses several
executions; the workflow honours the suggestion as it would at Temporal's default thresholds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.devserver import DevServer
from wayfinder.settings import Settings

SUGGEST_AFTER_EVENTS = 12


@pytest.fixture(scope="module")
async def short_history_client(settings: Settings) -> AsyncIterator[Client]:
    config = {"limit.historyCount.suggestContinueAsNew": str(SUGGEST_AFTER_EVENTS)}
    async with DevServer(dynamic_config=config) as server:
        own = settings.model_copy(update={"temporal_address": server.address})
        async with await Client.connect(settings=own, run_worker=True) as client:
            yield client


async def test_a_run_continues_as_new_and_finishes_with_its_whole_step_log(
    short_history_client: Client, sites: SiteServer, token: str
) -> None:
    client = short_history_client
    result = await client.run_task(
        f'{token} Fill "Mary Somerville" into "Name", fill "mary@example.com" into "Email", '
        'select "Billing" from "Topic", fill "Continue as new." into "Message", '
        'check "I agree", then click "Send".',
        url=f"{sites.url}/contact",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    executions = [
        execution
        async for execution in client.temporal.list_workflows(f"WorkflowId = '{result.run_id}'")
    ]
    continued = [e for e in executions if e.status == WorkflowExecutionStatus.CONTINUED_AS_NEW]
    assert continued, "the run never continued as new"
    steps = await client.get_run_steps(result.run_id)
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    assert result.step_count == len(steps)
    # One model call per answer (an answer may hold several actions), across executions.
    assert result.usage.model_calls >= len({s.snapshot_key for s in steps})
    submitted = [s for s in sites.submissions if s.get("message") == "Continue as new."]
    assert len(submitted) == 1
    assert (await client.get_run(result.run_id)).status is RunStatus.completed
