"""The embedded host: the dev server and a Wayfinder worker, in one long-lived process.

`python -m wayfinder.embedded_host --lock-fd N` is what `wayfinder.embedded` spawns, detached;
`wayfinder dev` runs `serve()` in the foreground with the UI. It publishes its state only once
the server is healthy and the worker polls, removes it before stopping, and stops on SIGTERM or
SIGINT, when its server or worker dies (logged loudly, exit 1), or after `IDLE_SHUTDOWN` with no
open run and no client attached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import temporalio.client
from temporalio.service import RPCError

from wayfinder.artifact_server import ArtifactServer
from wayfinder.devserver import DevServer
from wayfinder.embedded import (
    HostState,
    clear_state,
    fingerprint,
    has_live_worker,
    log_dir,
    open_runs,
    write_state,
)
from wayfinder.plugin import WayfinderPlugin
from wayfinder.settings import Settings, get_settings
from wayfinder.worker import build_worker

log = logging.getLogger("wayfinder.embedded")

IDLE_SHUTDOWN = 15 * 60.0
"""A background host with nothing to do for this long exits; the next command starts another."""
IDLE_CHECK = 30.0
WORKER_STARTUP_TIMEOUT = 20.0
CLIENTS_LOCK = "clients.lock"
"""Clients hold it shared while they use the host; the host may idle out only when none does."""


def clients_lock(home: Path) -> Path:
    return home / CLIENTS_LOCK


def _clients_attached(home: Path) -> bool:
    with clients_lock(home).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


async def _idle(home: Path, address: str, namespace: str, after: float) -> None:
    """Returns once nothing has used the host for `after` seconds."""
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    while True:
        await asyncio.sleep(IDLE_CHECK)
        try:
            busy = _clients_attached(home) or await open_runs(address, namespace) > 0
        except RPCError:
            busy = True  # the server's own trouble is seen by the supervisor, not here
        if busy:
            idle_since = loop.time()
        elif loop.time() - idle_since >= after:
            log.info("no open run and no client for %.0f s: stopping", after)
            return


async def _until_polling(
    temporal: temporalio.client.Client, task_queue: str, running: asyncio.Task[None]
) -> None:
    """Until the worker polls, so that no command sees this host before it can run a task."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WORKER_STARTUP_TIMEOUT
    while not running.done() and loop.time() < deadline:
        if await has_live_worker(temporal, task_queue):
            return
        await asyncio.sleep(0.1)


async def serve(
    settings: Settings,
    *,
    port: int | None = None,
    ui_port: int | None = None,
    headless: bool = True,
    idle_shutdown: float | None = IDLE_SHUTDOWN,
    replaceable: bool = True,
    on_ready: Callable[[HostState], None] | None = None,
) -> int:
    """Run the server and worker until told to stop; the exit code."""
    home = settings.home
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = DevServer(
        db_file=home / "temporal.db",
        port=port,
        ui_port=ui_port,
        headless=headless,
        namespace=settings.temporal_namespace,
        log_file=log_dir(home) / "temporal.log",
    )
    # The worker's links point at this server, unless the deployment serves artifacts itself.
    artifacts = ArtifactServer(settings.artifacts, port=settings.artifact_port)
    async with server, contextlib.AsyncExitStack() as serving:
        artifact_base_url = settings.artifact_base_url
        if artifact_base_url is None:
            await artifacts.start(fall_back_to_free_port=True)
            serving.push_async_callback(artifacts.stop)
            artifact_base_url = artifacts.url
        ui_url = server.ui_url or settings.ui_url
        worker_settings = settings.model_copy(
            update={"ui_url": ui_url, "artifact_base_url": artifact_base_url}
        )
        temporal = await temporalio.client.Client.connect(
            server.address,
            namespace=settings.temporal_namespace,
            plugins=[WayfinderPlugin(worker_settings)],
        )
        watched: dict[asyncio.Task[Any], str] = {
            asyncio.create_task(stop.wait()): "stop",
            asyncio.create_task(server.wait()): "server",
        }
        worker = None
        if settings.anthropic_api_key is not None:
            worker = build_worker(temporal, settings.task_queue)
            running = asyncio.create_task(worker.run())
            watched[running] = "worker"
            await _until_polling(temporal, settings.task_queue, running)
        else:
            log.warning("no Anthropic API key: serving without a worker")
        if idle_shutdown is not None:
            watched[
                asyncio.create_task(
                    _idle(home, server.address, settings.temporal_namespace, idle_shutdown)
                )
            ] = "idle"
        state = HostState(
            host_pid=os.getpid(),
            host_pgid=os.getpgrp(),
            address=server.address,
            ui_url=ui_url,
            artifacts_url=artifact_base_url,
            worker=worker is not None,
            fingerprint=fingerprint(settings),
            replaceable=replaceable,
            started_at=datetime.now(UTC),
        )
        # A worker or server that died while starting is never published.
        if not any(task.done() for task in watched):
            write_state(home, state)
            log.info("serving %s (worker: %s)", server.address, worker is not None)
            if on_ready is not None:
                on_ready(state)
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        # Unpublished first, so that no command picks a host that is going away.
        clear_state(home, os.getpid())
        code = 0
        for task in done:
            what = watched[task]
            if what == "server":
                log.error(
                    "the temporal server exited with %s; see %s", server.returncode, server.log_file
                )
                code = 1
            elif what == "worker":
                error = task.exception()
                log.error("the Wayfinder worker stopped: %r", error, exc_info=error)
                code = 1
        for task in watched:
            if watched[task] != "worker":
                task.cancel()
        if worker is not None and code == 0:
            await worker.shutdown()
        log.info("stopped (exit %s)", code)
    return code


def main() -> NoReturn:
    parser = argparse.ArgumentParser(prog="python -m wayfinder.embedded_host")
    parser.add_argument("--lock-fd", type=int, required=True, help="inherited hold on host.lock")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s host[{os.getpid()}] %(levelname)s %(name)s: %(message)s",
    )
    # The inherited descriptor stays open for the process's life: it is the hold on host.lock.
    os.set_inheritable(args.lock_fd, False)
    code = asyncio.run(serve(get_settings()))
    sys.stdout.flush()
    sys.stderr.flush()
    # Without interpreter teardown: see `wayfinder.cli.main` (temporalio/sdk-python#300).
    os._exit(code)


if __name__ == "__main__":
    main()
