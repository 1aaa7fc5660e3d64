"""Reading activity failures: which mean the run's browser is lost, and what to tell the user.

Pure functions of Temporal's exception types, safe in the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, TimeoutType

from wayfinder.activities.options import BROWSER_LOST


class Loss(Enum):
    """How a run lost its browser, which decides where the browser is rebuilt."""

    host = "host"
    """The worker process holding the browser stopped answering: rebuild on any worker."""
    browser = "browser"
    """Chromium or a tab crashed under a live worker: rebuild on the same worker."""


@dataclass(frozen=True)
class LostBrowser:
    """A host activity failed because the run's browser is gone: how, why, and what the
    activity was doing (its last heartbeat note) when it went."""

    loss: Loss
    reason: str
    interrupted: str | None


def lost_browser(error: ActivityError) -> LostBrowser | None:
    """The lost browser a failed host activity means; None when the browser is not lost."""
    loss = browser_loss(error)
    if loss is None:
        return None
    return LostBrowser(loss, loss_description(error), interrupted_action(error))


def innermost(error: ActivityError) -> BaseException:
    cause: BaseException = error
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    return cause


def browser_loss(error: ActivityError) -> Loss | None:
    """Whether a failed host activity means the browser is gone, and how; None otherwise."""
    cause = innermost(error)
    if isinstance(cause, TimeoutError):
        # Schedule-to-start: nobody polls the host's queue. Heartbeat: the host stopped
        # mid-activity. Start-to-close: the activity hung. Each way the host cannot be trusted.
        return Loss.host
    if isinstance(cause, ApplicationError) and cause.type == BROWSER_LOST:
        return Loss.browser
    return None


def interrupted_action(error: ActivityError) -> str | None:
    """What the activity said it was doing (its last heartbeat note) when its host went."""
    cause = innermost(error)
    if isinstance(cause, TimeoutError) and cause.last_heartbeat_details:
        return str(cause.last_heartbeat_details[0])
    return None


def loss_description(error: ActivityError) -> str:
    cause = innermost(error)
    if isinstance(cause, TimeoutError):
        if cause.type == TimeoutType.SCHEDULE_TO_START:
            return f"the worker holding the browser stopped polling during {error.activity_type}"
        if cause.type == TimeoutType.HEARTBEAT:
            return f"the worker holding the browser stopped heartbeating in {error.activity_type}"
        return f"{error.activity_type} hung past its timeout"
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause)


def failure_reason(error: ActivityError) -> str:
    """The innermost message of an activity failure, which is what a user can act on."""
    cause = innermost(error)
    if isinstance(cause, TimeoutError):
        kind = cause.type.name.lower() if cause.type else "timeout"
        return f"{error.activity_type} timed out ({kind})"
    if isinstance(cause, ApplicationError):
        return f"{error.activity_type} failed: {cause.message}"
    return f"{error.activity_type} failed: {cause}"
