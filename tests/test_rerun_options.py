"""Reruns of a published workflow open their browser as the publishing run did (its proxy, user
agent, extra headers), take overrides validated like run_task's, and take request_options.
A real proxy on 127.0.0.1 (proxy.py) whose log says what went through it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from tests.fixtures.proxy_server import PASSWORD, ProxyServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.watched_site import WatchedSite, watched_site
from tests.test_browser_address import ExternalChromium, chromium  # noqa: F401 - its fixture
from wayfinder import Client, RunStatus, TaskRunResponse, WayfinderPlugin
from wayfinder.browser_options import OPTIONS
from wayfinder.proxies import ProxyNotConfiguredError
from wayfinder.proxy_url import ProxyURL
from wayfinder.request_options import RequestTimeoutError

AGENT = "WayfinderPublisher/1.0"
HEADERS = {"X-Team": "billing-bots"}


@dataclass
class Published:
    workflow_id: str
    run: TaskRunResponse
    site: WatchedSite
    prompt: str


@pytest.fixture(scope="module")
async def published(proxied: Client, sites: SiteServer, proxy: ProxyServer) -> Published:
    """A run through the proxy (given by URL, with its password), with a user agent and a
    header, published as it completes."""
    site = watched_site(sites, "rerun")
    prompt = f'[rerun {uuid.uuid4().hex[:8]}] Click "Continue"'
    run = await proxied.run_task(
        prompt,
        url=sites.url + site.landing,
        proxy_location={"url": f"http://runner:{PASSWORD}@127.0.0.1:{proxy.port}"},  # type: ignore[arg-type]
        user_agent=AGENT,
        extra_http_headers=HEADERS,
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.workflow_id is not None
    assert site.through_proxy() == [True, True]
    return Published(workflow_id=run.workflow_id, run=run, site=site, prompt=prompt)


async def _history_json(client: Client, workflow_id: str) -> str:
    history = await client.temporal.get_workflow_handle(workflow_id).fetch_history()
    return history.to_json()


async def test_a_rerun_goes_through_the_publishing_runs_proxy_with_its_headers(
    proxied: Client, published: Published, proxy: ProxyServer
) -> None:
    workflow = await proxied.get_workflow(published.workflow_id)
    kept = workflow.browser_options
    assert kept.user_agent == AGENT and kept.extra_http_headers == HEADERS
    assert isinstance(kept.proxy_location, ProxyURL)
    assert kept.proxy_location.url == f"http://127.0.0.1:{proxy.port}"
    assert kept.proxy_location.sealed_credentials  # the password, only encrypted

    site = published.site
    site.seen.clear()
    logged = len(proxy.requests())
    rerun = await proxied.run_workflow(published.workflow_id, wait_for_completion=True)
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    assert rerun.run_id.startswith("wr_") and rerun.usage.model_calls == 0
    assert site.through_proxy() == [True, True]  # both pages, through the proxy again
    assert any(site.landing in line for line in proxy.requests()[logged:])
    assert site.seen and all(h["user-agent"] == AGENT for h in site.seen)
    assert all(h["x-team"] == HEADERS["X-Team"] for h in site.seen)

    assert PASSWORD not in workflow.model_dump_json()
    assert PASSWORD not in rerun.model_dump_json()
    for workflow_id in (published.workflow_id, rerun.run_id):
        assert PASSWORD not in await _history_json(proxied, workflow_id)


async def test_overrides_replace_the_kept_options_for_one_rerun(
    proxied: Client, published: Published
) -> None:
    site = published.site
    site.seen.clear()
    rerun = await proxied.run_workflow(
        published.workflow_id,
        proxy_location="NONE",
        user_agent="Overridden/2.0",
        extra_http_headers={"X-Team": "ops"},
        wait_for_completion=True,
        request_options={"timeout_in_seconds": 30, "max_retries": 2},
    )
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    assert site.through_proxy() == [False, False]
    assert site.seen and all(h["user-agent"] == "Overridden/2.0" for h in site.seen)
    assert all(h["x-team"] == "ops" for h in site.seen)
    # Overrides are the rerun's own: the workflow keeps what it was published with.
    kept = (await proxied.get_workflow(published.workflow_id)).browser_options
    assert kept.user_agent == AGENT and isinstance(kept.proxy_location, ProxyURL)


@pytest.mark.parametrize(("location", "through_proxy"), [("RESIDENTIAL_US", True), ("NONE", False)])
async def test_run_task_with_code_reuses_the_options_and_takes_its_own(
    proxied: Client, published: Published, sites: SiteServer, location: str, through_proxy: bool
) -> None:
    """run_task(run_with="code") finds the workflow; a proxy name it gives replaces the URL, and
    "NONE" clears the kept proxy (as for run_workflow); the other kept options stay, and the
    workflow keeps its own."""
    site = published.site
    site.seen.clear()
    rerun = await proxied.run_task(
        published.prompt,
        url=sites.url + site.landing,
        run_with="code",
        proxy_location=location,
        wait_for_completion=True,
    )
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    assert rerun.workflow_id == published.workflow_id and rerun.run_id.startswith("wr_")
    assert site.through_proxy() == [through_proxy, through_proxy]
    assert site.seen and all(h["user-agent"] == AGENT for h in site.seen)
    kept = (await proxied.get_workflow(published.workflow_id)).browser_options
    assert isinstance(kept.proxy_location, ProxyURL)


BAD_OVERRIDES: list[tuple[str, object]] = [
    ("proxy_location", "no such place!"),
    ("proxy_location", {"url": f"ftp://runner:{PASSWORD}@127.0.0.1:21"}),
    ("proxy_location", f"http://runner:{PASSWORD}@127.0.0.1:3128"),
    ("user_agent", ""),
    ("extra_http_headers", {"Bad Header": "x"}),
    ("max_screenshot_scrolls", 99),
    ("browser_address", "127.0.0.1:9222"),
    ("request_options", {"timeout_in_seconds": 0}),
    ("request_options", {"additional_query_parameters": {"page": 2}}),
]


def test_every_rerun_option_has_a_bad_value_tested() -> None:
    assert {*OPTIONS, "request_options"} == {option for option, _ in BAD_OVERRIDES}


@pytest.mark.parametrize(("option", "value"), BAD_OVERRIDES, ids=[o for o, _ in BAD_OVERRIDES])
async def test_bad_overrides_are_refused_naming_the_option(
    proxied: Client, option: str, value: object
) -> None:
    with pytest.raises(ValidationError) as caught:
        # No such workflow: the check comes before anything is asked of Temporal.
        await proxied.run_workflow("wpid_never_published", **{option: value})  # type: ignore[arg-type]
    assert option in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_an_unmapped_proxy_name_is_refused_before_the_rerun_starts(
    proxied: Client, published: Published
) -> None:
    query = f"WorkflowType = 'ScriptRunWorkflow' AND TaskQueue = '{proxied.task_queue}'"
    before = (await proxied.temporal.count_workflows(query)).count
    with pytest.raises(ProxyNotConfiguredError, match="'RESIDENTIAL_JP' is not mapped"):
        await proxied.run_workflow(published.workflow_id, proxy_location="residential_jp")
    assert (await proxied.temporal.count_workflows(query)).count == before


@pytest.mark.parametrize("call", ["run_workflow", "get_workflow", "list_workflows", "publish_run"])
async def test_a_missed_request_deadline_names_the_option(
    proxied: Client, published: Published, call: str
) -> None:
    argument = {
        "run_workflow": published.workflow_id,
        "get_workflow": published.workflow_id,
        "list_workflows": 10,
        "publish_run": published.run.run_id,
    }[call]
    method = getattr(proxied, call)
    with pytest.raises(RequestTimeoutError, match="timeout_in_seconds"):
        await method(argument, request_options={"timeout_in_seconds": 0.000_001})
    # The same call with a deadline it can meet, and metadata, goes through (a rerun to its end).
    options = {"timeout_in_seconds": 30, "additional_headers": {"x-caller": "tests"}}
    waits = {"wait_for_completion": True} if call == "run_workflow" else {}
    answer = await method(argument, request_options=options, **waits)
    assert answer and getattr(answer, "status", RunStatus.completed) is RunStatus.completed


async def test_a_run_published_after_the_fact_keeps_its_headers(
    client: Client, sites: SiteServer, token: str
) -> None:
    site = watched_site(sites, "rerun")
    run = await client.run_task(
        f'{token} Click "Continue"',
        url=sites.url + site.landing,
        user_agent=AGENT,
        extra_http_headers=HEADERS,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    workflow = await client.publish_run(run.run_id)
    assert workflow.browser_options.user_agent == AGENT
    site.seen.clear()
    rerun = await client.run_workflow(workflow.workflow_id, wait_for_completion=True)
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    assert site.seen and all(h["user-agent"] == AGENT for h in site.seen)
    assert all(h["x-team"] == HEADERS["X-Team"] for h in site.seen)


async def test_browser_address_is_not_kept_but_a_rerun_can_give_it(
    client: Client,
    plugin: WayfinderPlugin,
    sites: SiteServer,
    chromium: ExternalChromium,  # noqa: F811 - the imported fixture
    token: str,
) -> None:
    site = watched_site(sites, "rerun")
    run = await client.run_task(
        f'{token} Click "Continue"',
        url=sites.url + site.landing,
        browser_address=chromium.address,
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.workflow_id is not None
    # A browser someone started may be gone, or another, by the time of a rerun.
    assert (await client.get_workflow(run.workflow_id)).browser_options.browser_address is None
    websocket = chromium.version()["webSocketDebuggerUrl"]
    assert websocket not in plugin.runtime.host.remote_addresses
    rerun = await client.run_workflow(
        run.workflow_id, browser_address=websocket, wait_for_completion=True
    )
    assert rerun.status is RunStatus.completed, rerun.failure_reason
    assert websocket in plugin.runtime.host.remote_addresses  # the rerun attached to it
    assert chromium.process.poll() is None and chromium.tab_urls() == ["about:blank"]
