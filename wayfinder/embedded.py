"""The embedded mode: one background process holding the dev server and a worker for it.

With no TEMPORAL_ADDRESS, `Client.connect()` calls `ensure_host()`. The first call on a machine
spawns the *host*: a detached process (its own session, so no terminal's Ctrl-C or death reaches
it) that runs `temporal server start-dev` on `~/.wayfinder/temporal.db` and a Wayfinder worker,
and publishes its address in `~/.wayfinder/devserver.json`. Every later command reuses it. So a
`wayfinder run` that is killed takes nothing with it: its run goes on in the host, and no other
command ever depends on a terminal that may be closed.

Two locks in `~/.wayfinder`:
- `host.lock` is held by the live host for its whole life (the kernel drops it when the host
  dies, even by kill -9), so "is a host alive" never trusts a pid that may have been reused;
- `devserver.lock` is held only while a process checks for a host and starts one, so two
  processes racing to start end up on one server.
A host that is gone is replaced: its leftover `temporal` (same process group) is killed first,
since it holds the database. A host started with other settings (another API key, model, ...)
is replaced when it has no open run, else refused with a message naming the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

import temporalio.client
from pydantic import BaseModel, ValidationError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from wayfinder.devserver import STARTUP_TIMEOUT, is_serving
from wayfinder.errors import EmbeddedError
from wayfinder.settings import Settings

STATE_FILE = "devserver.json"
START_LOCK = "devserver.lock"
HOST_LOCK = "host.lock"
HOST_STARTUP_TIMEOUT = STARTUP_TIMEOUT + 30
"""Server start plus a Python import of the worker, on a loaded laptop."""
STOP_TIMEOUT = 20.0
UNHEALTHY_AFTER = 10.0
"""A live host whose server fails health checks for this long is replaced."""
POLLER_FRESHNESS = 90.0
"""Seconds since a poller's last poll for it to count as alive (a long poll lasts ~60 s)."""
NOT_WORKER_SETTINGS = frozenset(
    {"temporal_address", "home", "ui_url", "artifact_base_url", "artifact_port"}
)
"""Settings that do not change what the host's worker does; any other difference needs
another host (a new setting counts by default, which errs on the safe side)."""



class HostState(BaseModel):
    """What the live host publishes in `devserver.json`."""

    host_pid: int
    host_pgid: int
    """Its process group, which its `temporal` belongs to (the host's own for a spawned host)."""
    address: str
    ui_url: str | None = None
    artifacts_url: str | None = None
    """Where the artifacts (screenshots, recordings, traces, downloads) are served."""
    worker: bool
    """Whether the host runs a worker (it does not without an Anthropic API key)."""
    fingerprint: str
    replaceable: bool = True
    """False for `wayfinder dev`: a command with other settings is refused, not obeyed."""
    started_at: datetime


def log_dir(home: Path) -> Path:
    return home / "logs"


def host_log(home: Path) -> Path:
    return log_dir(home) / "embedded.log"


def fingerprint(settings: Settings) -> str:
    """A digest of the worker's settings (the API key is never written down in clear)."""
    values = {
        name: str(value)
        for name, value in settings.model_dump().items()
        if name not in NOT_WORKER_SETTINGS
    }
    values["artifact_dir"] = str(settings.artifacts)
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def read_state(home: Path) -> HostState | None:
    try:
        return HostState.model_validate_json((home / STATE_FILE).read_text())
    except (FileNotFoundError, ValidationError):
        return None


def write_state(home: Path, state: HostState) -> None:
    """Atomically, so a reader never sees half a file."""
    tmp = home / f"{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(state.model_dump_json())
    os.replace(tmp, home / STATE_FILE)


def clear_state(home: Path, host_pid: int) -> None:
    """Remove the state file if it is still this host's."""
    state = read_state(home)
    if state is not None and state.host_pid == host_pid:
        with contextlib.suppress(FileNotFoundError):
            (home / STATE_FILE).unlink()


def try_host_lock(home: Path) -> IO[str] | None:
    """`host.lock`, locked by us; None if a live host holds it."""
    home.mkdir(parents=True, exist_ok=True)
    lock = (home / HOST_LOCK).open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def host_alive(home: Path) -> bool:
    lock = try_host_lock(home)
    if lock is None:
        return True
    lock.close()
    return False


async def acquire_start_lock(home: Path) -> IO[str]:
    """The start lock, held until the returned file is closed; waits for another starter."""
    home.mkdir(parents=True, exist_ok=True)
    lock = (home / START_LOCK).open("a+")
    deadline = time.monotonic() + HOST_STARTUP_TIMEOUT + STOP_TIMEOUT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise EmbeddedError(
                    "another Wayfinder process has been starting the embedded server for "
                    f"too long; see {host_log(home)}"
                ) from None
            await asyncio.sleep(0.05)


async def serving_within(address: str, seconds: float = UNHEALTHY_AFTER) -> bool:
    """Whether the server answers a health check within `seconds` (a loaded machine is slow)."""
    deadline = time.monotonic() + seconds
    while True:
        if await is_serving(address):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)


async def ensure_host(settings: Settings) -> HostState:
    """The live host's address: the one running, else a new one started here.

    A host with a worker is required when this process has an Anthropic API key; without one
    (`wayfinder get`, `cancel`) any live host will do.
    """
    home = settings.home
    wanted = fingerprint(settings)
    # Fast path without the start lock: a healthy host with our settings.
    state = read_state(home)
    if state is not None and _fits(state, settings, wanted) and host_alive(home):
        if await is_serving(state.address):
            return state
    with await acquire_start_lock(home):
        return await _ensure_locked(settings, wanted)


def _fits(state: HostState, settings: Settings, wanted: str) -> bool:
    needs_worker = settings.anthropic_api_key is not None
    return state.fingerprint == wanted or not needs_worker


async def _ensure_locked(settings: Settings, wanted: str) -> HostState:
    home = settings.home
    lock = try_host_lock(home)
    if lock is None:
        state = await _wait_for_state(home)
        # Replacing a live host stops its runs' browsers: only when it is really not answering.
        if state is not None and await serving_within(state.address):
            if _fits(state, settings, wanted):
                return state
            if not state.replaceable:
                raise EmbeddedError(
                    f"`wayfinder dev` (pid {state.host_pid}) runs with other settings (API key, "
                    "model, task queue, ...) than this command: restart it with these"
                )
            await _refuse_if_busy(state, settings)
        # Alive but not serving, or serving with other settings and idle: replace it.
        await stop_host(home)
        lock = try_host_lock(home)
        if lock is None:
            raise EmbeddedError(f"the embedded server would not stop; see {host_log(home)}")
    with lock:
        await kill_leftovers(home)
        return await _spawn(settings, lock)


async def _wait_for_state(home: Path) -> HostState | None:
    """The state of a live host that may still be starting (spawned by a process since killed)."""
    deadline = time.monotonic() + HOST_STARTUP_TIMEOUT
    while time.monotonic() < deadline and host_alive(home):
        state = read_state(home)
        if state is not None:
            return state
        await asyncio.sleep(0.1)
    return None


async def _refuse_if_busy(state: HostState, settings: Settings) -> None:
    count = await open_runs(state.address, settings.temporal_namespace)
    if state.worker and count:
        raise EmbeddedError(
            f"the embedded worker (pid {state.host_pid}) runs with other settings (API key, "
            f"model, task queue, ...) and has {count} open run(s); wait for them to end or stop "
            "it with `wayfinder stop`, then run again"
        )


async def stop_host(home: Path, timeout: float = STOP_TIMEOUT) -> bool:  # noqa: ASYNC109
    """SIGTERM the live host (and its server); SIGKILL after `timeout`. Whether one was running."""
    state = read_state(home)
    if not host_alive(home):
        return False
    if state is None:
        state = await _wait_for_state(home)
    if state is None:
        raise EmbeddedError(
            f"a Wayfinder host holds {home / HOST_LOCK} but publishes no state; "
            f"see {host_log(home)}"
        )
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.host_pid, signal.SIGTERM)  # the host stops its server itself
    deadline = time.monotonic() + timeout
    while host_alive(home):
        if time.monotonic() > deadline + 5:
            raise EmbeddedError(f"the embedded host (pid {state.host_pid}) would not stop")
        if time.monotonic() > deadline:
            _kill_group(state)
        await asyncio.sleep(0.1)
    await kill_leftovers(home)
    return True


def _kill_group(state: HostState) -> None:
    for kill, target in ((os.killpg, state.host_pgid), (os.kill, state.host_pid)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(target, signal.SIGKILL)


async def kill_leftovers(home: Path) -> None:
    """Kill the `temporal` a dead host left behind: it still holds the database.

    Only when the recorded address still answers, so that a process group id since reused by
    an unrelated program is not hit.
    """
    state = read_state(home)
    if state is None:
        await _kill_legacy_server(home)
        return
    if await is_serving(state.address):
        _kill_group(state)
        deadline = time.monotonic() + STOP_TIMEOUT
        # Polling another process's state: there is no event to wait on.
        while await is_serving(state.address) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    with contextlib.suppress(FileNotFoundError):
        (home / STATE_FILE).unlink()


async def _kill_legacy_server(home: Path) -> None:
    """Earlier versions recorded `{"pid": <temporal>}`, a server left running by a killed owner."""
    try:
        legacy = json.loads((home / STATE_FILE).read_text())
        pid, address = int(legacy["pid"]), str(legacy["address"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return
    if await is_serving(address):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        # Polling another process's state: there is no event to wait on.
        while await is_serving(address) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    with contextlib.suppress(FileNotFoundError):
        (home / STATE_FILE).unlink()


async def open_runs(address: str, namespace: str) -> int:
    """How many workflows are still open on the server."""
    temporal = await temporalio.client.Client.connect(address, namespace=namespace)
    counted = await temporal.count_workflows("ExecutionStatus = 'Running'")
    return counted.count


async def has_live_worker(temporal: temporalio.client.Client, task_queue: str) -> bool:
    """Whether some worker has polled `task_queue` for workflows lately (dead ones age out)."""
    response = await temporal.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=temporal.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = time.time()
    return any(
        now - poller.last_access_time.seconds < POLLER_FRESHNESS for poller in response.pollers
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings (they may not come from env)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WAYFINDER_", "TEMPORAL_", "ANTHROPIC_"))
    }
    for name, value in settings.model_dump().items():
        if value is not None and name != "temporal_address":
            # JSON for a mapping (WAYFINDER_PROXIES): that is how the child parses it back.
            text = json.dumps(value) if isinstance(value, dict) else str(value)
            env[f"WAYFINDER_{name.upper()}"] = text
    return env


async def _spawn(settings: Settings, lock: IO[str]) -> HostState:
    """Start a host that inherits our hold on `host.lock`, and wait until it serves."""
    home = settings.home
    log_dir(home).mkdir(parents=True, exist_ok=True)
    with host_log(home).open("ab") as log:
        start = log.tell()
        process = _popen_host(settings, lock, log)
    deadline = time.monotonic() + HOST_STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise EmbeddedError(
                f"the embedded server did not start (exit {code}): {_log_tail(home, start)}"
            )
        state = read_state(home)
        if state is not None and state.host_pid == process.pid:
            return state
        await asyncio.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    raise EmbeddedError(
        f"the embedded server did not start within {HOST_STARTUP_TIMEOUT:g}s; see {host_log(home)}"
    )


def _popen_host(settings: Settings, lock: IO[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Detached: its own session, so the terminal's Ctrl-C and hang-up never reach it.

    Not an asyncio subprocess: it outlives this process and its event loop.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "wayfinder.embedded_host", "--lock-fd", str(lock.fileno())],
        env=settings_env(settings),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=(lock.fileno(),),
        start_new_session=True,
    )


def _log_tail(home: Path, start: int) -> str:
    with host_log(home).open("rb") as log:
        log.seek(start)
        lines = log.read().decode(errors="replace").strip().splitlines()
    # The host logs why it stopped as an error; a crash before logging ends in a traceback.
    errors = [line for line in lines if " ERROR " in line] or lines
    return f"{errors[-1]} (see {host_log(home)})" if errors else f"no output; see {host_log(home)}"
