"""error_code_mapping on every unhappy ending: a failed run and one out of steps name the code."""

from __future__ import annotations

from standardwebhooks.webhooks import Webhook

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.login_sites import add_locked_login
from tests.fixtures.sites import SiteServer
from tests.fixtures.waiting import run_until
from tests.fixtures.webhook_receiver import WEBHOOK_SECRET, WebhookReceiver
from wayfinder import Client, RunStatus

CODES = {
    "ACCOUNT_LOCKED": "the account is locked",
    "SITE_DOWN": "the website does not load or shows a server error",
}
SIGN_IN = 'Fill "ada" in Username, "hunter2" in Password and click "Sign in"'


def _slug(token: str) -> str:
    return token.strip("[]").replace(" ", "-")


async def test_a_run_out_of_steps_on_a_locked_account_reports_the_code(
    client: Client, sites: SiteServer, token: str
) -> None:
    with WebhookReceiver() as receiver:
        result = await client.run_task(
            f"{token} {SIGN_IN}, then open my orders",
            url=add_locked_login(sites, _slug(token)),
            max_steps=3,
            error_code_mapping=CODES,
            webhook_url=receiver.url,
            wait_for_completion=True,
        )
        await run_until(client, result.run_id, lambda run: bool(receiver.received))
    # The webhook of an unhappy ending carries the code as well.
    sent = Webhook(WEBHOOK_SECRET).verify(receiver.received[0].body, receiver.received[0].headers)
    assert sent["status"] == "timed_out" and sent["output"]["error_code"] == "ACCOUNT_LOCKED"
    assert result.status is RunStatus.timed_out
    assert result.output["error_code"] == "ACCOUNT_LOCKED"
    assert result.output["error_description"] == CODES["ACCOUNT_LOCKED"]
    assert "locked" in result.output["reasoning"]
    assert result.failure_reason is not None
    assert result.failure_reason.startswith("ACCOUNT_LOCKED: the account is locked")
    assert "max_steps (3) reached" in result.failure_reason


async def test_a_failed_run_on_a_locked_account_reports_the_code(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    # One answer as usual (it signs in: the fields and the click), then the model's key is
    # refused: the run fails.
    fake_model.script(token, [{"delay": 0}, {"status": 401}])
    result = await client.run_task(
        f"{token} {SIGN_IN}, then open my orders",
        url=add_locked_login(sites, _slug(token)),
        error_code_mapping=CODES,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.failed
    assert result.output["error_code"] == "ACCOUNT_LOCKED"
    assert result.failure_reason is not None
    assert result.failure_reason.startswith("ACCOUNT_LOCKED: ")
    assert "401" in result.failure_reason or "authentication" in result.failure_reason.lower()


async def test_no_code_applies_leaves_the_ending_as_it_was(
    client: Client, sites: SiteServer, token: str
) -> None:
    result = await client.run_task(
        f"{token} {SIGN_IN}, then open my orders",
        url=add_locked_login(sites, _slug(token)),
        max_steps=3,
        error_code_mapping={"OUT_OF_STOCK": "the product is sold out"},
        wait_for_completion=True,
    )
    assert result.status is RunStatus.timed_out
    assert result.output is None
    assert result.failure_reason == "max_steps (3) reached before the task was completed"
