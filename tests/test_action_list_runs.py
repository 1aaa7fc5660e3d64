"""Runs end to end (Temporal, Chromium, the fake model): few model calls, and loops that end."""

from __future__ import annotations

import json

from tests.fixtures.carousel import add_carousel
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.stockroom import PRODUCT, add_stockroom, product_task
from tests.fixtures.waiting import run_until
from wayfinder import Client
from wayfinder.models import RunStatus


def _act_requests(fake_model: FakeAnthropicServer, token: str) -> list[str]:
    return [
        json.dumps(body["messages"])
        for body in fake_model.requests(match=token)
        if any(tool["name"] == "click" for tool in body["tools"])
    ]


async def test_log_in_fill_five_fields_and_save_in_four_model_calls(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    add_stockroom(sites)
    values = {**PRODUCT, "name": f"Copper teapot {token}"}
    run = await client.run_task(
        product_task(values), url=f"{sites.url}/stockroom/login", wait_for_completion=True
    )
    assert run.status is RunStatus.completed, run.failure_reason
    # Sign in (3 actions), fill and save (6 actions), complete, verify.
    assert run.usage.model_calls <= 4
    assert len(fake_model.requests(match=token)) == run.usage.model_calls
    saved = [s for s in sites.submissions if s.get("name") == values["name"]]
    assert saved == [{"form": "product", **values, "in_stock": True}]
    steps = await client.get_run_steps(run.run_id)
    # Every action is its own step-log entry, numbered in order, for codegen to replay.
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    assert [s.action_type for s in steps] == [
        "input_text", "input_text", "click",
        "input_text", "select_option", "input_text", "input_text", "click", "click",
        "complete",
    ]  # fmt: skip
    assert run.step_count == len(steps)
    # The actions of one answer were planned on one page: they share its snapshot.
    assert len({s.snapshot_key for s in steps[:3]}) == 1
    assert len({s.snapshot_key for s in steps[3:9]}) == 1
    assert steps[3].snapshot_key != steps[0].snapshot_key


async def test_a_cycle_of_two_pages_is_pointed_out_and_then_ends_the_run(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    path = "/carousel-" + token.strip("[]").replace(" ", "-")
    add_carousel(sites, path)
    run = await client.run_task(
        f'{token} Keep clicking "Next slide"', url=f"{sites.url}{path}/a", max_steps=30
    )
    final = await run_until(client, run.run_id, lambda r: r.status.is_final)
    assert final.status is RunStatus.terminated
    assert "stuck in a loop" in (final.failure_reason or "")
    # Two rounds (A, B, A, B) and the model is told; two more rounds and the run ends.
    warned = ["this is a loop" in request for request in _act_requests(fake_model, token)]
    assert warned == [False] * 4 + [True] * 4
    assert final.step_count == 8


def _reloading_form(express: bool) -> str:
    checked = " checked" if express else ""
    return (
        "<!doctype html><title>Order</title><h1>Order</h1>"
        "<form action='done'><label><input type=checkbox name=express"
        f"{checked} onchange=\"location.href='?express=' + (this.checked ? 1 : 0)\">"
        " Express delivery</label>"
        "<label for=n>Name</label><input id=n name=name><button>Order</button></form>"
    )


async def test_actions_cut_off_by_a_reload_are_not_logged_and_the_model_is_told(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    path = "/reloading-" + token.strip("[]").replace(" ", "-")
    sites.add_page(f"{path}/form", lambda req: _reloading_form(req.query.get("express") == "1"))
    sites.add_page(f"{path}/done", "<!doctype html><title>Thanks</title><p>Order placed.</p>")
    run = await client.run_task(
        f'{token} Check "Express delivery", fill "Ada" into "Name", then click "Order"',
        url=f"{sites.url}{path}/form",
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    steps = await client.get_run_steps(run.run_id)
    # The box reloaded the page: typing and ordering were planned on the old one, not run,
    # and done in the next answer. Nothing appears twice in the step log.
    assert [s.action_type for s in steps] == ["click", "input_text", "click", "complete"]
    assert steps[1].snapshot_key != steps[0].snapshot_key
    requests = _act_requests(fake_model, token)
    assert "2 actions of your last answer did not run" in requests[1]
    assert "did not run" not in requests[0] and "did not run" not in requests[2]
