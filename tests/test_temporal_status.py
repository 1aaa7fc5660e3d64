"""Temporal's own view of a run tells the truth: its status, its search attributes, its listing.

What an operator sees in the Temporal UI or `temporal workflow list` must match what `get_run`
says, and `get_run` must still give every field of the final state once the workflow has closed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from tests.fixtures.child_outcome_workflow import ChildOutcomeWorkflow
from tests.fixtures.cli import cli_env, run_cli
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import TOP_STORY
from tests.fixtures.waiting import final_run, listed_run
from wayfinder import (
    Client,
    RunStatus,
    TaskRunRequest,
    TaskRunResponse,
    TaskRunWorkflow,
    WayfinderPlugin,
)
from wayfinder.devserver import temporal_cli
from wayfinder.errors import SearchAttributesMissingError
from wayfinder.search_attributes import ENGINE, STATUS, TITLE
from wayfinder.settings import Settings
from wayfinder.visibility import RunSummary

WAIT_LIMIT = 60.0
LIST_LIMIT = 1000
"""More than the whole session starts: a listing that must include a run is never cut short."""


async def _eventually(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` (a coroutine function) until it returns something truthy."""
    try:
        async with asyncio.timeout(WAIT_LIMIT):
            while not (found := await probe()):  # noqa: ASYNC110 - polling as a user would
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"{what} within {WAIT_LIMIT:g}s") from None
    return found


def _fail_with_rejected_key(fake: FakeAnthropicServer, token: str) -> dict[str, Any]:
    fake.script(match=token, responses=[{"status": 401}])
    return {"prompt": f"{token} Get the title of the top post", "path": "/news"}


def _terminate(fake: FakeAnthropicServer, token: str) -> dict[str, Any]:
    return {"prompt": f'{token} Click "Delete my account"', "path": "/news"}


def _run_out_of_steps(fake: FakeAnthropicServer, token: str) -> dict[str, Any]:
    return {"prompt": f'{token} Keep clicking "Next page"', "path": "/pages/1", "max_steps": 2}


@pytest.mark.parametrize(
    ("arrange", "status", "failure_type", "steps"),
    [
        (_fail_with_rejected_key, RunStatus.failed, "RunFailed", 0),
        (_terminate, RunStatus.terminated, "RunTerminated", None),
        (_run_out_of_steps, RunStatus.timed_out, "RunTimedOut", 2),
    ],
)
async def test_a_run_that_does_not_complete_ends_failed_in_temporal(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
    arrange: Callable[[FakeAnthropicServer, str], dict[str, Any]],
    status: RunStatus,
    failure_type: str,
    steps: int | None,
) -> None:
    case = arrange(fake_model, token)
    result = await client.run_task(
        case["prompt"],
        url=f"{sites.url}{case['path']}",
        max_steps=case.get("max_steps"),
        title=f"status {token}",
        wait_for_completion=True,
    )
    # run_task returns the final state: it never raises for a run that did not complete.
    assert result.status is status
    assert result.failure_reason
    if steps is not None:
        assert result.step_count == steps
    else:
        assert result.step_count and result.step_count >= 1
    assert result.screenshot_urls and result.finished_at

    handle = client.temporal.get_workflow_handle(result.run_id)
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.FAILED
    assert description.typed_search_attributes.get(STATUS) == status.value
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == failure_type
    assert cause.message == result.failure_reason
    assert cause.non_retryable

    # Every field survives the close: get_run reads it from the failure, not from a query.
    assert await client.get_run(result.run_id) == result


async def test_a_completed_run_ends_completed(client: Client, sites: SiteServer) -> None:
    result = await client.run_task(
        "Get the title of the top post",
        url=f"{sites.url}/news",
        title="Top story, for the record",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    description = await client.temporal.get_workflow_handle(result.run_id).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    attributes = description.typed_search_attributes
    assert attributes.get(STATUS) == "completed"
    assert attributes.get(TITLE) == "Top story, for the record"
    assert attributes.get(ENGINE) == "skyvern_v2"
    assert (await client.get_run(result.run_id)).output == TOP_STORY


async def test_a_canceled_run_ends_canceled_with_its_final_state(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """Waited for with `wait_for_completion`, found with `list_runs`, canceled with `cancel_run`."""
    fake_model.delay(match=token, seconds=1.0)
    title = f"cancel me {token}"
    waiting = asyncio.create_task(
        client.run_task(
            f'{token} Keep clicking "Next page"',
            url=f"{sites.url}/pages/1",
            title=title,
            wait_for_completion=True,
        )
    )

    async def running() -> RunSummary | None:
        return next(
            (r for r in await client.list_runs("running", LIST_LIMIT) if r.title == title), None
        )

    listed: RunSummary = await _eventually(running, "the run was never listed as running")
    run_id = listed.run_id

    async def stepped() -> bool:
        return ((await client.get_run(run_id)).step_count or 0) >= 1

    await _eventually(stepped, "the run never took a step")
    await client.cancel_run(run_id)
    result = await asyncio.wait_for(waiting, WAIT_LIMIT)

    assert result.run_id == run_id
    assert result.status is RunStatus.canceled
    assert result.failure_reason == "the run was canceled"
    assert result.step_count and result.step_count >= 1
    assert result.screenshot_urls and result.finished_at and result.title == title
    description = await client.temporal.get_workflow_handle(run_id).describe()
    assert description.status == WorkflowExecutionStatus.CANCELED
    assert description.typed_search_attributes.get(STATUS) == "canceled"
    assert await client.get_run(run_id) == result
    assert (await listed_run(client, run_id, "canceled")).status is RunStatus.canceled


async def test_the_bare_cancel_signal_ends_failed_as_run_canceled(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """The SDK ends a workflow Canceled only when Temporal asked for the cancellation: a run
    stopped by its `cancel` signal alone says so in its failure type, never "Completed"."""
    fake_model.delay(match=token, seconds=1.0)
    started = await client.run_task(
        f'{token} Keep clicking "Next page"', url=f"{sites.url}/pages/1"
    )

    async def stepped() -> bool:
        return ((await client.get_run(started.run_id)).step_count or 0) >= 1

    await _eventually(stepped, "the run never took a step")
    handle = client.temporal.get_workflow_handle(started.run_id)
    await handle.signal(TaskRunWorkflow.cancel)
    final = await final_run(client, started.run_id)
    assert final.status is RunStatus.canceled
    assert final.screenshot_urls and final.step_count
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "RunCanceled"


async def test_list_runs_filters_by_status_newest_first(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(match=f"{token} fail", responses=[{"status": 401}])
    failed = await client.run_task(
        f"{token} fail: Get the title of the top post",
        url=f"{sites.url}/news",
        wait_for_completion=True,
    )
    completed = await client.run_task(
        "Get the title of the top post",
        url=f"{sites.url}/news",
        title=f"listed {token}",
        wait_for_completion=True,
    )
    assert failed.status is RunStatus.failed and completed.status is RunStatus.completed

    listed_failed = await listed_run(client, failed.run_id, "failed")
    # Temporal's start time, a few milliseconds after the client's clock said created_at.
    assert abs(listed_failed.created_at - failed.created_at) < timedelta(seconds=5)
    assert listed_failed.finished_at is not None
    assert listed_failed.engine == "skyvern_v2"
    assert completed.run_id not in {
        r.run_id for r in await client.list_runs(status="failed", limit=LIST_LIMIT)
    }
    listed = await listed_run(client, completed.run_id, "completed")
    assert listed.title == f"listed {token}"
    assert failed.run_id not in {
        r.run_id for r in await client.list_runs(RunStatus.completed, LIST_LIMIT)
    }

    everything = await client.list_runs(limit=LIST_LIMIT)
    ids = [r.run_id for r in everything]
    assert ids.index(completed.run_id) < ids.index(failed.run_id)  # newest first
    assert [r.created_at for r in everything] == sorted(
        (r.created_at for r in everything), reverse=True
    )
    assert len(await client.list_runs(limit=1)) == 1
    with pytest.raises(ValueError, match="use one of: created, queued"):
        await client.list_runs(status="succeeded")


async def test_a_run_terminated_by_an_operator_is_listed_terminated(
    client: Client, token: str
) -> None:
    """Its search attribute still says queued; Temporal's status decides."""
    unserved = Client(client.temporal, task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")
    started = await unserved.run_task(f"{token} Get the title of the top post")
    assert (await listed_run(client, started.run_id, "queued")).status is RunStatus.queued
    await client.temporal.get_workflow_handle(started.run_id).terminate(reason="operator says no")
    listed = await listed_run(client, started.run_id, "terminated")
    assert listed.status is RunStatus.terminated
    ended = await client.get_run(started.run_id)
    assert ended.status is RunStatus.terminated
    assert "operator says no" in (ended.failure_reason or "")
    still_queued = await client.list_runs("queued", LIST_LIMIT)
    assert started.run_id not in {r.run_id for r in still_queued}


async def _register_namespace(client: Client, namespace: str) -> None:
    await client.temporal.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace,
            workflow_execution_retention_period=Duration(
                seconds=int(timedelta(days=1).total_seconds())
            ),
        )
    )


async def test_a_server_without_the_attributes_gets_a_fix_that_works(
    client: Client, settings: Settings, token: str
) -> None:
    """A team's own server: the error names the commands to run, and running them fixes it."""
    assert settings.temporal_address
    namespace = f"team-{uuid.uuid4().hex[:8]}"
    await _register_namespace(client, namespace)
    temporal = await temporalio.client.Client.connect(
        settings.temporal_address, namespace=namespace, plugins=[WayfinderPlugin(settings)]
    )
    team = Client(temporal, task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")

    async def refused() -> str | None:
        try:
            await team.run_task(f"{token} Get the title of the top post")
        except SearchAttributesMissingError as exc:
            return str(exc)
        except RPCError as exc:  # the new namespace is not visible to every service yet
            if "not found" not in exc.message.lower():
                raise
            return None
        raise AssertionError("the run started on a namespace without the search attributes")

    message: str = await _eventually(refused, "the namespace never became usable")
    with pytest.raises(SearchAttributesMissingError, match="search-attribute create"):
        await team.list_runs("failed")
    assert "WayfinderStatus" in message
    commands = [
        line.strip() for line in message.splitlines() if line.strip().startswith("temporal ")
    ]
    assert len(commands) == 3 and all(f"--namespace {namespace}" in c for c in commands)
    for command in commands:
        args = [*command.split()[1:], "--address", settings.temporal_address]
        process = await asyncio.create_subprocess_exec(
            str(temporal_cli()),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, out.decode()

    async def accepted() -> TaskRunResponse | None:
        try:
            return await team.run_task(f"{token} Get the title of the top post", title="now listed")
        except SearchAttributesMissingError:
            return None  # the new attributes reach the frontend's cache a moment later

    started: TaskRunResponse = await _eventually(accepted, "the fix did not take")
    assert started.status is RunStatus.queued
    await temporal.get_workflow_handle(started.run_id).terminate("test over")


async def test_wayfinder_list_on_the_command_line(
    client: Client,
    settings: Settings,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
) -> None:
    fake_model.script(match=token, responses=[{"status": 401}])
    failed = await client.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        title=f"cli {token}",
        wait_for_completion=True,
    )
    await listed_run(client, failed.run_id, "failed")
    assert settings.temporal_address
    env = cli_env(settings.home, TEMPORAL_ADDRESS=settings.temporal_address)
    code, out, err = await run_cli(
        "list", "--status", "failed", "--json", "--limit", str(LIST_LIMIT), env=env
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    (mine,) = [row for row in rows if row["run_id"] == failed.run_id]
    assert mine["status"] == "failed" and mine["title"] == f"cli {token}"
    assert {row["status"] for row in rows} == {"failed"}

    code, out, err = await run_cli("list", "--status", "failed", env=env)
    assert code == 0, err
    assert any(
        line.startswith(f"{failed.run_id}  failed") and line.endswith(token)
        for line in out.splitlines()
    )

    code, out, err = await run_cli("list", "--status", "succeeded", env=env)
    assert code == 2 and "invalid choice" in err


async def test_a_team_workflow_reads_a_failed_child_run(
    settings: Settings, sites: SiteServer, token: str
) -> None:
    """As the user guide says: the `ChildWorkflowError`'s cause carries the final state."""
    assert settings.temporal_address
    plugin = WayfinderPlugin(settings)
    team = await temporalio.client.Client.connect(settings.temporal_address, plugins=[plugin])
    queue = f"team-{uuid.uuid4().hex[:8]}"
    request = TaskRunRequest(
        prompt=f'{token} Keep clicking "Next page"', url=f"{sites.url}/pages/1", max_steps=1
    )
    async with Worker(team, task_queue=queue, workflows=[ChildOutcomeWorkflow]):
        outcome = await team.execute_workflow(
            ChildOutcomeWorkflow.run, request, id=f"team-{uuid.uuid4()}", task_queue=queue
        )
    assert outcome == "RunTimedOut: timed_out after 1 steps"
