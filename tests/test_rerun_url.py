"""A published workflow rerun against another site: every recorded URL on the publishing run's
host follows the rerun's `url` (the replay's `goto`s, its page checks and the generated code),
as when a workflow published on staging runs on production. Here "staging" and "production"
are two instances of the fixture sites on two ports; the first is stopped before the reruns, so
a request that went back to it would fail."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.async_api import Page

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteRequest, SiteResponse, SiteServer
from wayfinder import Client, RunStatus
from wayfinder.actions import ClickAction, GotoUrlAction
from wayfinder.browser import replay
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.build import build_script
from wayfinder.scripts.codegen import generate_code
from wayfinder.scripts.model import ElementTarget, Locator, PageCheck, ScriptAction, rebase_url
from wayfinder.workflows import healing

TASK = (
    'Go to {site}/contact, then fill "Ada Lovelace" into "Name", fill "ada@example.com" into '
    '"Email", fill "Hello from staging" into "Message", check "I agree to the privacy policy", '
    'then click "Send message".'
)


class Published:
    def __init__(self, workflow_id: str, staging: SiteServer, production: SiteServer) -> None:
        self.workflow_id, self.staging, self.production = workflow_id, staging, production
        self.staging_url = ""
        """Where staging was (it is stopped)."""


@pytest.fixture(scope="module")
async def published(client: Client) -> AsyncIterator[Published]:
    """A workflow published on "staging" (a run that starts at its home page and goes to its
    contact form by address), with staging stopped afterwards and "production" up."""
    with SiteServer() as production:
        staging = SiteServer().start()
        staging_url = staging.url
        try:
            run = await client.run_task(
                TASK.format(site=staging.url),
                url=f"{staging.url}/",
                publish_workflow=True,
                wait_for_completion=True,
            )
        finally:
            staging.stop()
        assert run.status is RunStatus.completed, run.failure_reason
        assert run.workflow_id is not None
        steps = await client.get_run_steps(run.run_id)
        assert steps[0].action.type == "goto_url"
        assert [s["name"] for s in staging.submissions] == ["Ada Lovelace"]
        published = Published(run.workflow_id, staging, production)
        published.staging_url = staging_url
        yield published


async def test_a_rerun_with_another_url_drives_that_site_only(
    client: Client, published: Published, fake_model: FakeAnthropicServer
) -> None:
    production = published.production
    calls = len(fake_model.requests())
    again = await client.run_workflow(
        published.workflow_id,
        parameters={"url": f"{production.url}/", "name": "Grace Hopper"},
        ai_fallback=False,
        wait_for_completion=True,
    )
    assert again.status is RunStatus.completed, again.failure_reason
    assert len(fake_model.requests()) == calls and again.usage.model_calls == 0
    assert "Grace Hopper" in [s["name"] for s in production.submissions]
    assert [s["name"] for s in published.staging.submissions] == ["Ada Lovelace"]
    steps = await client.get_run_steps(again.run_id)
    goto = steps[0].action
    assert goto.type == "goto_url" and goto.url == f"{production.url}/contact"
    # Every page the rerun was on, and every page it checked for, is production's.
    assert all(s.url.startswith(production.url) for s in steps)
    assert all(s.after.url.startswith(production.url) for s in steps if s.after and s.after.url)


async def test_an_agent_rerun_is_sent_to_the_new_url_too(
    client: Client, published: Published
) -> None:
    """run_with="agent" runs the task, whose address is on the recorded host: the agent is
    given it on the rerun's host, where the code rerun goes."""
    production = published.production
    again = await client.run_workflow(
        published.workflow_id,
        parameters={"url": f"{production.url}/"},
        run_with="agent",
        wait_for_completion=True,
    )
    assert again.status is RunStatus.completed, again.failure_reason
    assert again.run_id.startswith("tsk_") and again.usage.model_calls > 0
    assert [s["name"] for s in production.submissions].count("Ada Lovelace") == 1
    steps = await client.get_run_steps(again.run_id)
    assert steps[0].action.type == "goto_url"
    assert steps[0].action.url == f"{production.url}/contact"


async def test_a_goto_whose_page_changed_is_repaired_by_the_agent(
    client: Client, published: Published
) -> None:
    """On a third site the contact page has a new heading, so the goto's page check fails;
    the agent is sent there by address, and its goto (which acts on no element) repairs it."""
    with SiteServer() as redesigned:
        original, _ = redesigned.resolve("/contact") or pytest.fail("no /contact")

        def renamed(request: SiteRequest) -> SiteResponse | str:
            answer = original(request)
            if isinstance(answer, str):
                return answer.replace("<h1>Contact us</h1>", "<h1>Get in touch</h1>")
            return answer

        redesigned.add_page("/contact", renamed)
        again = await client.run_workflow(
            published.workflow_id,
            parameters={"url": f"{redesigned.url}/", "name": "Mary Somerville"},
            wait_for_completion=True,
        )
        assert again.status is RunStatus.completed, again.failure_reason
        assert again.script_run and again.script_run.healed_steps == [1]
        assert "Mary Somerville" in [s["name"] for s in redesigned.submissions]
        assert again.usage.model_calls >= 1  # the repair; the rest replayed as recorded
        steps = await client.get_run_steps(again.run_id)
        assert steps[0].action.type == "goto_url"
        assert steps[0].action.url == f"{redesigned.url}/contact"


async def test_the_generated_code_goes_to_the_url_it_is_given(
    client: Client, published: Published, tmp_path: Path
) -> None:
    production = published.production
    code = (await client.get_workflow(published.workflow_id)).code
    assert 'page.goto(urljoin(url, "/contact"))' in code
    assert f'"{published.staging_url}/contact"' not in code  # (the task in the docstring says it)
    path = tmp_path / "contact.py"
    path.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    args = [sys.executable, "-I", str(path), "--url", f"{production.url}/", "--name", "Ada Byron"]
    # In a thread: the session's worker shares this event loop.
    ran = await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, env=env, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert "Ada Byron" in [s["name"] for s in production.submissions]


STAGING_SITE = "https://staging.example.com"
STAGING = f"{STAGING_SITE}/start?from=mail"
PRODUCTION = "http://127.0.0.1:8123/app?x=1"


@pytest.mark.parametrize(
    ("recorded", "on_production"),
    [
        ("https://staging.example.com/orders?id=7#top", "http://127.0.0.1:8123/orders?id=7#top"),
        ("https://STAGING.example.com", "http://127.0.0.1:8123/"),
        ("https://staging.example.com//double/slash", "http://127.0.0.1:8123//double/slash"),
        # Another site (a login provider, say), or the same host without TLS: as recorded.
        ("https://other.example.org/login", "https://other.example.org/login"),
        ("http://staging.example.com/plain", "http://staging.example.com/plain"),
    ],
)
def test_generated_code_goes_where_the_replay_goes(recorded: str, on_production: str) -> None:
    """The generated `goto`, evaluated with `--url` set to production, is `rebase_url`'s."""
    assert rebase_url(recorded, STAGING, PRODUCTION) == on_production
    steps = [StepRecord(number=1, action=GotoUrlAction(url=recorded), url=STAGING)]
    code = generate_code(build_script(TaskRunRequest(prompt="Open it", url=STAGING), steps))
    [goto] = [
        line.strip()
        for line in code.splitlines()
        if line.strip().startswith("page.goto(") and "args.url" not in line
    ]
    expression = goto.removeprefix("page.goto(").removesuffix(")")
    assert eval(expression, {"urljoin": urljoin, "url": PRODUCTION}) == on_production


async def test_a_page_check_on_the_old_host_breaks_the_step(
    page: Page, sites: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun on production that finds itself on staging's page is not where it should be,
    even though the path is the same (before, only paths were compared)."""
    monkeypatch.setattr(replay, "CHECK_TIMEOUT_MS", 500)  # the page is there already, or not
    with SiteServer() as production:
        await page.goto(f"{sites.url}/contact")
        recorded = PageCheck(url=f"{sites.url}/contact", text=None)
        after = recorded.rebased(f"{sites.url}/", f"{production.url}/")
        with pytest.raises(replay.ReplayBroken, match=f"page check url={production.url}/contact"):
            await replay.check(page, after, text=None)
        await page.goto(f"{production.url}/contact?from=mail")
        await replay.check(page, after, text="Contact us")


def test_a_healed_check_is_kept_on_the_recorded_host() -> None:
    """What the agent saw on production is stored in the script's terms (staging), so that
    every later rerun rebases all the script's URLs alike."""
    scripted = ScriptAction(
        action=ClickAction(element_id="4"),
        target=ElementTarget(locators=[Locator(kind="text", value="Send")], tag="button"),
        after=PageCheck(url=f"{STAGING_SITE}/sent", text="Sent"),
    )
    record = StepRecord(
        number=3,
        action=ClickAction(element_id="9"),
        url="http://127.0.0.1:8123/sent?n=2",
        target=ElementTarget(locators=[Locator(kind="text", value="Send it")], tag="button"),
        after=PageCheck(url="http://127.0.0.1:8123/sent?n=2", text="Sent to Grace"),
    )
    values = {"url": PRODUCTION, "name": "Grace"}
    repaired = healing.repaired(scripted, record, values, f"{STAGING_SITE}/start")
    assert repaired.after == PageCheck(url=f"{STAGING_SITE}/sent?n=2", text="Sent to {name}")


def test_a_broken_goto_is_handed_over_on_the_new_host() -> None:
    scripted = ScriptAction(action=GotoUrlAction(url=f"{STAGING_SITE}/orders?id=7"))
    task = healing.instruction(scripted, {"url": PRODUCTION}, STAGING)
    assert task == "Go to http://127.0.0.1:8123/orders?id=7"
