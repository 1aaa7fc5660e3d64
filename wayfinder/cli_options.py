"""The flags `wayfinder run` and `wayfinder rerun` share for the browser a run opens, and how a
validation error of the API's names is told in the flags' names."""

from __future__ import annotations

import argparse
import re
from typing import Any

from pydantic import ValidationError

from wayfinder.cli_follow import CliError

FLAGS = {
    "prompt": "prompt",
    "url": "--url",
    "max_steps": "--max-steps",
    "data_extraction_schema": "--schema",
    "model": "--model",
    "title": "--title",
    "timeout": "--timeout",
    "browser_session_id": "--session",
    "engine": "--engine",
    "proxy_location": "--proxy-location",
    "user_agent": "--user-agent",
    "extra_http_headers": "--header",
    "max_screenshot_scrolls": "--max-screenshot-scrolls",
    "browser_address": "--browser-address",
    "webhook_url": "--webhook-url",
    "error_code_mapping": "--error-code",
    "totp_identifier": "--totp-identifier",
    "totp_url": "--totp-url",
    "publish_workflow": "--publish",
    "run_with": "--run-with",
    "include_action_history_in_verification": "--verify-with-history",
}
"""Each API field a command-line flag sets, and that flag."""

_FIELD = re.compile(r"\b(" + "|".join(name for name in FLAGS if name != "prompt") + r")\b")


def _header(value: str) -> tuple[str, str]:
    """`--header "Name: value"`, as curl takes it."""
    name, sep, given = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--header takes 'Name: value', got {value!r}")
    return name.strip(), given.strip()


def _proxy(value: str) -> str | dict[str, str]:
    """A location name (or NONE), or a proxy URL, which the API takes as {"url": ...}."""
    return {"url": value} if "://" in value else value


def add_browser_flags(parser: argparse.ArgumentParser) -> None:
    """The options of the browser a run (or a rerun) opens."""
    parser.add_argument(
        "--proxy-location",
        type=_proxy,
        metavar="NAME|URL",
        help="a location name from WAYFINDER_PROXIES (or NONE), or http://user:pass@host:port",
    )
    parser.add_argument("--user-agent", help="the browser's User-Agent")
    parser.add_argument(
        "--header",
        type=_header,
        action="append",
        metavar="'NAME: VALUE'",
        help="an extra HTTP header on every request (repeat for each)",
    )
    parser.add_argument(
        "--max-screenshot-scrolls",
        type=int,
        metavar="N",
        help="scrolls of the final screenshots (0-20)",
    )
    parser.add_argument(
        "--browser-address", metavar="CDP_URL", help="use the browser at this CDP address"
    )


def browser_options(args: argparse.Namespace) -> dict[str, Any]:
    """The browser flags given, under the API's names (a flag not given is left out)."""
    given = {
        "proxy_location": args.proxy_location,
        "user_agent": args.user_agent,
        "extra_http_headers": None if args.header is None else _unique(args.header, "--header"),
        "max_screenshot_scrolls": args.max_screenshot_scrolls,
        "browser_address": args.browser_address,
    }
    return {name: value for name, value in given.items() if value is not None}


def _unique(pairs: list[tuple[str, str]], flag: str) -> dict[str, str]:
    names = [name.lower() if flag == "--header" else name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CliError(f"{flag} given twice for {', '.join(repeated)}")
    return dict(pairs)


def code_pair(value: str) -> tuple[str, str]:
    """`--error-code CODE=DESCRIPTION`."""
    code, sep, condition = value.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--error-code takes CODE=DESCRIPTION, got {value!r}")
    return code.strip(), condition.strip()


def error_codes(pairs: list[tuple[str, str]] | None) -> dict[str, str] | None:
    return None if pairs is None else _unique(pairs, "--error-code")


def in_flags(exc: ValidationError) -> str:
    """The errors, one per field, each named by its flag (never echoing the value given)."""
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        where = FLAGS.get(field, ".".join(map(str, err["loc"])) or "request")
        message = _FIELD.sub(lambda m: FLAGS[m.group(1)], err["msg"].removeprefix("Value error, "))
        parts.append(message if message.startswith(where) else f"{where}: {message}")
    return "; ".join(parts)
