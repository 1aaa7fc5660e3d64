"""Published workflows and code reruns, end to end: a form-filling run on the fixture back
office is published, rerun as code with other values, healed after a redesign, and read from
other processes. Real Temporal, worker, Chromium, fixture sites and fake model throughout."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.fixtures.admin_site import PASSWORD, AdminSite
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import PRODUCT_SCHEMA
from tests.fixtures.waiting import listed_run
from tests.fixtures.worker_process import WorkerProcess
from wayfinder import Client, RunStatus, TaskRunResponse
from wayfinder.published import PublishedWorkflowNotFoundError, WorkflowParameterError
from wayfinder.scripts.model import SECRET_STAND_IN
from wayfinder.secrets import secret_key
from wayfinder.settings import Settings

TASK = (
    'Fill "admin" into "Username", fill "{password}" into "Password", click "Log in", then fill '
    '"{name}" into "Name", fill "{price}" into "Price", select "Kitchen" from "Category", then '
    'click "Add product"'
)


@pytest.fixture(scope="module")
def admin(sites: SiteServer) -> AdminSite:
    return AdminSite(sites).install()


async def _publish(client: Client, sites: SiteServer, marker: str) -> TaskRunResponse:
    run = await client.run_task(
        f"{marker} " + TASK.format(password=PASSWORD, name="Blue Kettle", price="19.99"),
        url=f"{sites.url}/admin",
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.workflow_id and run.workflow_id.startswith("wpid_")
    return run


@pytest.fixture(scope="module")
async def published(client: Client, sites: SiteServer, admin: AdminSite) -> TaskRunResponse:
    return await _publish(client, sites, "[published]")


async def _history_bytes(client: Client, workflow_id: str) -> bytes:
    """The workflow's whole history as Temporal stores it (payloads as their raw bytes)."""
    history = await client.temporal.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


def _names(admin: AdminSite) -> list[tuple[str, str]]:
    return [(p["name"], p["price"]) for p in admin.products]


async def test_published_run_shows_code_parameters_and_a_first_revision(
    client: Client, published: TaskRunResponse
) -> None:
    assert published.workflow_id
    workflow = await client.get_workflow(published.workflow_id)
    assert "get_by_label" in workflow.code or "get_by_role" in workflow.code
    parameters = {p.name: p for p in workflow.parameters}
    assert parameters["url"].default and parameters["url"].default.endswith("/admin")
    secret = [p for p in workflow.parameters if p.secret]
    assert len(secret) == 1 and secret[0].default is None
    assert "Blue Kettle" in [p.default for p in workflow.parameters]
    assert [r.reason for r in workflow.revisions] == [f"published from {published.run_id}"]
    assert PASSWORD not in workflow.code and PASSWORD not in workflow.model_dump_json()
    listed = await client.list_workflows()
    assert published.workflow_id in [w.workflow_id for w in listed]


async def test_code_rerun_types_new_values_without_the_model(
    client: Client,
    published: TaskRunResponse,
    admin: AdminSite,
    fake_model: FakeAnthropicServer,
) -> None:
    assert published.workflow_id
    workflow = await client.get_workflow(published.workflow_id)
    secret = next(p.name for p in workflow.parameters if p.secret)
    name = next(p.name for p in workflow.parameters if p.default == "Blue Kettle")
    price = next(p.name for p in workflow.parameters if p.default == "19.99")
    calls = len(fake_model.requests())
    again = await client.run_workflow(
        published.workflow_id,
        parameters={name: "Red Teapot", price: "7.50", secret: PASSWORD},
        wait_for_completion=True,
    )
    assert again.status is RunStatus.completed, again.failure_reason
    assert again.run_id.startswith("wr_")
    assert len(fake_model.requests()) == calls
    assert again.usage.model_calls == 0
    assert ("Red Teapot", "7.50") in _names(admin)
    assert again.script_run and not again.script_run.ai_fallback_triggered
    assert again.script_run.script_id == published.workflow_id
    assert again.script_run.script_revision_id == workflow.revision_id
    assert again.screenshot_urls and again.step_count and again.step_count >= 7
    # Read back as any run is: get_run, list_runs, its step log, its Temporal status.
    assert (await client.get_run(again.run_id)).status is RunStatus.completed
    assert (await listed_run(client, again.run_id, "completed")).status is RunStatus.completed
    steps = await client.get_run_steps(again.run_id)
    assert [s.action.type for s in steps].count("input_text") == 4
    description = await client.temporal.get_workflow_handle(again.run_id).describe()
    assert description.status and description.status.name == "COMPLETED"
    # The secret is in no history: not the rerun's, not the published workflow's.
    for workflow_id in (again.run_id, published.workflow_id):
        assert PASSWORD.encode() not in await _history_bytes(client, workflow_id)
    assert PASSWORD not in str([s.model_dump() for s in steps])
    # The publishing run's prompt spells the password out (its input, each step's task, and
    # the model's closing summary echoes it), but its typed value is kept only sealed: no
    # recorded input_text action holds it, in history or in the step log.
    history = await _history_bytes(client, published.run_id)
    assert PASSWORD.encode() in history  # the check can see it
    assert f'"text":"{SECRET_STAND_IN}"'.encode() in history
    assert f'"text":"{PASSWORD}"'.encode() not in history
    typed = [
        s for s in await client.get_run_steps(published.run_id) if s.action.type == "input_text"
    ]
    assert [s.action.text for s in typed if s.sealed_text] == [SECRET_STAND_IN]
    assert PASSWORD not in str([s.model_dump() for s in typed])


async def test_parameters_are_checked_before_anything_starts(
    client: Client, published: TaskRunResponse
) -> None:
    assert published.workflow_id
    with pytest.raises(WorkflowParameterError, match="unknown parameter colour"):
        await client.run_workflow(published.workflow_id, parameters={"colour": "red"})
    with pytest.raises(WorkflowParameterError, match="missing required parameter"):
        await client.run_workflow(published.workflow_id, parameters={})
    with pytest.raises(PublishedWorkflowNotFoundError):
        await client.get_workflow("wpid_nothing")


async def test_run_task_with_code_reuses_the_published_workflow(
    client: Client,
    sites: SiteServer,
    published: TaskRunResponse,
    admin: AdminSite,
    fake_model: FakeAnthropicServer,
) -> None:
    calls = len(fake_model.requests())
    run = await client.run_task(
        "[published] " + TASK.format(password=PASSWORD, name="Blue Kettle", price="19.99"),
        url=f"{sites.url}/admin",
        run_with="code",
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.run_id.startswith("wr_") and run.workflow_id == published.workflow_id
    assert len(fake_model.requests()) == calls


async def test_a_redesigned_page_is_healed_once_and_saved_as_a_revision(
    client: Client, sites: SiteServer, admin: AdminSite, fake_model: FakeAnthropicServer
) -> None:
    run = await _publish(client, sites, "[heal]")
    assert run.workflow_id
    workflow = await client.get_workflow(run.workflow_id)
    secret = next(p.name for p in workflow.parameters if p.secret)
    name = next(p.name for p in workflow.parameters if p.default == "Blue Kettle")
    admin.redesigned = True
    try:
        broken = await client.run_workflow(
            run.workflow_id,
            parameters={secret: PASSWORD, name: "Green Jug"},
            ai_fallback=False,
            wait_for_completion=True,
        )
        assert broken.status is RunStatus.failed
        assert "Add product" in (broken.failure_reason or "")
        assert "step" in (broken.failure_reason or "")
        assert ("Green Jug", "19.99") not in _names(admin)

        calls = len(fake_model.requests())
        healed = await client.run_workflow(
            run.workflow_id,
            parameters={secret: PASSWORD, name: "Green Jug"},
            wait_for_completion=True,
        )
        assert healed.status is RunStatus.completed, healed.failure_reason
        assert len(fake_model.requests()) == calls + 1
        assert healed.script_run and healed.script_run.ai_fallback_triggered
        assert ("Green Jug", "19.99") in _names(admin)
        revisions = (await client.get_workflow(run.workflow_id)).revisions
        assert len(revisions) == 2
        assert revisions[1].revision_id == healed.script_run.new_revision_id
        assert revisions[1].run_id == healed.run_id

        calls = len(fake_model.requests())
        next_run = await client.run_workflow(
            run.workflow_id,
            parameters={secret: PASSWORD, name: "Grey Mug"},
            wait_for_completion=True,
        )
        assert next_run.status is RunStatus.completed, next_run.failure_reason
        assert len(fake_model.requests()) == calls
        assert next_run.script_run and not next_run.script_run.ai_fallback_triggered
        assert next_run.script_run.script_revision_id == revisions[1].revision_id
        assert ("Grey Mug", "19.99") in _names(admin)
    finally:
        admin.redesigned = False


async def test_another_process_reads_the_published_code(
    published: TaskRunResponse, settings: Settings
) -> None:
    assert published.workflow_id
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": settings.temporal_address or "",
        "WAYFINDER_TASK_QUEUE": settings.task_queue,
        "WAYFINDER_HOME": str(settings.home / "other-process"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wayfinder.cli",
        "code",
        published.workflow_id,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "playwright" in out.decode() and PASSWORD not in out.decode()


async def test_a_rerun_runs_on_another_worker_process(
    client: Client,
    published: TaskRunResponse,
    admin: AdminSite,
    settings: Settings,
    fake_model: FakeAnthropicServer,
    queue: str,
    tmp_path: Path,
) -> None:
    """Another host, with its own home, reruns the workflow: the store and the secret key
    are what the deployment shares, nothing on this host's disk."""
    assert published.workflow_id
    workflow = await client.get_workflow(published.workflow_id)
    secret = next(p.name for p in workflow.parameters if p.secret)
    name = next(p.name for p in workflow.parameters if p.default == "Blue Kettle")
    async with WorkerProcess(
        temporal_address=settings.temporal_address or "",
        task_queue=queue,
        home=tmp_path / "second-host",
        model_url=fake_model.url,
        extra_env={"WAYFINDER_SECRET_KEY": secret_key(settings).decode()},
    ):
        other = Client(client.temporal, task_queue=queue, settings=settings)
        again = await other.run_workflow(
            published.workflow_id,
            parameters={secret: PASSWORD, name: "Copper Pan"},
            wait_for_completion=True,
            timeout=90,
        )
    assert again.status is RunStatus.completed, again.failure_reason
    assert ("Copper Pan", "19.99") in _names(admin)


def _shop(rows: list[tuple[str, str, float]]) -> str:
    cards = "".join(
        f'<article class="card"><h2><a href="/rerun-shop/{i}">{name}</a></h2>'
        f'<p class="price">{price}</p><p class="rating">Rating: {rating}</p></article>'
        for i, (name, price, rating) in enumerate(rows)
    )
    return (
        "<!doctype html><html><head><title>Lamps | Rerun shop</title></head><body>"
        f'<h1>Our products</h1><section class="grid" aria-label="Products">{cards}</section>'
        "</body></html>"
    )


async def test_an_extraction_rerun_reads_the_new_rows_without_the_model(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer
) -> None:
    rows = [
        ("Alpha Lamp", "$10.00", 4.1),
        ("Beta Fan", "$20.00", 3.9),
        ("Gamma Desk", "$30.00", 4.7),
        ("Delta Chair", "$40.00", 4.0),
    ]
    shown = {"rows": rows}
    sites.add_page("/rerun-shop", lambda req: _shop(shown["rows"]))
    run = await client.run_task(
        "Extract the name, price, and rating of the top 3 products",
        url=f"{sites.url}/rerun-shop",
        data_extraction_schema=PRODUCT_SCHEMA,
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert [p["name"] for p in run.output] == ["Alpha Lamp", "Beta Fan", "Gamma Desk"]
    assert run.workflow_id

    shown["rows"] = [("Zeta Stool", "$5.50", 3.2), *rows[::-1]]
    calls = len(fake_model.requests())
    again = await client.run_workflow(run.workflow_id, wait_for_completion=True)
    assert again.status is RunStatus.completed, again.failure_reason
    assert again.output == [
        {"name": "Zeta Stool", "price": "$5.50", "rating": 3.2},
        {"name": "Delta Chair", "price": "$40.00", "rating": 4.0},
        {"name": "Gamma Desk", "price": "$30.00", "rating": 4.7},
    ]
    assert len(fake_model.requests()) == calls
    assert again.script_run and not again.script_run.extraction_by_model


async def test_a_run_published_after_the_fact_reruns_from_the_shell(
    client: Client, sites: SiteServer, admin: AdminSite, settings: Settings
) -> None:
    run = await client.run_task(
        f'Fill "admin" into "Username", fill "{PASSWORD}" into "Password", click "Log in"',
        url=f"{sites.url}/admin",
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.workflow_id is None
    workflow = await client.publish_run(run.run_id)
    assert workflow.workflow_id.startswith("wpid_") and workflow.source_run_id == run.run_id
    assert (await client.publish_run(run.run_id)).workflow_id == workflow.workflow_id
    secret = next(p.name for p in workflow.parameters if p.secret)
    assert "{" + secret + "}" in workflow.prompt and PASSWORD not in workflow.prompt

    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": settings.temporal_address or "",
        "WAYFINDER_TASK_QUEUE": settings.task_queue,
        "WAYFINDER_HOME": str(settings.home / "shell"),
        "WAYFINDER_SECRET_KEY": secret_key(settings).decode(),
    }
    command = ["rerun", workflow.workflow_id, "--param", f"{secret}={PASSWORD}"]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wayfinder.cli", *command, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0, out.decode()
    rerun = TaskRunResponse.model_validate_json(out)
    assert rerun.status is RunStatus.completed and rerun.run_id.startswith("wr_")
    assert rerun.usage.model_calls == 0


async def test_run_with_agent_runs_the_original_task_with_the_model(
    client: Client, published: TaskRunResponse, admin: AdminSite
) -> None:
    assert published.workflow_id
    workflow = await client.get_workflow(published.workflow_id)
    secret = next(p.name for p in workflow.parameters if p.secret)
    before = len(admin.products)
    run = await client.run_workflow(
        published.workflow_id, {secret: PASSWORD}, run_with="agent", wait_for_completion=True
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.run_id.startswith("tsk_") and run.usage.model_calls > 0
    assert admin.products[before:] == [
        {"kind": "product", "name": "Blue Kettle", "price": "19.99", "category": "Kitchen"}
    ]


async def test_a_task_without_a_schema_reruns_to_its_answer_read_afresh(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer
) -> None:
    """A task asking for a price has an answer but no schema: its rerun answers afresh."""
    shown = {"price": "$12.50", "layout": '<p class="price">Price: {}</p>'}
    sites.add_page(
        "/rerun-price",
        lambda req: (
            "<!doctype html><title>Watering Can</title><h1>Watering Can</h1>"
            "<p>Steel, 5 litres.</p>" + shown["layout"].format(shown["price"])
        ),
    )
    run = await client.run_task(
        "Get the price of the Watering Can",
        url=f"{sites.url}/rerun-price",
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.output == "$12.50" and run.workflow_id

    shown["price"] = "$14.00"
    calls = len(fake_model.requests())
    again = await client.run_workflow(run.workflow_id, wait_for_completion=True)
    assert again.status is RunStatus.completed, again.failure_reason
    assert again.output == "$14.00"
    assert len(fake_model.requests()) == calls
    assert again.script_run and not again.script_run.extraction_by_model

    # A redesign the plan cannot read: the rerun asks the model once, and says so.
    shown["price"], shown["layout"] = "$15.00", "<div><span>Price: {}</span></div>"
    redesigned = await client.run_workflow(run.workflow_id, wait_for_completion=True)
    assert redesigned.status is RunStatus.completed, redesigned.failure_reason
    assert redesigned.output == "$15.00"
    assert len(fake_model.requests()) == calls + 1
    assert redesigned.script_run and redesigned.script_run.extraction_by_model
