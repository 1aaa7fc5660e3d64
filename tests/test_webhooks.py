"""webhook_url: a signed POST of the final response, retried, never holding up the run."""

from __future__ import annotations

import socket
import time

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.waiting import run_until
from tests.fixtures.webhook_receiver import WEBHOOK_SECRET, WebhookReceiver
from wayfinder import Client, RunStatus, TaskRunResponse


def _delivered(run: TaskRunResponse) -> bool:
    return run.webhook_delivery is not None and run.webhook_delivery.status != "pending"


async def test_delivery_is_retried_until_the_receiver_accepts_and_verifies(
    client: Client, sites: SiteServer, token: str
) -> None:
    with WebhookReceiver(failures=[500, 503]) as receiver:
        result = await client.run_task(
            f"{token} Get the title of the top post",
            url=f"{sites.url}/news",
            webhook_url=f"{receiver.url}/hooks/wayfinder",
            wait_for_completion=True,
        )
        assert result.status is RunStatus.completed, result.failure_reason
        final = await run_until(client, result.run_id, _delivered)
    delivery = final.webhook_delivery
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.webhook_id}
    hook = Webhook(WEBHOOK_SECRET)
    for request in receiver.received:
        payload = hook.verify(request.body, request.headers)
        assert payload["run_id"] == result.run_id
        assert payload["status"] == "completed"
        assert payload["output"] == result.output
    # The delivery's own workflow is no run: listings do not show it.
    listed = {run.run_id for run in await client.list_runs(limit=500)}
    assert result.run_id in listed
    assert not any(run_id.endswith("-webhook") for run_id in listed)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43).verify(receiver.received[0].body, receiver.received[0].headers)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_receiver_that_is_down_does_not_hold_up_the_run(
    client: Client, sites: SiteServer, token: str
) -> None:
    started = time.monotonic()
    result = await client.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        webhook_url=f"http://127.0.0.1:{_closed_port()}/hook",
        wait_for_completion=True,
    )
    took = time.monotonic() - started
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.webhook_delivery is not None and result.webhook_delivery.status == "pending"
    # The first attempt alone is refused at once; the retries (1 s, 2 s, 4 s) come after.
    assert took < 15, took
    final = await run_until(client, result.run_id, _delivered)
    delivery = final.webhook_delivery
    assert delivery is not None and delivery.status == "failed"
    assert delivery.attempts >= 3 and delivery.last_status_code is None
    assert delivery.error and "could not reach" in delivery.error
    assert final.status is RunStatus.completed


async def test_a_4xx_other_than_408_or_429_is_not_retried(
    client: Client, sites: SiteServer, token: str
) -> None:
    with WebhookReceiver(failures=[410]) as receiver:
        result = await client.run_task(
            f"{token} Get the title of the top post",
            url=f"{sites.url}/news",
            webhook_url=receiver.url,
            wait_for_completion=True,
        )
        final = await run_until(client, result.run_id, _delivered)
    delivery = final.webhook_delivery
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 410)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("bad", ["ftp://example.com/hook", "example.com/hook", "http://"])
async def test_webhook_url_must_be_http(client: Client, bad: str) -> None:
    with pytest.raises(ValidationError, match="webhook_url"):
        await client.run_task("Get the title of the top post", webhook_url=bad)


async def test_a_canceled_run_delivers_its_canceled_state(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(match=token, seconds=0.5)
    with WebhookReceiver() as receiver:
        started = await client.run_task(
            f'{token} Keep clicking "Next page"',
            url=f"{sites.url}/pages/1",
            webhook_url=receiver.url,
        )
        await run_until(client, started.run_id, lambda run: (run.step_count or 0) >= 1)
        await client.cancel_run(started.run_id)
        final = await run_until(client, started.run_id, _delivered)
    assert final.status is RunStatus.canceled
    assert final.webhook_delivery is not None and final.webhook_delivery.status == "delivered"
    sent = Webhook(WEBHOOK_SECRET).verify(receiver.received[0].body, receiver.received[0].headers)
    assert sent["status"] == "canceled" and sent["finished_at"]
