"""Browser sessions: one browser kept open across runs, which take turns in it.

Real Temporal, worker, Chromium, portal and fake model, as everywhere. The session-wide worker
of `conftest.py` is the host; its `BrowserHost` tells whether the session's browser is open.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus

from tests.fixtures.cli import cli_env, run_cli
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.portal import FIELDS, PORTAL_PASSWORD, PORTAL_USER, add_portal
from tests.fixtures.sites import SiteServer
from tests.fixtures.waiting import final_run, session_until
from wayfinder import (
    BrowserSessionClosedError,
    BrowserSessionNotFoundError,
    BrowserSessionResponse,
    BrowserSessionStatus,
    Client,
    RunStatus,
    WayfinderPlugin,
)
from wayfinder.sessions import Sessions
from wayfinder.settings import Settings

WAIT_LIMIT = 90.0

LOGIN_TASK = (
    f'Fill "{PORTAL_USER}" into "Username", fill "{PORTAL_PASSWORD}" into "Password", '
    'then click "Log in".'
)


def claim_only_task(token: str) -> str:
    """Files a claim on the claim page itself: no login step (the page needs the cookie)."""
    values = {
        "full_name": "Ada Lovelace",
        "policy": "HM-11235",
        "email": "ada@example.com",
        "phone": "0117 496 0456",
        "incident_date": "2026-10-02",
    }
    fills = ", ".join(f'fill "{values[key]}" into "{label}"' for key, label, _ in FIELDS)
    return (
        f'{fills}, select "Fire" from "Claim type", fill "Kitchen fire {token}" into '
        '"Description", check "I confirm", then click "Submit claim".'
    )


@pytest.fixture
def portal(sites: SiteServer) -> SiteServer:
    add_portal(sites)
    return sites


async def test_two_runs_share_the_login_of_one_session(
    client: Client, portal: SiteServer, plugin: WayfinderPlugin, token: str
) -> None:
    host = plugin.runtime.host
    session = await client.create_browser_session(timeout=10)
    session_id = session.browser_session_id
    assert session_id.startswith("pbs_")
    assert session.timeout == 10

    first = await client.run_task(
        LOGIN_TASK,
        url=f"{portal.url}/portal/login",
        browser_session_id=session_id,
        wait_for_completion=True,
    )
    assert first.status is RunStatus.completed, first.failure_reason
    # Without the first run's cookie, /portal/claim redirects to the login page.
    second = await client.run_task(
        claim_only_task(token),
        url=f"{portal.url}/portal/claim",
        browser_session_id=session_id,
        wait_for_completion=True,
    )
    assert second.status is RunStatus.completed, second.failure_reason
    steps = await client.get_run_steps(second.run_id)
    assert steps and all("/portal/login" not in step.url for step in steps)
    # Each run keeps its own artifacts, though the browser (and its id on the host) is shared.
    assert all(s.screenshot_key and s.screenshot_key.startswith(second.run_id) for s in steps)
    assert first.screenshot_urls and second.screenshot_urls
    assert second.run_id in second.screenshot_urls[0]
    assert first.screenshot_urls != second.screenshot_urls
    claims = [s for s in portal.submissions if s.get("description") == f"Kitchen fire {token}"]
    assert len(claims) == 1 and claims[0]["claim_type"] == "fire"

    # Without a url, a run starts on the page the previous one left.
    third = await client.run_task(
        "Get the heading of the page", browser_session_id=session_id, wait_for_completion=True
    )
    assert third.status is RunStatus.completed, third.failure_reason
    assert third.output == "Claim received"

    # No run closed the session's browser.
    open_session = await client.get_browser_session(session_id)
    assert open_session.status is BrowserSessionStatus.running
    assert open_session.runs == [first.run_id, second.run_id, third.run_id]
    assert open_session.current_run_id is None
    assert session_id in host.run_ids

    closed = await client.close_browser_session(session_id)
    assert closed.status is BrowserSessionStatus.closed
    assert closed.closed_at is not None
    assert session_id not in host.run_ids
    description = await client.temporal.get_workflow_handle(session_id).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    listed = {s.browser_session_id: s for s in await client.list_browser_sessions()}
    assert listed[session_id].timeout == 10
    closed_ones = await client.list_browser_sessions(status="closed")
    assert session_id in [s.browser_session_id for s in closed_ones]
    running = await client.list_browser_sessions(status=BrowserSessionStatus.running)
    assert session_id not in [s.browser_session_id for s in running]


async def test_runs_started_together_in_a_session_take_turns(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(token, 0.3)
    session = await client.create_browser_session(timeout=10)
    session_id = session.browser_session_id
    task = f'{token} Click "Catalogue", then click "Garden", then get the price of the Watering Can'
    runs = await asyncio.gather(
        *(
            client.run_task(task, url=f"{sites.url}/shop", browser_session_id=session_id)
            for _ in range(2)
        )
    )
    state = await session_until(client, session_id, lambda s: len(s.runs) == 2)
    first_id, second_id = state.runs
    async with asyncio.timeout(WAIT_LIMIT):
        while True:
            # Read the second run's steps before the first's status: a second run with steps
            # must have found the first already over.
            second_steps = await client.get_run_steps(second_id)
            first = await client.get_run(first_id)
            if second_steps:
                assert first.status.is_final, (
                    "the second run acted while the first held the browser"
                )
                break
            await asyncio.sleep(0.05)
    finals = [await final_run(client, run.run_id) for run in runs]
    assert all(run.status is RunStatus.completed for run in finals), finals
    await client.close_browser_session(session_id)


async def test_session_timeout_closes_its_browser(
    client: Client, plugin: WayfinderPlugin, sites: SiteServer
) -> None:
    """Started through `Sessions.start` with seconds: the public minimum is five minutes."""
    host = plugin.runtime.host
    session = await Sessions(client.temporal, client.task_queue).start(timedelta(seconds=4), {})
    session_id = session.browser_session_id
    await session_until(client, session_id, lambda s: s.status is BrowserSessionStatus.running)
    assert session_id in host.run_ids

    ended = await session_until(client, session_id, lambda s: s.status.is_final)
    assert ended.status is BrowserSessionStatus.timed_out
    assert session_id not in host.run_ids
    description = await client.temporal.get_workflow_handle(session_id).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    with pytest.raises(BrowserSessionClosedError, match="timed_out"):
        await client.run_task("Get the heading", url=sites.url, browser_session_id=session_id)


async def test_unknown_or_closed_session_fails_before_the_run_starts(
    client: Client, sites: SiteServer
) -> None:
    before = {run.run_id for run in await client.list_runs(limit=500)}
    with pytest.raises(BrowserSessionNotFoundError, match="no browser session"):
        await client.run_task("Get the heading", browser_session_id="pbs_01NOSUCHSESSION0000000000")
    with pytest.raises(BrowserSessionNotFoundError, match="start with 'pbs_'"):
        await client.run_task("Get the heading", browser_session_id="tsk_123")
    session = await client.create_browser_session(timeout=5)
    await client.close_browser_session(session.browser_session_id)
    with pytest.raises(BrowserSessionClosedError, match="create_browser_session"):
        await client.run_task(
            "Get the heading", url=sites.url, browser_session_id=session.browser_session_id
        )
    assert {run.run_id for run in await client.list_runs(limit=500)} <= before


async def test_session_arguments_are_validated(client: Client) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 5"):
        await client.create_browser_session(timeout=2)
    with pytest.raises(ValidationError, match="less than or equal to 240"):
        await client.create_browser_session(timeout=241)
    with pytest.raises(ValidationError, match="browser_session_id cannot go with browser_address"):
        await client.run_task(
            "Get the heading",
            browser_session_id="pbs_x",
            browser_address="http://127.0.0.1:9222",
        )
    with pytest.raises(ValidationError, match="cannot go with user_agent, extra_http_headers"):
        await client.run_task(
            "Get the heading",
            browser_session_id="pbs_x",
            user_agent="TestAgent/1.0",
            extra_http_headers={"X-Test": "1"},
        )


async def test_a_terminated_run_does_not_keep_the_session_from_the_next(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """A run terminated in Temporal never gives the browser back: the session notices."""
    fake_model.delay(token, 1.0)
    session = await client.create_browser_session(timeout=10)
    session_id = session.browser_session_id
    stuck = await client.run_task(
        f'{token} Keep clicking "Catalogue"', url=f"{sites.url}/shop", browser_session_id=session_id
    )
    await session_until(client, session_id, lambda s: s.current_run_id == stuck.run_id)
    await client.temporal.get_workflow_handle(stuck.run_id).terminate("an operator stopped it")

    next_run = await client.run_task(
        'Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        url=f"{sites.url}/shop",
        browser_session_id=session_id,
        wait_for_completion=True,
        timeout=60,
    )
    assert next_run.status is RunStatus.completed, next_run.failure_reason
    await client.close_browser_session(session_id)


async def test_closing_a_session_fails_the_run_in_it_and_the_runs_waiting(
    client: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    plugin: WayfinderPlugin,
    token: str,
) -> None:
    fake_model.delay(token, 0.5)
    session = await client.create_browser_session(timeout=10)
    session_id = session.browser_session_id
    task = f'{token} Keep clicking "Catalogue"'
    working = await client.run_task(task, url=f"{sites.url}/shop", browser_session_id=session_id)
    await session_until(client, session_id, lambda s: s.current_run_id == working.run_id)
    waiting = await client.run_task(task, url=f"{sites.url}/shop", browser_session_id=session_id)
    await session_until(client, session_id, lambda s: waiting.run_id in s.runs)

    closed = await client.close_browser_session(session_id)
    assert closed.status is BrowserSessionStatus.closed
    assert session_id not in plugin.runtime.host.run_ids
    for run in (working, waiting):
        final = await final_run(client, run.run_id)
        assert final.status is RunStatus.failed
        assert final.failure_reason and session_id in final.failure_reason, final.failure_reason
    assert (await client.get_run(waiting.run_id)).step_count == 0


async def test_session_commands(client: Client, settings: Settings, sites: SiteServer) -> None:
    assert settings.temporal_address
    env = cli_env(
        settings.home,
        TEMPORAL_ADDRESS=settings.temporal_address,
        WAYFINDER_TASK_QUEUE=client.task_queue,
    )
    code, out, err = await run_cli("session", "create", "--timeout", "5", env=env)
    assert code == 0, err
    created = BrowserSessionResponse.model_validate_json(out)
    session_id = created.browser_session_id
    await session_until(client, session_id, lambda s: s.status is BrowserSessionStatus.running)

    code, out, err = await run_cli("session", "list", env=env)
    assert code == 0, err
    assert any(line.startswith(f"{session_id}  running") for line in out.splitlines()), out
    code, out, err = await run_cli("session", "close", session_id, env=env)
    assert code == 0, err
    assert BrowserSessionResponse.model_validate_json(out).status is BrowserSessionStatus.closed

    code, out, err = await run_cli(
        "run", "Get the heading", "--url", sites.url, "--session", session_id, env=env
    )
    assert code == 2
    assert f"browser session {session_id!r} has ended (closed)" in err
