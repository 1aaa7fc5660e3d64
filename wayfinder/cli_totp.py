"""`wayfinder totp IDENTIFIER CODE`: push a 2FA code to the run waiting on that identifier."""

from __future__ import annotations

import argparse

from wayfinder.cli_follow import CliError
from wayfinder.client import Client


def add_totp_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    totp = sub.add_parser("totp", help="send a 2FA code to the run waiting on a totp_identifier")
    totp.add_argument("identifier", help="the runs' totp_identifier (e.g. an e-mail address)")
    totp.add_argument("code", help="the code, or the message (SMS, e-mail) that holds it")


async def totp_command(args: argparse.Namespace) -> int:
    async with await Client.connect(run_worker=False) as client:
        try:
            sent = await client.send_totp_code(args.identifier, args.code)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    print(
        f"code sent for {sent.totp_identifier}; kept until {sent.expires_at:%H:%M:%S} UTC "
        "if no run takes it"
    )
    return 0
