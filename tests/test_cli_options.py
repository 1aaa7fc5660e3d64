"""`wayfinder run` and `wayfinder rerun` flags for the browser a run opens (and run_task's other
options), run as a user runs the command: a separate process on the session's Temporal, with
a worker of this module's own whose WAYFINDER_PROXIES maps a real proxy on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.cli import cli_env, run_cli
from tests.fixtures.proxy_server import PASSWORD, ProxyServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.watched_site import watched_site
from wayfinder import Client
from wayfinder.settings import Settings


@pytest.fixture
def env(settings: Settings, proxied: Client, proxy: ProxyServer) -> dict[str, str]:
    """The command's environment: the session's Temporal, the module's queue and proxies."""
    assert settings.temporal_address
    return cli_env(
        settings.home,
        TEMPORAL_ADDRESS=settings.temporal_address,
        WAYFINDER_TASK_QUEUE=proxied.task_queue,
        WAYFINDER_PROXIES=json.dumps(proxy.named()),
    )


def _body(out: str) -> dict[str, object]:
    body: dict[str, object] = json.loads(out[out.index("{") :])
    return body


async def test_a_run_through_a_named_proxy_then_a_rerun_with_other_options(
    env: dict[str, str], sites: SiteServer, token: str
) -> None:
    """The run goes through the proxy named by --proxy-location, with its user agent and
    header, and is published; its rerun replaces each of them from the command line."""
    site = watched_site(sites, "cli")
    code, out, err = await run_cli(
        "run",
        f'{token} Click "Continue"',
        "--url",
        sites.url + site.landing,
        "--proxy-location",
        "residential_us",
        "--user-agent",
        "WayfinderCli/1.0",
        "--header",
        "X-Team: billing-bots",
        "--publish",
        env=env,
    )
    assert code == 0, err
    body = _body(out)
    assert body["status"] == "completed", body
    assert site.through_proxy() == [True, True]  # the landing page and the overview
    assert {h["user-agent"] for h in site.seen} == {"WayfinderCli/1.0"}
    assert {h["x-team"] for h in site.seen} == {"billing-bots"}
    assert PASSWORD not in out + err

    site.seen.clear()
    code, out, err = await run_cli(
        "rerun",
        str(body["workflow_id"]),
        "--proxy-location",
        "NONE",
        "--user-agent",
        "WayfinderRerun/2.0",
        "--header",
        "X-Team: support",
        env=env,
    )
    assert code == 0, err
    assert _body(out)["status"] == "completed"
    assert site.through_proxy() == [False, False]
    assert {h["user-agent"] for h in site.seen} == {"WayfinderRerun/2.0"}
    assert {h["x-team"] for h in site.seen} == {"support"}


# Every bad field is told at once, so one command checks several flags (each command is a new
# Python process, seconds on a loaded machine).
BAD_RUN_FLAGS = {
    "--proxy-location": ("east coast", "--proxy-location must be a location name"),
    "--max-screenshot-scrolls": ("99", "--max-screenshot-scrolls: Input should be less"),
    "--header": ("X Team: a", "--header: invalid HTTP header name 'X Team'"),
    "--browser-address": ("ftp://127.0.0.1:9222", "--browser-address must be a browser's CDP"),
    "--webhook-url": ("ftp://hooks.example", "--webhook-url"),
    "--totp-identifier": (" ", "--totp-identifier must not be blank"),
    "--error-code": ("LOCKED=", "--error-code: error codes and their descriptions"),
}


@pytest.mark.parametrize(
    ("flags", "errors"),
    [
        (
            [arg for flag, (value, _) in BAD_RUN_FLAGS.items() for arg in (flag, value)],
            [error for _, error in BAD_RUN_FLAGS.values()],
        ),
        (["--proxy-location", "residential_jp"], ["'RESIDENTIAL_JP' is not mapped"]),
        (["--session", "pbs_x", "--user-agent", "A"], ["--session cannot go with --user-agent"]),
        (["--header", "no colon"], ["--header takes 'Name: value'"]),
        (["--header", "X-Team: a", "--header", "x-team: b"], ["--header given twice for x-team"]),
    ],
)
async def test_bad_run_flags_are_refused_by_name_before_anything_starts(
    env: dict[str, str], proxied: Client, flags: list[str], errors: list[str]
) -> None:
    before = [run.run_id for run in await proxied.list_runs(limit=5)]
    code, out, err = await run_cli(
        "run", "Get the title", "--url", "https://example.com", *flags, env=env
    )
    assert code == 2 and out == ""
    assert [error for error in errors if error not in err] == []
    assert [run.run_id for run in await proxied.list_runs(limit=5)] == before


async def test_bad_rerun_flags_are_refused_by_name(env: dict[str, str]) -> None:
    code, out, err = await run_cli(
        "rerun",
        "wpid_unknown",
        "--browser-address",
        "ftp://127.0.0.1:9222",
        "--proxy-location",
        "east coast",
        "--max-screenshot-scrolls",
        "-1",
        env=env,
    )
    assert code == 2 and out == ""
    assert "--browser-address must be a browser's CDP" in err
    assert "--proxy-location must be a location name" in err
    assert "--max-screenshot-scrolls: Input should be greater" in err
