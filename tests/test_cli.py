"""The `wayfinder` command, run as a user runs it: a separate process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.cli import cli_env, run_cli
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import TOP_STORY, WATERING_CAN_PRICE
from wayfinder import Client
from wayfinder.settings import Settings


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return cli_env(settings.home, **extra)


async def test_run_prints_steps_then_output(
    client: Client, settings: Settings, sites: SiteServer
) -> None:
    """The CLI starts the run on the session's Temporal; the session's worker executes it."""
    assert settings.temporal_address
    env = _env(
        settings,
        TEMPORAL_ADDRESS=settings.temporal_address,
        WAYFINDER_TASK_QUEUE=client.task_queue,
    )
    code, out, err = await run_cli(
        "run",
        'Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        "--url",
        f"{sites.url}/shop",
        env=env,
    )
    assert code == 0, err
    lines = out.splitlines()
    step_lines = [line for line in lines if line.startswith("step ")]
    assert [line.split()[1] for line in step_lines] == ["1", "2", "3"]
    assert "click" in step_lines[0] and "Catalogue" in step_lines[0]
    assert f"{sites.url}/shop/catalogue" in step_lines[0]
    body = json.loads(out[out.index("{") :])
    assert body["status"] == "completed"
    assert WATERING_CAN_PRICE in json.dumps(body["output"])

    code, out, _ = await run_cli("get", body["run_id"], env=env)
    assert code == 0 and json.loads(out)["status"] == "completed"


async def test_run_without_api_key_says_what_is_missing(settings: Settings) -> None:
    code, out, err = await run_cli(
        "run", "Get the title", "--url", "https://example.com", env=_env(settings)
    )
    assert code == 2
    assert "ANTHROPIC_API_KEY is not set" in err
    assert out == ""


async def test_run_rejects_bad_input_naming_the_field(settings: Settings) -> None:
    code, _, err = await run_cli(
        "run", "Get the title", "--url", "ftp://example.com", "--max-steps", "0", env=_env(settings)
    )
    assert code == 2
    assert "--url must start with http" in err and "--max-steps: Input should be" in err


async def test_run_alone_on_a_laptop(
    settings: Settings, sites: SiteServer, fake_model: FakeAnthropicServer, tmp_path: Path
) -> None:
    """No TEMPORAL_ADDRESS: the command starts the embedded dev server and a worker itself,
    and a later `wayfinder get` finds the run in the embedded server's database."""
    env = _env(
        settings,
        WAYFINDER_HOME=str(tmp_path),
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=fake_model.url,
    )
    code, out, err = await run_cli(
        "run", "Get the title of the top post", "--url", f"{sites.url}/news", env=env
    )
    assert code == 0, err
    body = json.loads(out[out.index("{") :])
    assert body["status"] == "completed" and body["output"] == TOP_STORY
    assert (tmp_path / "temporal.db").exists()

    code, out, err = await run_cli("get", body["run_id"], env=env)
    assert code == 0, err
    assert json.loads(out)["output"] == TOP_STORY
    # The server outlives the commands (see docs/embedded-mode.md) until stopped.
    code, out, err = await run_cli("stop", env=env)
    assert code == 0 and out.startswith("stopped the embedded server"), err
    assert not (tmp_path / "devserver.json").exists()
