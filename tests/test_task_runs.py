"""Task runs end to end: real Temporal, worker, Chromium, fixture sites and the fake model."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from pydantic import ValidationError

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import PRODUCT_SCHEMA, PRODUCTS, TOP_STORY, WATERING_CAN_PRICE
from tests.fixtures.waiting import run_until
from wayfinder import Client, RunStatus, TaskRunWorkflow, WayfinderPlugin

WAIT_LIMIT = 60.0


async def test_top_post_title(client: Client, sites: SiteServer) -> None:
    result = await client.run_task(
        "Get the title of the top post", url=f"{sites.url}/news", wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.output == TOP_STORY
    assert result.run_id.startswith("tsk_")
    assert result.step_count and result.step_count >= 1
    assert result.finished_at and result.finished_at >= result.created_at
    assert result.usage.input_tokens > 0 and result.usage.model_calls >= 2
    assert result.screenshot_urls
    assert Path(urlsplit(result.screenshot_urls[0]).path).stat().st_size > 1000
    assert result.failure_reason is None


async def test_top_three_products_as_schema_valid_array(client: Client, sites: SiteServer) -> None:
    result = await client.run_task(
        "Extract the name, price, and rating of the top 3 products",
        url=f"{sites.url}/products",
        data_extraction_schema=PRODUCT_SCHEMA,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    jsonschema.validate(result.output, PRODUCT_SCHEMA)
    assert result.output == [
        {"name": p["name"], "price": p["price"], "rating": p["rating"]} for p in PRODUCTS[:3]
    ]


async def test_contact_form_is_submitted(client: Client, sites: SiteServer, token: str) -> None:
    result = await client.run_task(
        f'{token} Fill "Ada Lovelace" into "Name", fill "ada@example.com" into "Email", '
        'select "Billing" from "Topic", fill "Please resend invoice 42." into "Message", '
        'check "I agree", then click "Send".',
        url=f"{sites.url}/contact",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    submitted = [s for s in sites.submissions if s.get("name") == "Ada Lovelace"]
    assert len(submitted) == 1
    assert submitted[0]["email"] == "ada@example.com"
    assert submitted[0]["topic"].lower() == "billing"
    assert submitted[0]["message"] == "Please resend invoice 42."


async def test_two_navigations(client: Client, sites: SiteServer) -> None:
    result = await client.run_task(
        'Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        url=f"{sites.url}/shop",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.step_count == 3
    assert WATERING_CAN_PRICE in str(result.output)
    steps = await client.get_run(result.run_id)
    assert steps.status is RunStatus.completed


@pytest.mark.parametrize(
    ("path", "button", "confirmation"),
    [
        ("/frames", "Confirm order", "Order confirmed"),
        ("/shadow", "Accept cookies", "Cookies accepted"),
    ],
)
async def test_buttons_inside_iframe_and_shadow_root(
    client: Client, sites: SiteServer, path: str, button: str, confirmation: str
) -> None:
    result = await client.run_task(
        f'Click "{button}" and report what the page says',
        url=f"{sites.url}{path}",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert confirmation.lower() in str(result.output).lower()


async def test_max_steps_reached_is_timed_out(client: Client, sites: SiteServer) -> None:
    result = await client.run_task(
        'Keep clicking "Next page"',
        url=f"{sites.url}/pages/1",
        max_steps=3,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.timed_out
    assert result.step_count == 3
    assert "max_steps (3)" in (result.failure_reason or "")


async def _cancel_with_signal(client: Client, run_id: str) -> None:
    await client.temporal.get_workflow_handle(run_id).signal(TaskRunWorkflow.cancel)


async def _cancel_in_temporal(client: Client, run_id: str) -> None:
    await client.temporal.get_workflow_handle(run_id).cancel()


@pytest.mark.parametrize("cancel", [_cancel_with_signal, _cancel_in_temporal])
async def test_cancel_mid_run_closes_the_browser(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    plugin: WayfinderPlugin,
    token: str,
    cancel: Callable[[Client, str], Awaitable[None]],
) -> None:
    fake_model.delay(match=token, seconds=1.0)
    started = await client.run_task(
        f'{token} Keep clicking "Next page"', url=f"{sites.url}/pages/1"
    )
    assert started.status is RunStatus.queued
    await run_until(client, started.run_id, lambda run: (run.step_count or 0) >= 1)
    context = plugin.runtime.host.get(started.run_id).context
    assert context.pages
    await cancel(client, started.run_id)
    final = await run_until(client, started.run_id, lambda run: run.status.is_final)
    assert final.status is RunStatus.canceled
    assert final.failure_reason == "the run was canceled"
    assert final.finished_at is not None
    # The run's browser is gone: no tab, no context left on the host.
    assert context.pages == []
    assert started.run_id not in plugin.runtime.host.run_ids


async def test_model_errors_are_retried(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(match=token, responses=[{"status": 500}, {"status": 429, "retry_after": 0}])
    result = await client.run_task(
        f"{token} Get the title of the top post", url=f"{sites.url}/news", wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.output == TOP_STORY
    # Two failed attempts and the answer for the first step, then verification.
    assert len(fake_model.requests(match=token)) >= 4


async def test_malformed_tool_answer_is_reasked(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(
        match=token, responses=[{"malformed": "unknown_element"}, {"malformed": "bad_arguments"}]
    )
    result = await client.run_task(
        f'{token} Click "Catalogue", then get the title of the page',
        url=f"{sites.url}/shop",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    feedback = [
        r for r in fake_model.requests(match=token) if "previous answer was invalid" in str(r)
    ]
    assert len(feedback) == 2


async def test_wait_timeout_raises_while_the_run_goes_on(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(match=token, seconds=0.7)
    with pytest.raises(TimeoutError, match="goes on") as caught:
        await client.run_task(
            f"{token} Get the title of the top post",
            url=f"{sites.url}/news",
            wait_for_completion=True,
            timeout=0.5,
        )
    run_id = re.search(r"tsk_\w+", str(caught.value)).group(0)  # type: ignore[union-attr]
    assert (await client.get_run(run_id)).status in (RunStatus.queued, RunStatus.running)
    final = await run_until(client, run_id, lambda run: run.status.is_final)
    assert final.status is RunStatus.completed
    assert final.output == TOP_STORY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "not a url"}, "url must start with http:// or https://"),
        (
            {"data_extraction_schema": {"type": 12}},
            "data_extraction_schema is not a valid JSON Schema",
        ),
        ({"max_steps": 0}, "max_steps"),
    ],
)
async def test_bad_input_is_refused_before_any_workflow_starts(
    client: Client, fake_model: FakeAnthropicServer, token: str, kwargs: dict, message: str
) -> None:
    before = (await client.temporal.count_workflows()).count
    with pytest.raises(ValidationError, match=message):
        await client.run_task(f"{token} Get the title", **kwargs)
    await asyncio.sleep(0.3)
    assert (await client.temporal.count_workflows()).count == before
    assert fake_model.requests(match=token) == []


async def test_rejected_key_fails_the_run_at_once(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """A 401 can never succeed on retry: one request, then a failure_reason that says why."""
    fake_model.script(match=token, responses=[{"status": 401}])
    result = await client.run_task(
        f"{token} Get the title of the top post", url=f"{sites.url}/news", wait_for_completion=True
    )
    assert result.status is RunStatus.failed
    assert "HTTP 401" in (result.failure_reason or "")
    assert "take_step failed: model call rejected" in (result.failure_reason or "")
    assert len(fake_model.requests(match=token)) == 1


async def test_unreachable_start_url_fails_with_the_reason(client: Client) -> None:
    # Bound but never listening: connections are refused, and no other process (parallel test
    # sessions start servers on free ports all the time) can take the port during the run.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{held.getsockname()[1]}/"
        result = await client.run_task(
            "Get the title of the top post", url=closed, wait_for_completion=True
        )
    assert result.status is RunStatus.failed
    assert f"could not open {closed}" in (result.failure_reason or "")
    assert "ERR_CONNECTION_REFUSED" in (result.failure_reason or "")


async def test_a_loop_is_pointed_out_to_the_model(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    slug = token.strip("[]").replace(" ", "-")
    sites.add_page(
        f"/stuck-{slug}",
        "<!doctype html><title>Report</title><h1>Monthly report</h1>"
        "<p>The report is being prepared.</p><button>Refresh</button>",
    )
    result = await client.run_task(
        f'{token} Keep clicking "Refresh"', url=f"{sites.url}/stuck-{slug}", max_steps=4
    )
    final = await run_until(client, result.run_id, lambda run: run.status.is_final)
    assert final.status is RunStatus.timed_out
    act_requests = [
        json.dumps(body["messages"])
        for body in fake_model.requests(match=token)
        if any(tool["name"] == "click" for tool in body["tools"])
    ]
    assert len(act_requests) == 4
    warned = ["this is a loop" in request for request in act_requests]
    assert warned == [False, False, False, True]
