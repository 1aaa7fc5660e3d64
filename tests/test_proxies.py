"""proxy_location: each run's browser goes through its own proxy, a real one on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import temporalio.client

from tests.fixtures.proxy_server import PASSWORD, ProxyServer
from tests.fixtures.sites import SiteRequest, SiteServer
from wayfinder import Client, RunStatus, WayfinderPlugin
from wayfinder.embedded import settings_env
from wayfinder.models import TaskRunRequest
from wayfinder.proxies import ProxyNotConfiguredError, prepare_proxy, resolve_proxy
from wayfinder.settings import Settings

PAGE = """<!doctype html><title>Welcome</title><h1>Welcome back</h1>
<p>Your account overview is one click away.</p><a href="/news">Continue</a>"""


def _page(sites: SiteServer, name: str, seen: list[str]) -> str:
    def landing(request: SiteRequest) -> str:
        seen.append(name)
        return PAGE

    path = f"/proxied-{name}-{uuid.uuid4().hex[:8]}"
    sites.add_page(path, landing)
    return path


async def _history_json(client: Client, run_id: str) -> str:
    history = await client.temporal.get_workflow_handle(run_id).fetch_history()
    return history.to_json()


async def test_runs_use_their_own_proxy_and_others_bypass_it(
    proxied: Client,
    sites: SiteServer,
    proxy: ProxyServer,
    token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the worker runs in this process: its logs are here too
    seen: list[str] = []
    paths = {name: _page(sites, name, seen) for name in ("named", "direct", "none")}
    locations: dict[str, object] = {
        "named": "RESIDENTIAL_US",
        "direct": {"url": f"http://runner:{PASSWORD}@127.0.0.1:{proxy.port}"},
        "none": None,
    }
    for name, location in locations.items():
        result = await proxied.run_task(
            f'{token} Click "Continue"',
            url=f"{sites.url}{paths[name]}",
            proxy_location=location,  # type: ignore[arg-type]
            wait_for_completion=True,
        )
        assert result.status is RunStatus.completed, (name, result.failure_reason)
        assert PASSWORD not in result.model_dump_json()
        assert PASSWORD not in await _history_json(proxied, result.run_id)
    assert sorted(seen) == ["direct", "named", "none"]  # every page was served
    through_proxy = proxy.requests()
    assert any(paths["named"] in line for line in through_proxy)
    assert any(paths["direct"] in line for line in through_proxy)
    assert not any(paths["none"] in line for line in through_proxy)
    assert caplog.records and PASSWORD not in caplog.text


async def test_a_wrong_password_never_reaches_the_site(
    proxied: Client, sites: SiteServer, proxy: ProxyServer, token: str
) -> None:
    seen: list[str] = []
    path = _page(sites, "refused", seen)
    wrong = f"wrong-{uuid.uuid4().hex[:6]}"
    result = await proxied.run_task(
        f'{token} Click "Continue"',
        url=f"{sites.url}{path}",
        proxy_location={"url": f"http://runner:{wrong}@127.0.0.1:{proxy.port}"},
        wait_for_completion=True,
    )
    assert result.status is not RunStatus.completed
    assert seen == []  # the proxy refused it: no way round it to the site
    assert wrong not in json.dumps(result.model_dump(mode="json"))
    assert wrong not in await _history_json(proxied, result.run_id)


async def test_unmapped_location_is_refused_before_the_run_starts(proxied: Client) -> None:
    before = [run.run_id for run in await proxied.list_runs(limit=5)]
    with pytest.raises(ProxyNotConfiguredError, match="'RESIDENTIAL_JP' is not mapped") as caught:
        await proxied.run_task("Get the title", proxy_location="residential_jp")
    assert "RESIDENTIAL_US" in str(caught.value)  # the names it does know
    assert [run.run_id for run in await proxied.list_runs(limit=5)] == before


def test_direct_credentials_are_sealed_for_history_and_opened_on_the_worker(
    settings: Settings,
) -> None:
    request = TaskRunRequest(
        prompt="x", proxy_location={"url": f"http://runner:{PASSWORD}@127.0.0.1:3128"}
    )
    assert PASSWORD not in repr(request)
    with pytest.raises(ValueError, match="must be sealed"):
        request.model_dump_json()  # never serialized with the password in clear
    sealed = prepare_proxy(request.proxy_location, settings)
    in_history = request.model_copy(update={"proxy_location": sealed}).model_dump_json()
    assert PASSWORD not in in_history and "127.0.0.1:3128" in in_history
    assert resolve_proxy(sealed, settings) == {
        "server": "http://127.0.0.1:3128",
        "username": "runner",
        "password": PASSWORD,
    }


@pytest.mark.parametrize(
    "location",
    [
        {"url": f"ftp://runner:{PASSWORD}@127.0.0.1:21"},
        {"url": f"http://runner:{PASSWORD}@127.0.0.1:99999"},
        {"url": f"socks5://runner:{PASSWORD}@127.0.0.1:1080"},
        f"http://runner:{PASSWORD}@127.0.0.1:3128",
    ],
)
def test_a_refused_proxy_url_is_not_echoed(location: object) -> None:
    with pytest.raises(ValueError, match="proxy_location") as caught:
        TaskRunRequest(prompt="x", proxy_location=location)  # type: ignore[arg-type]
    assert PASSWORD not in str(caught.value)


def test_proxies_setting_is_checked_and_names_are_case_blind() -> None:
    assert Settings(proxies={"residential_us": "http://p:1"}).proxies == {
        "RESIDENTIAL_US": "http://p:1"
    }
    with pytest.raises(ValueError, match="cannot map NONE"):
        Settings(proxies={"none": "http://p:1"})
    with pytest.raises(ValueError, match=r"WAYFINDER_PROXIES\['EU'\] must be a proxy URL") as bad:
        Settings(proxies={"eu": f"ftp://u:{PASSWORD}@p:1"})
    assert PASSWORD not in str(bad.value)


async def test_a_worker_without_the_name_fails_the_run_at_launch(
    client: Client, settings: Settings, sites: SiteServer, token: str
) -> None:
    """A client that knows a name its workers do not (a misconfigured deployment)."""
    knows_more = settings.model_copy(update={"proxies": {"RESIDENTIAL_FR": "http://p.fr:8080"}})
    temporal = temporalio.client.Client(
        client.temporal.service_client,
        namespace=client.temporal.namespace,
        plugins=[WayfinderPlugin(knows_more)],
    )
    result = await Client(temporal, task_queue=client.task_queue).run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        proxy_location="RESIDENTIAL_FR",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.failed
    assert "'RESIDENTIAL_FR' is not mapped in WAYFINDER_PROXIES of this worker" in (
        result.failure_reason or ""
    )


def test_proxies_reach_the_embedded_host_intact(monkeypatch: pytest.MonkeyPatch) -> None:
    given = Settings(proxies={"RESIDENTIAL_US": f"http://runner:{PASSWORD}@127.0.0.1:3128"})
    for key, value in settings_env(given).items():
        monkeypatch.setenv(key, value)
    assert Settings().proxies == given.proxies  # what the host process reads back
