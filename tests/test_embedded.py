"""The embedded mode under abuse: `wayfinder` commands killed, interrupted and raced.

Every test has its own WAYFINDER_HOME and runs the CLI as a real subprocess with no
TEMPORAL_ADDRESS, so each starts (and tears down) its own embedded host and server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import TOP_STORY
from wayfinder import Client
from wayfinder.devserver import DevServer, free_port, is_serving
from wayfinder.search_attributes import ENGINE, STATUS, TITLE

COMMAND_TIMEOUT = 120.0


def _sender(token: str) -> str:
    """A name of this test's own, so that its form submission is told from other tests'."""
    return "Grace " + token.strip("[]").split()[-1]


def _contact_task(token: str) -> str:
    return (
        f'{token} Fill "{_sender(token)}" into "Name", fill "grace@example.com" into "Email", '
        'select "Billing" from "Topic", fill "Please resend invoice 42." into "Message", '
        'check "I agree", then click "Send".'
    )


def _processes_of(home: Path) -> list[int]:
    """Pids of every process started for this home (the host by its env, temporal by its db)."""
    pids = []
    marker = str(home).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if marker in seen and state != "Z":
            pids.append(int(entry.name))
    return pids


def _temporal_servers_of(home: Path) -> list[int]:
    db = str(home / "temporal.db").encode()
    return [
        pid
        for pid in _processes_of(home)
        if db in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    ]


class Cli:
    """The `wayfinder` command for one WAYFINDER_HOME."""

    def __init__(self, home: Path, fake_model: FakeAnthropicServer) -> None:
        self.home = home
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANTHROPIC_", "TEMPORAL_", "WAYFINDER_"))
        }
        self.env = {
            **base,
            "WAYFINDER_HOME": str(home),
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": fake_model.url,
        }

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wayfinder.cli",
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        process = await self.start(*args)
        return await finish(process)


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def read_until(process: asyncio.subprocess.Process, prefix: str) -> list[str]:
    """Lines of stdout up to and including the first that starts with `prefix`."""
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(COMMAND_TIMEOUT):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, f"output ended before {prefix!r}: {lines}"
            lines.append(line)
            if line.startswith(prefix):
                return lines


def run_id_of(lines: list[str]) -> str:
    started = next(line for line in lines if line.startswith("run "))
    return started.split()[1]


def body_of(out: str) -> dict[str, object]:
    body: dict[str, object] = json.loads(out[out.index("{") :])
    return body


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh WAYFINDER_HOME; nothing started for it survives the test."""
    yield tmp_path
    for pid in _processes_of(tmp_path):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while _processes_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_of(tmp_path)


@pytest.fixture
def cli(home: Path, fake_model: FakeAnthropicServer) -> Cli:
    return Cli(home, fake_model)


@pytest.fixture
async def stopped(cli: Cli) -> AsyncIterator[None]:
    """Stops the embedded host the normal way at the end (the `home` fixture kills leftovers)."""
    yield
    code, _, err = await cli("stop")
    assert code == 0, err


async def test_killed_run_takes_nothing_with_it(
    cli: Cli, stopped: None, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    """kill -9 of a `wayfinder run` mid-run: the next run completes at once, and the killed
    one still finishes in the background host."""
    fake_model.delay(match=token, seconds=0.5)
    first = await cli.start("run", _contact_task(token), "--url", f"{sites.url}/contact")
    lines = await read_until(first, "step ")
    first.kill()
    await first.wait()
    killed_at = time.monotonic()

    code, out, err = await cli("run", "Get the title of the top post", "--url", f"{sites.url}/news")
    elapsed = time.monotonic() - killed_at
    assert code == 0, err
    assert body_of(out)["output"] == TOP_STORY
    print(f"\nkill -9 to second run completed: {elapsed:.1f}s")

    killed_run = run_id_of(lines)
    async with asyncio.timeout(60):
        while True:
            code, out, err = await cli("get", killed_run)
            assert code == 0, err
            if json.loads(out)["status"] != "running":
                break
            await asyncio.sleep(1)
    assert json.loads(out)["status"] == "completed"
    assert [s.get("name") for s in sites.submissions].count(_sender(token)) == 1


async def test_concurrent_runs_survive_the_first_ending(
    cli: Cli,
    stopped: None,
    home: Path,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
) -> None:
    """Two terminals: the short run (which started the server) ends first; the long one goes on."""
    fake_model.delay(match=token, seconds=0.5)
    short = await cli.start("run", "Get the title of the top post", "--url", f"{sites.url}/news")
    long = await cli.start("run", _contact_task(token), "--url", f"{sites.url}/contact")
    code, out, err = await finish(short)
    assert code == 0, err
    assert body_of(out)["status"] == "completed"
    assert long.returncode is None  # still going when the first one has ended
    code, out, err = await finish(long)
    assert code == 0, err
    assert body_of(out)["status"] == "completed"
    assert err == ""
    assert len(_temporal_servers_of(home)) == 1


async def test_ctrl_c_cancels_the_run_and_prints_its_end(
    cli: Cli, stopped: None, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(match=token, seconds=1.0)
    process = await cli.start(
        "run", f'{token} Keep clicking "Next page"', "--url", f"{sites.url}/pages/1"
    )
    lines = await read_until(process, "step ")
    process.send_signal(signal.SIGINT)
    code, out, err = await finish(process)
    assert code == 130
    assert f"canceling run {run_id_of(lines)}" in err
    assert body_of(out)["status"] == "canceled"
    assert "Traceback" not in err

    code, out, _ = await cli("get", run_id_of(lines))
    assert json.loads(out)["status"] == "canceled"


async def test_second_ctrl_c_leaves_at_once_and_says_how_to_follow(
    cli: Cli, stopped: None, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(match=token, seconds=5.0)
    process = await cli.start(
        "run", f'{token} Keep clicking "Next page"', "--url", f"{sites.url}/pages/1"
    )
    lines = await read_until(process, "run ")
    run_id = run_id_of(lines)
    process.send_signal(signal.SIGINT)
    await asyncio.sleep(0.5)
    process.send_signal(signal.SIGINT)
    left_at = time.monotonic()
    code, _, err = await finish(process)
    assert time.monotonic() - left_at < 5
    assert code == 130
    assert f"`wayfinder get {run_id}`" in err and f"`wayfinder cancel {run_id}`" in err
    assert "Traceback" not in err


async def test_killed_host_is_replaced_not_waited_on(
    cli: Cli, stopped: None, home: Path, sites: SiteServer
) -> None:
    """The background host killed with -9 leaves its `temporal` behind; the next command
    replaces both instead of talking to a server that has no worker."""
    code, _, err = await cli("get", "tsk_none")
    assert code == 2 and "no run with id" in err
    state = json.loads((home / "devserver.json").read_text())
    orphans = _temporal_servers_of(home)
    assert len(orphans) == 1
    os.kill(state["host_pid"], signal.SIGKILL)

    code, out, err = await cli("run", "Get the title of the top post", "--url", f"{sites.url}/news")
    assert code == 0, err
    assert body_of(out)["output"] == TOP_STORY
    servers = _temporal_servers_of(home)
    assert len(servers) == 1 and servers != orphans


async def test_racing_starts_share_one_server(cli: Cli, stopped: None, home: Path) -> None:
    processes = [await cli.start("get", "tsk_none") for _ in range(3)]
    results = await asyncio.gather(*(finish(p) for p in processes))
    assert [code for code, _, _ in results] == [2, 2, 2]
    assert all("no run with id" in err for _, _, err in results)
    assert len(_temporal_servers_of(home)) == 1


async def test_startup_with_a_running_host_is_quicker(cli: Cli, stopped: None) -> None:
    began = time.monotonic()
    code, _, _ = await cli("get", "tsk_none")
    cold = time.monotonic() - began
    began = time.monotonic()
    code, _, _ = await cli("get", "tsk_none")
    warm = time.monotonic() - began
    assert code == 2
    print(f"\nCLI `get` cold (starts the host): {cold:.1f}s, with the host running: {warm:.1f}s")
    assert warm < cold


async def test_dev_on_a_busy_port_fails_with_one_line(
    cli: Cli, home: Path, temporal_server: DevServer
) -> None:
    """Another Temporal server already answers on the port: refuse, do not adopt it."""
    code, out, err = await cli(
        "dev", "--port", str(temporal_server.port), "--ui-port", str(free_port())
    )
    assert code == 2
    assert err.count("\n") == 1 and f"port {temporal_server.port}" in err
    assert "already in use" in err
    assert "Temporal at" not in out
    assert not (home / "devserver.json").exists()


async def test_dev_servers_register_wayfinder_search_attributes(client: Client) -> None:
    response = await client.temporal.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.temporal.namespace)
    )
    registered = dict(response.custom_attributes)
    assert registered.get(STATUS.name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    assert registered.get(TITLE.name) == IndexedValueType.INDEXED_VALUE_TYPE_TEXT
    assert registered.get(ENGINE.name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def test_no_wait_run_is_executed_by_the_host(
    cli: Cli, stopped: None, sites: SiteServer
) -> None:
    code, out, err = await cli(
        "run", "Get the title of the top post", "--url", f"{sites.url}/news", "--no-wait"
    )
    assert code == 0 and err == ""
    run_id = run_id_of(out.splitlines())
    async with asyncio.timeout(60):
        while True:
            code, out, err = await cli("get", run_id)
            assert code == 0, err
            if json.loads(out)["status"] == "completed":
                break
            await asyncio.sleep(0.5)
    assert json.loads(out)["output"] == TOP_STORY


async def test_following_a_run_whose_host_dies_fails_with_one_line(
    cli: Cli,
    stopped: None,
    home: Path,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
) -> None:
    fake_model.delay(match=token, seconds=1.0)
    process = await cli.start(
        "run", f'{token} Keep clicking "Next page"', "--url", f"{sites.url}/pages/1"
    )
    await read_until(process, "step ")
    state = json.loads((home / "devserver.json").read_text())
    os.killpg(state["host_pgid"], signal.SIGKILL)
    code, _, err = await finish(process)
    assert code == 2
    assert err.count("\n") == 1 and "the embedded server and worker stopped" in err


async def test_server_left_by_an_older_wayfinder_is_replaced(
    cli: Cli, stopped: None, home: Path, sites: SiteServer
) -> None:
    """What a killed `wayfinder run` of earlier versions left: a `temporal` with no worker,
    named by `{"pid", "address"}` in devserver.json. It is replaced, not waited on."""
    orphan = DevServer(db_file=home / "temporal.db")
    await orphan.start()
    try:
        state = {"pid": orphan.pid, "address": orphan.address, "ui_url": None}
        (home / "devserver.json").write_text(json.dumps(state))

        code, out, err = await cli(
            "run", "Get the title of the top post", "--url", f"{sites.url}/news", "--timeout", "60"
        )
        assert code == 0, err
        assert body_of(out)["output"] == TOP_STORY
        assert orphan.returncode is not None or not await is_serving(orphan.address)
    finally:
        await orphan.stop()


async def test_host_without_worker_is_replaced_by_a_run(
    cli: Cli, stopped: None, home: Path, sites: SiteServer
) -> None:
    """`wayfinder get` in a shell with no API key starts a host without a worker; a later
    `wayfinder run` does not wait on it but replaces it."""
    keyless = {k: v for k, v in cli.env.items() if k != "ANTHROPIC_API_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wayfinder.cli",
        "get",
        "tsk_none",
        env=keyless,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    code, _, err = await finish(process)
    assert code == 2 and "no run with id" in err
    assert json.loads((home / "devserver.json").read_text())["worker"] is False

    code, out, err = await cli("run", "Get the title of the top post", "--url", f"{sites.url}/news")
    assert code == 0, err
    assert body_of(out)["output"] == TOP_STORY
    assert json.loads((home / "devserver.json").read_text())["worker"] is True


async def test_a_crashed_worker_is_reported_in_one_line(
    cli: Cli, temporal_server: DevServer
) -> None:
    """`wayfinder worker` whose worker dies (here: its namespace does not exist) says so and
    exits instead of idling as if it were polling."""
    cli.env.update(TEMPORAL_ADDRESS=temporal_server.address, TEMPORAL_NAMESPACE="no-such-ns")
    code, _, err = await cli("worker")
    assert code == 2
    assert err.splitlines()[-1].startswith(
        "wayfinder: the Wayfinder worker of this process stopped"
    )


async def test_a_failing_run_is_one_line_and_its_traceback_is_in_the_log(
    cli: Cli, stopped: None, home: Path
) -> None:
    code, out, err = await cli("run", "Get the title", "--url", f"http://127.0.0.1:{free_port()}/")
    assert code == 1
    body = body_of(out)
    assert body["status"] == "failed"
    assert "launch_browser" in str(body["failure_reason"])
    assert "Traceback" not in out + err
    assert "Traceback" in (home / "logs" / "embedded.log").read_text()


async def test_a_run_nothing_will_execute_is_pointed_out(
    cli: Cli, client: Client, temporal_server: DevServer, token: str
) -> None:
    """On a Temporal server where no worker polls the task queue, neither `--no-wait` nor a
    followed run waits silently."""
    queue = f"nobody-polls-{token.strip('[]').split()[-1]}"
    cli.env.update(TEMPORAL_ADDRESS=temporal_server.address, WAYFINDER_TASK_QUEUE=queue)
    started: list[str] = []
    try:
        code, out, err = await cli(
            "run", "Get the title", "--url", "https://example.com/", "--no-wait"
        )
        started.append(run_id_of(out.splitlines()))
        assert code == 0
        assert f"no worker polls task queue {queue!r}" in err

        code, out, err = await cli(
            "run", "Get the title", "--url", "https://example.com/", "--timeout", "8"
        )
        started.append(run_id_of(out.splitlines()))
        assert code == 2
        assert f"no worker polls task queue {queue!r}" in err
        assert "is still going after 8s" in err
    finally:
        for run_id in started:
            await client.temporal.get_workflow_handle(run_id).terminate("test cleanup")
