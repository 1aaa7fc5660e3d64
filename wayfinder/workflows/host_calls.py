"""A browser activity on the host that holds the run's browser, for task runs and code reruns.

The browser lives in one worker process and cannot move: its activities go to that process's
queue (the lease's `host_queue`). When one fails because the browser is gone
(`failures.lost_browser`), the caller's `recover` rebuilds it and the call returns None: the
workflow starts what it was doing over, on the rebuilt browser. Deterministic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import BrowserLease
    from wayfinder.workflows.failures import LostBrowser, lost_browser

T = TypeVar("T")


class OnHost(Protocol):
    """An activity input that names the browser it acts on."""

    @property
    def lease(self) -> BrowserLease: ...


Recover = Callable[[LostBrowser], Awaitable[None]]
"""Rebuild the lost browser."""


async def on_host(
    activity: str,
    arg: OnHost,
    result_type: type[T],
    activity_options: options.ActivityOptions,
    *,
    recover: Recover,
    wait: Callable[[workflow.ActivityHandle[T]], Awaitable[T | None]] | None = None,
) -> T | None:
    """Run `activity` on the host of `arg.lease` and return its result.

    `wait` awaits the activity (the task run's gives up on it when the run is canceled, and
    returns None); by default it is simply awaited. None also when the browser was lost:
    `recover` has rebuilt it by then.
    """
    try:
        handle = workflow.start_activity(
            activity,
            arg,
            task_queue=arg.lease.host_queue,
            result_type=result_type,
            **activity_options.kwargs(),
        )
        return await (handle if wait is None else wait(handle))
    except ActivityError as exc:
        lost = lost_browser(exc)
        if lost is None:
            raise
        await recover(lost)
        return None
