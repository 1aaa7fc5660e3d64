"""`wayfinder workflows | code | rerun | publish`: published workflows from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from wayfinder.cli_follow import CliError
from wayfinder.cli_options import add_browser_flags, browser_options, in_flags
from wayfinder.client import Client


def _param(value: str) -> tuple[str, str]:
    name, sep, given = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--param takes name=value, got {value!r}")
    return name.strip(), given


def add_workflow_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser("workflows", help="list published workflows, newest first")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    code = sub.add_parser("code", help="print a published workflow's Playwright script")
    code.add_argument("workflow_id")
    rerun = sub.add_parser("rerun", help="rerun a published workflow as code")
    rerun.add_argument("workflow_id")
    rerun.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter's value (repeat for each); secrets have no default",
    )
    rerun.add_argument("--agent", action="store_true", help="run the task with the agent")
    rerun.add_argument(
        "--no-fallback", action="store_true", help="fail instead of letting the agent heal a step"
    )
    rerun.add_argument("--timeout", type=float, default=1800, help="seconds to wait (default 1800)")
    rerun.add_argument("--no-wait", action="store_true", help="print the run id and return")
    rerun.add_argument("--title", help="display name of the rerun")
    add_browser_flags(rerun)  # each one given replaces the publishing run's for this rerun
    publish = sub.add_parser("publish", help="publish a completed run as a workflow")
    publish.add_argument("run_id")


async def _workflows(client: Client, args: argparse.Namespace) -> int:
    for listed in await client.list_workflows(args.limit):
        print(
            f"{listed.workflow_id}  {listed.created_at:%Y-%m-%d %H:%M:%S}  "
            f"{listed.title or listed.prompt or ''}  {listed.url or ''}".rstrip()
        )
    return 0


async def _code(client: Client, args: argparse.Namespace) -> int:
    print((await client.get_workflow(args.workflow_id)).code, end="")
    return 0


async def _rerun(client: Client, args: argparse.Namespace) -> int:
    names = [name for name, _ in args.param]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CliError(f"--param given twice for {', '.join(repeated)}")
    try:
        response = await client.run_workflow(
            args.workflow_id,
            dict(args.param),
            run_with="agent" if args.agent else "code",
            ai_fallback=not args.no_fallback,
            wait_for_completion=not args.no_wait,
            timeout=args.timeout,
            title=args.title,
            **browser_options(args),
        )
    except ValidationError as exc:
        raise CliError(in_flags(exc)) from None
    print(response.model_dump_json(indent=2, exclude_none=True))
    return 0 if args.no_wait or response.status.value == "completed" else 1


async def _publish(client: Client, args: argparse.Namespace) -> int:
    workflow = await client.publish_run(args.run_id)
    print(workflow.model_dump_json(indent=2, exclude={"code"}))
    return 0


_COMMANDS: dict[str, Callable[[Client, argparse.Namespace], Awaitable[int]]] = {
    "workflows": _workflows,
    "code": _code,
    "rerun": _rerun,
    "publish": _publish,
}
WORKFLOW_COMMANDS = tuple(_COMMANDS)


async def workflow_command(args: argparse.Namespace) -> int:
    async with await Client.connect(run_worker=False) as client:
        return await _COMMANDS[args.command](client, args)
