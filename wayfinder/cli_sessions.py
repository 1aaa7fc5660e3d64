"""`wayfinder session create|get|list|close`: browser sessions from the command line."""

from __future__ import annotations

import argparse

from wayfinder.client import Client
from wayfinder.models import BrowserSessionStatus
from wayfinder.sessions import DEFAULT_TIMEOUT, MAX_TIMEOUT, MIN_TIMEOUT


def add_session_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    session = sub.add_parser("session", help="browser sessions: one browser for several runs")
    actions = session.add_subparsers(dest="session_command", required=True)
    create = actions.add_parser("create", help="open a session and print it as JSON")
    create.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"minutes it stays open, {MIN_TIMEOUT} to {MAX_TIMEOUT} (default {DEFAULT_TIMEOUT})",
    )
    get = actions.add_parser("get", help="print a session as JSON")
    get.add_argument("session_id")
    listing = actions.add_parser("list", help="list sessions, newest first")
    listing.add_argument(
        "--status", choices=[s.value for s in BrowserSessionStatus], help="only this status"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    close = actions.add_parser("close", help="close a session and its browser")
    close.add_argument("session_id")


async def session_command(args: argparse.Namespace) -> int:
    async with await Client.connect(run_worker=False) as client:
        if args.session_command == "create":
            session = await client.create_browser_session(args.timeout)
        elif args.session_command == "get":
            session = await client.get_browser_session(args.session_id)
        elif args.session_command == "close":
            session = await client.close_browser_session(args.session_id)
        else:
            for listed in await client.list_browser_sessions(args.status, args.limit):
                print(
                    f"{listed.browser_session_id}  {listed.status.value:<9}  "
                    f"{listed.created_at:%Y-%m-%d %H:%M:%S}  {listed.timeout:g} min"
                )
            return 0
        print(session.model_dump_json(indent=2, exclude_none=True))
    return 0
