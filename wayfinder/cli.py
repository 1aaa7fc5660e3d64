"""The `wayfinder` command: run, get, list, cancel, session, totp, workflows, code, rerun,
publish, worker, dev, stop, artifacts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from temporalio.service import RPCError

from wayfinder.cli_artifacts import add_artifacts_parser, artifacts_command
from wayfinder.cli_follow import (
    POLL_INTERVAL,
    CliError,
    Follower,
    Interrupts,
    has_worker,
    no_worker_message,
)
from wayfinder.cli_options import (
    add_browser_flags,
    browser_options,
    code_pair,
    error_codes,
    in_flags,
)
from wayfinder.cli_sessions import add_session_parser, session_command
from wayfinder.cli_totp import add_totp_parser, totp_command
from wayfinder.cli_workflows import WORKFLOW_COMMANDS, add_workflow_parsers, workflow_command
from wayfinder.client import Client
from wayfinder.embedded import (
    HostState,
    acquire_start_lock,
    host_log,
    kill_leftovers,
    log_dir,
    read_state,
    stop_host,
    try_host_lock,
)
from wayfinder.embedded_host import serve
from wayfinder.errors import WayfinderError
from wayfinder.models import RunStatus, TaskRunRequest, TaskRunResponse
from wayfinder.settings import get_settings

INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C, as shells report it."""


def _schema_arg(value: str) -> Any:
    """`--schema` takes inline JSON or @path/to/schema.json."""
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_text()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read schema file: {exc}") from None
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wayfinder", description="Durable AI browser automation on Temporal."
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print the log (tracebacks too) on stderr"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a task and print its steps and output")
    run.add_argument("prompt", help="what to do, in plain words")
    run.add_argument("--url", help="the page to start from")
    run.add_argument("--max-steps", type=int, help="stop with timed_out after this many steps")
    run.add_argument("--schema", type=_schema_arg, help="JSON Schema of the output (or @file)")
    run.add_argument("--model", help="Claude model name for this run")
    run.add_argument("--title", help="display name of the run")
    run.add_argument("--timeout", type=float, default=1800, help="seconds to wait (default 1800)")
    run.add_argument("--no-wait", action="store_true", help="print the run id and return")
    run.add_argument("--session", help="run in this browser session (pbs_...)")
    add_browser_flags(run)
    run.add_argument("--engine", help="skyvern_v2 (default) or skyvern_v1")
    run.add_argument("--webhook-url", help="POST the finished run to this URL")
    run.add_argument(
        "--error-code",
        type=code_pair,
        action="append",
        metavar="CODE=DESCRIPTION",
        help="fail with CODE when the page shows DESCRIPTION (repeat for each)",
    )
    run.add_argument("--totp-identifier", help="the login's 2FA identifier (see `wayfinder totp`)")
    run.add_argument("--totp-url", help="the URL a run asks for its 2FA code")
    run.add_argument(
        "--publish", action="store_true", help="publish the run as a workflow when it completes"
    )
    run.add_argument(
        "--run-with", choices=["code", "agent"], help="code: rerun this task's published workflow"
    )
    run.add_argument(
        "--verify-with-history",
        action="store_true",
        default=None,
        help="show the model the steps taken when it checks the task is done",
    )

    get = sub.add_parser("get", help="print a run as JSON")
    get.add_argument("run_id")
    runs = sub.add_parser("list", help="list runs, newest first")
    runs.add_argument("--status", choices=[s.value for s in RunStatus], help="only this status")
    runs.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    runs.add_argument("--json", action="store_true", help="print them as JSON lines")
    cancel = sub.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id")
    add_session_parser(sub)
    add_totp_parser(sub)
    add_workflow_parsers(sub)

    worker = sub.add_parser("worker", help="run a Wayfinder worker (TEMPORAL_ADDRESS or embedded)")
    worker.add_argument("--task-queue", help="shared task queue (default: wayfinder)")

    dev = sub.add_parser("dev", help="embedded dev server with the UI, and a worker")
    dev.add_argument("--port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)
    sub.add_parser("stop", help="stop the embedded server and its worker")
    add_artifacts_parser(sub)
    return parser


def _print_started(started: TaskRunResponse) -> None:
    link = f"  {started.app_url}" if started.app_url else ""
    print(f"run {started.run_id} started{link}", flush=True)


def _print_response(response: TaskRunResponse) -> None:
    print(response.model_dump_json(indent=2, exclude_none=True))


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        request = TaskRunRequest.model_validate(
            {
                "prompt": args.prompt,
                "url": args.url,
                "max_steps": args.max_steps,
                "data_extraction_schema": args.schema,
                "model": {"model_name": args.model} if args.model else None,
                "title": args.title,
                "timeout": args.timeout,
                "browser_session_id": args.session,
                "webhook_url": args.webhook_url,
                "error_code_mapping": error_codes(args.error_code),
                "totp_identifier": args.totp_identifier,
                "totp_url": args.totp_url,
                "publish_workflow": args.publish,
                "run_with": args.run_with,
                "include_action_history_in_verification": args.verify_with_history,
                **browser_options(args),
                **({"engine": args.engine} if args.engine else {}),
            }
        )
    except ValidationError as exc:
        raise CliError(in_flags(exc)) from None
    if not settings.temporal_address and not settings.anthropic_api_key:
        raise CliError(
            "ANTHROPIC_API_KEY is not set. Export your Anthropic API key "
            "(and ANTHROPIC_BASE_URL if you use a gateway), or point TEMPORAL_ADDRESS at a "
            "Temporal server whose Wayfinder workers have one."
        )
    async with await Client.connect() as client:
        if args.no_wait:
            started = await client.start(request)
            _print_started(started)
            if not await has_worker(client):
                print(f"wayfinder: {no_worker_message(client, started.run_id)}", file=sys.stderr)
            return 0
        interrupts = Interrupts(client)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, interrupts)
        try:
            started = await client.start(request)
            run_id = started.run_id
            _print_started(started)
            following = asyncio.create_task(Follower(client, run_id, settings).follow())
            interrupts.started(run_id, following)
            async with asyncio.timeout(args.timeout):
                response = await following
        except TimeoutError:
            raise CliError(
                f"run {run_id} is still going after {args.timeout:g}s; it goes on: "
                f"see `wayfinder get {run_id}`"
            ) from None
        except asyncio.CancelledError:
            if not interrupts.left:
                raise
            return INTERRUPTED
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        if interrupts.cancel is not None and interrupts.cancel.done():
            interrupts.cancel.result()  # a failed cancel request is reported, not dropped
        _print_response(response)
        if interrupts.count:
            return INTERRUPTED
        return 0 if response.status == "completed" else 1


async def _get(args: argparse.Namespace) -> int:
    async with await Client.connect(run_worker=False) as client:
        _print_response(await client.get_run(args.run_id))
    return 0


async def _list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    async with await Client.connect(run_worker=False) as client:
        for run in await client.list_runs(args.status, args.limit):
            if args.json:
                print(run.model_dump_json(exclude_none=True))
            else:
                line = f"{run.run_id}  {run.status.value:<10}  {run.created_at:%Y-%m-%d %H:%M:%S}"
                print(f"{line}  {run.title}" if run.title else line)
    return 0


async def _cancel(args: argparse.Namespace) -> int:
    async with await Client.connect(run_worker=False) as client:
        await client.cancel_run(args.run_id)
        print(f"cancel requested for {args.run_id}")
    return 0


async def _worker(args: argparse.Namespace) -> int:
    client = await Client.connect(task_queue=args.task_queue, run_worker=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Wayfinder worker polling {client.task_queue}", flush=True)
    try:
        while not stop.is_set():
            client.check_worker()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_INTERVAL)
    finally:
        await client.close()
    return 0


async def _dev(args: argparse.Namespace) -> int:
    settings = get_settings()
    home = settings.home
    starting = await acquire_start_lock(home)
    try:
        lock = try_host_lock(home)
        if lock is None:
            state = read_state(home)
            where = f" at {state.address} (pid {state.host_pid})" if state else ""
            raise CliError(
                f"Wayfinder's embedded server is already running{where}: stop it with "
                "`wayfinder stop`, then start `wayfinder dev` again"
            )
        with lock:
            await kill_leftovers(home)

            def ready(state: HostState) -> None:
                starting.close()  # others may now find this server
                worker = (
                    "Wayfinder worker running"
                    if state.worker
                    else "no worker: ANTHROPIC_API_KEY is not set"
                )
                print(
                    f"Temporal at {state.address}\nTemporal UI at {state.ui_url}\n"
                    f"Artifacts at {state.artifacts_url}\n{worker}; "
                    f"logs in {host_log(home)}; Ctrl-C to stop.",
                    flush=True,
                )

            return await serve(
                settings,
                port=args.port,
                ui_port=args.ui_port,
                headless=False,
                idle_shutdown=None,
                replaceable=False,
                on_ready=ready,
            )
    finally:
        starting.close()


async def _stop(args: argparse.Namespace) -> int:
    home = get_settings().home
    state = read_state(home)
    if await stop_host(home):
        print(f"stopped the embedded server{f' (pid {state.host_pid})' if state else ''}")
    else:
        print("no embedded server is running")
    return 0


COMMANDS = {
    "run": _run,
    "get": _get,
    "list": _list,
    "cancel": _cancel,
    "session": session_command,
    "totp": totp_command,
    "worker": _worker,
    "dev": _dev,
    "stop": _stop,
    "artifacts": artifacts_command,
    **dict.fromkeys(WORKFLOW_COMMANDS, workflow_command),
}


def _configure_logging(command: str, verbose: bool) -> Path | None:
    """Logs go to a file (tracebacks included); the terminal gets one line per failure.

    `wayfinder worker` is a server: its log is its output. With `-v`, every command's is too.
    """
    handlers: list[logging.Handler] = []
    log_file = None
    if verbose or command == "worker":
        handlers.append(logging.StreamHandler(sys.stderr))
    if command != "worker":
        home = get_settings().home
        log_file = host_log(home) if command == "dev" else log_dir(home) / "cli.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=logging.INFO,
        handlers=handlers,
        format=f"%(asctime)s {command}[{os.getpid()}] %(levelname)s %(name)s: %(message)s",
    )
    return log_file


def run_command(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process and return its exit code."""
    args = _parser().parse_args(argv)
    log_file = _configure_logging(args.command, args.verbose)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except (CliError, WayfinderError) as exc:
        print(f"wayfinder: {exc}", file=sys.stderr)
        return 2
    except RPCError as exc:
        where = f" (details in {log_file})" if log_file else ""
        logging.getLogger(__name__).error("Temporal call failed", exc_info=exc)
        print(f"wayfinder: Temporal refused the call: {exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return INTERRUPTED


def main() -> NoReturn:
    """The console script: run the command, then leave without interpreter teardown.

    The Temporal SDK's Rust threads can outlive the event loop and abort a finalizing
    interpreter ("PyGILState_Release ... must be current", temporalio/sdk-python#300), turning a
    command that did its work into exit code -6. Everything is done and flushed by now.
    """
    code = run_command()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
