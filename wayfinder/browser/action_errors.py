"""Errors of page actions, and Playwright's failures explained in words the model can act on."""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError


class ActionError(Exception):
    """The action cannot be done as asked (unknown element id, wrong kind of element, option
    not found, element not visible/enabled...).

    Its message is shown to the model, so it says what is wrong and what would work (e.g. it
    lists a select's options). Anything else raised by `execute_action` is an infrastructure
    problem (browser gone), not the model's fault.
    """


_FATAL_MARKERS = (
    "has been closed",
    "Target closed",
    "Browser closed",
    "Connection closed",
    "browser has disconnected",
)


def is_fatal(exc: PlaywrightError) -> bool:
    """Is the browser, context or page gone (not the model's fault: the error propagates)?"""
    message = str(exc)
    return any(marker in message for marker in _FATAL_MARKERS)


def _reason_from_log(message: str) -> str | None:
    """Pull the actionability failure out of a Playwright call log."""
    lines = [ln.strip(" -") for ln in message.splitlines()]
    for line in reversed(lines):
        if "intercepts pointer events" in line:
            blocker = line.split(" from ")[0].replace(" intercepts pointer events", "")
            return (
                f"it is covered by another element ({trim_text(blocker, 120)}); close the "
                "popup/overlay or cookie banner first, or scroll"
            )
    checks = (
        ("element is not visible", "it is not visible (hidden, or inside a closed menu)"),
        ("element is not enabled", "it is disabled"),
        ("element is disabled", "it is disabled"),
        ("element is not editable", "it is read-only"),
        ("element is not stable", "it keeps moving (animation); try again or wait"),
        ("outside of the viewport", "it is outside the page and cannot be scrolled into view"),
        ("not attached to the DOM", "it was removed from the page"),
        ("element was detached", "it was removed from the page"),
    )
    for line in reversed(lines):
        for marker, reason in checks:
            if marker in line:
                return reason
    return None


def trim_text(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(exc: PlaywrightError, what: str, timeout_ms: float) -> str:
    """The sentence "Could not <what>: <why>." for a Playwright error and its call log."""
    message = str(exc)
    reason = _reason_from_log(message)
    if reason:
        return f"Could not {what}: {reason}."
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    first = re.sub(r"^\w+\.\w+: ", "", first)
    if isinstance(exc, PlaywrightTimeoutError):
        return f"Could not {what}: timed out after {timeout_ms / 1000:g}s ({first})."
    return f"Could not {what}: {trim_text(first, 300)}."
