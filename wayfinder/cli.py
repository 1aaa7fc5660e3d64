"""The `wayfinder` command: run, get, list, cancel, session, worker, dev."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from temporalio.service import RPCError

from wayfinder.cli_sessions import add_session_parser, session_command
from wayfinder.client import Client, RunNotFoundError, SearchAttributesMissingError
from wayfinder.devserver import DevServerError, embedded_dev_server
from wayfinder.models import RunStatus, StepRecord, TaskRunRequest, TaskRunResponse
from wayfinder.sessions import BrowserSessionClosedError, BrowserSessionNotFoundError
from wayfinder.settings import get_settings

POLL_INTERVAL = 0.5


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


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

    get = sub.add_parser("get", help="print a run as JSON")
    get.add_argument("run_id")
    runs = sub.add_parser("list", help="list runs, newest first")
    runs.add_argument("--status", choices=[s.value for s in RunStatus], help="only this status")
    runs.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    runs.add_argument("--json", action="store_true", help="print them as JSON lines")
    cancel = sub.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id")
    add_session_parser(sub)

    worker = sub.add_parser("worker", help="run a Wayfinder worker (TEMPORAL_ADDRESS or embedded)")
    worker.add_argument("--task-queue", help="shared task queue (default: wayfinder)")

    dev = sub.add_parser("dev", help="embedded dev server with the UI, and a worker")
    dev.add_argument("--port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)
    return parser


def _print_step(step: StepRecord) -> None:
    action = step.action_type
    target = f"  {step.element}" if step.element else ""
    error = f"  FAILED: {step.error}" if step.error else ""
    print(f"step {step.number:>3}  {action:<14}{target}  {step.url}{error}", flush=True)


def _print_response(response: TaskRunResponse) -> None:
    print(response.model_dump_json(indent=2, exclude_none=True))


async def _follow(client: Client, run_id: str) -> TaskRunResponse:
    """Print steps as they happen until the run ends."""
    seen = 0
    while True:
        response = await client.get_run(run_id)
        try:
            # Bounded: a run that has ended answers queries only while some worker is up.
            steps = await client.get_run_steps(
                run_id, after=seen, request_options={"timeout_in_seconds": 5}
            )
        except RPCError:
            steps = []
        for step in steps:
            _print_step(step)
            seen = step.number
        if response.status.is_final:
            if response.step_count and seen < response.step_count:
                print(f"({response.step_count - seen} more steps)", flush=True)
            return response
        await asyncio.sleep(POLL_INTERVAL)


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
            }
        )
    except ValidationError as exc:
        raise CliError(_validation_message(exc)) from None
    if not settings.temporal_address and not settings.anthropic_api_key:
        raise CliError(
            "ANTHROPIC_API_KEY is not set. Export your Anthropic API key "
            "(and ANTHROPIC_BASE_URL if you use a gateway), or point TEMPORAL_ADDRESS at a "
            "Temporal server whose Wayfinder workers have one."
        )
    async with await Client.connect() as client:
        started = await client.start(request)
        print(f"run {started.run_id} started" + (f"  {started.app_url}" if started.app_url else ""))
        if args.no_wait:
            return 0
        try:
            async with asyncio.timeout(args.timeout):
                response = await _follow(client, started.run_id)
        except TimeoutError:
            raise CliError(
                f"run {started.run_id} is still going after {args.timeout:g}s; it goes on: "
                f"see `wayfinder get {started.run_id}`"
            ) from None
        _print_response(response)
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


async def _serve_until_stopped(client: Client, banner: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(banner, flush=True)
    await stop.wait()
    await client.close()


async def _worker(args: argparse.Namespace) -> int:
    client = await Client.connect(task_queue=args.task_queue, run_worker=True)
    await _serve_until_stopped(client, f"Wayfinder worker polling {client.task_queue}")
    return 0


async def _dev(args: argparse.Namespace) -> int:
    settings = get_settings()
    async with embedded_dev_server(
        settings.home, headless=False, port=args.port, ui_port=args.ui_port
    ) as (server, owned):
        if not owned:
            raise CliError(f"a dev server is already running at {server.address} ({server.ui_url})")
        dev_settings = settings.model_copy(update={"ui_url": server.ui_url})
        client = await Client.connect(server.address, settings=dev_settings, run_worker=True)
        await _serve_until_stopped(
            client,
            f"Temporal at {server.address}\nTemporal UI at {server.ui_url}\n"
            "Wayfinder worker running; Ctrl-C to stop.",
        )
    return 0


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, err['loc'])) or 'request'}: {err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors()
    )


COMMANDS = {
    "run": _run,
    "get": _get,
    "list": _list,
    "cancel": _cancel,
    "session": session_command,
    "worker": _worker,
    "dev": _dev,
}


def run_command(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process and return its exit code."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except (
        CliError,
        DevServerError,
        RunNotFoundError,
        SearchAttributesMissingError,
        BrowserSessionNotFoundError,
        BrowserSessionClosedError,
    ) as exc:
        print(f"wayfinder: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


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
