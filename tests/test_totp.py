"""2FA codes: from a totp_url endpoint, or pushed with send_totp_code before or after the page
asks. The code is typed by an activity and seen nowhere else: not by the model, not in the step
log, the workflow history, the page descriptions or the logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.fixtures.cli import cli_env, run_cli
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.login_sites import TotpLogin, add_totp_login
from tests.fixtures.sites import SiteServer
from tests.fixtures.waiting import final_run
from tests.fixtures.webhook_receiver import WEBHOOK_SECRET, Received, WebhookReceiver
from wayfinder import Client, RunStatus, TaskRunResponse
from wayfinder.activities.hook_contracts import ENTER_VERIFICATION_CODE
from wayfinder.settings import Settings
from wayfinder.workflows.totp_mailbox import mailbox_id

SIGN_IN = 'Fill "ada" in Username, "hunter2" in Password and click "Sign in"'


def _slug(token: str) -> str:
    return token.strip("[]").replace(" ", "-")


def _decoded(node: Any, out: list[str]) -> None:
    """Every string of a history's JSON, payload data base64-decoded (where a code would be)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                out.append(base64.b64decode(value).decode("utf-8", "replace"))
            else:
                _decoded(value, out)
    elif isinstance(node, list):
        for value in node:
            _decoded(value, out)
    elif isinstance(node, str):
        out.append(node)


async def _history_text(client: Client, workflow_id: str) -> str:
    history = await client.temporal.get_workflow_handle(workflow_id).fetch_history()
    parts: list[str] = []
    _decoded(json.loads(history.to_json()), parts)
    return "\n".join(parts)


async def _waiting_for_a_code(client: Client, run_id: str) -> None:
    """Until the run's pending activity is the one that waits for its code."""
    handle = client.temporal.get_workflow_handle(run_id)
    for _ in range(600):
        pending = (await handle.describe()).raw_description.pending_activities
        if any(a.activity_type.name == ENTER_VERIFICATION_CODE for a in pending):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} never waited for a verification code")


async def _assert_code_seen_only_by_the_site(
    client: Client,
    fake_model: FakeAnthropicServer,
    artifacts_root: Path,
    caplog: pytest.LogCaptureFixture,
    token: str,
    run: TaskRunResponse,
    login: TotpLogin,
    mailbox: str | None = None,
) -> None:
    assert run.status is RunStatus.completed, run.failure_reason
    assert len(login.entered) == 1 and login.accepts(login.entered[0])
    code = login.entered[0]
    anywhere = re.compile(rf"(?<!\d){code}(?!\d)")
    steps = await client.get_run_steps(run.run_id)
    assert any(step.action_type == "enter_verification_code" for step in steps)
    assert not anywhere.search(json.dumps([s.model_dump(mode="json") for s in steps]))
    assert not anywhere.search(await _history_text(client, run.run_id))
    if mailbox is not None:
        assert not anywhere.search(await _history_text(client, mailbox))
    assert not anywhere.search(json.dumps(fake_model.requests(match=token)))
    for description in (artifacts_root / run.run_id).glob("*.txt"):
        assert not anywhere.search(description.read_text())
    assert not anywhere.search(caplog.text)


async def test_a_code_from_totp_url_is_typed_and_seen_nowhere_else(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    artifacts_root: Path,
    caplog: pytest.LogCaptureFixture,
    token: str,
) -> None:
    caplog.set_level(logging.INFO)
    login = add_totp_login(sites, _slug(token))
    asked: list[Received] = []

    def answer(request: Received) -> dict[str, Any]:
        asked.append(request)
        # The first question comes before the code "arrived": the run must ask again.
        return {"verification_code": "" if len(asked) == 1 else login.now()}

    with WebhookReceiver() as endpoint:
        endpoint.answer = answer
        run = await client.run_task(
            f"{token} {SIGN_IN}",
            url=login.url,
            totp_url=f"{endpoint.url}/totp",
            totp_identifier="ada@example.com",
            wait_for_completion=True,
        )
    await _assert_code_seen_only_by_the_site(
        client, fake_model, artifacts_root, caplog, token, run, login
    )
    assert len(asked) == 2
    body = Webhook(WEBHOOK_SECRET).verify(asked[0].body, asked[0].headers)
    assert body == {"run_id": run.run_id, "totp_identifier": "ada@example.com"}


async def test_a_code_sent_before_the_page_asks_is_kept_for_the_run(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    artifacts_root: Path,
    caplog: pytest.LogCaptureFixture,
    token: str,
) -> None:
    caplog.set_level(logging.INFO)
    login = add_totp_login(sites, _slug(token))
    identifier = f"early-{_slug(token)}"
    await client.send_totp_code(identifier, f"Your sign-in code is {login.now()}.")
    run = await client.run_task(
        f"{token} {SIGN_IN}", url=login.url, totp_identifier=identifier, wait_for_completion=True
    )
    await _assert_code_seen_only_by_the_site(
        client, fake_model, artifacts_root, caplog, token, run, login, mailbox_id(identifier)
    )


async def test_a_code_sent_after_the_page_asks_reaches_the_waiting_run(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    artifacts_root: Path,
    caplog: pytest.LogCaptureFixture,
    token: str,
) -> None:
    caplog.set_level(logging.INFO)
    login = add_totp_login(sites, _slug(token))
    identifier = f"late-{_slug(token)}"
    started = await client.run_task(f"{token} {SIGN_IN}", url=login.url, totp_identifier=identifier)
    await _waiting_for_a_code(client, started.run_id)
    assert login.asked and not login.entered
    await client.send_totp_code(identifier, login.now())
    run = await final_run(client, started.run_id)
    await _assert_code_seen_only_by_the_site(
        client, fake_model, artifacts_root, caplog, token, run, login, mailbox_id(identifier)
    )
    # The code was taken: the next run on the identifier does not get it again.
    second = add_totp_login(sites, f"{_slug(token)}-again")
    again = await client.run_task(
        f"{token} {SIGN_IN}", url=second.url, totp_identifier=identifier, wait_for_completion=True
    )
    assert again.status is RunStatus.failed
    assert not second.entered


async def test_no_code_within_the_wait_fails_the_run_saying_so(
    client: Client, sites: SiteServer, token: str
) -> None:
    login = add_totp_login(sites, _slug(token))
    identifier = f"never-{_slug(token)}"
    run = await client.run_task(
        f"{token} {SIGN_IN}", url=login.url, totp_identifier=identifier, wait_for_completion=True
    )
    assert run.status is RunStatus.failed
    assert run.failure_reason is not None
    assert "no verification code" in run.failure_reason
    assert identifier in run.failure_reason and "WAYFINDER_TOTP_WAIT" in run.failure_reason
    assert not login.entered


async def test_send_totp_code_refuses_content_without_a_code(client: Client) -> None:
    with pytest.raises(ValueError, match="no verification code"):
        await client.send_totp_code("someone", "hello there, no digits here")


async def test_wayfinder_totp_sends_a_code_from_the_command_line(
    client: Client, settings: Settings, sites: SiteServer, token: str
) -> None:
    login = add_totp_login(sites, _slug(token))
    identifier = f"cli-{_slug(token)}"
    assert settings.temporal_address
    env = cli_env(
        settings.home,
        TEMPORAL_ADDRESS=settings.temporal_address,
        WAYFINDER_TASK_QUEUE=client.task_queue,
    )
    code, out, err = await run_cli("totp", identifier, login.now(), env=env)
    assert code == 0, err
    assert f"code sent for {identifier}" in out
    run = await client.run_task(
        f"{token} {SIGN_IN}", url=login.url, totp_identifier=identifier, wait_for_completion=True
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert len(login.entered) == 1
