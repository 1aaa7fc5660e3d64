"""A browser session's activities, on the worker process that has its browser."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from wayfinder.activities.contracts import (
    HOLD_BROWSER,
    RUN_IS_OPEN,
    HoldBrowserInput,
    RunIsOpenInput,
)
from wayfinder.activities.heartbeat import HEARTBEAT_INTERVAL
from wayfinder.activities.options import BROWSER_LOST
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.host import BrowserGoneError


class SessionActivities(ActivityGroup):
    @activity.defn(name=HOLD_BROWSER)
    async def hold_browser(self, hold: HoldBrowserInput) -> None:
        """Heartbeat for as long as the session's browser lives here, until canceled.

        A session's browser may sit idle between runs for minutes, with no activity of any
        run on its host; this one is how the session learns that the host died (its
        heartbeat stops) or that Chromium did (it fails with `BrowserLost`), so that the
        browser is rebuilt before the next run needs it.
        """
        lease = hold.lease
        host = self._rt.host
        while True:
            try:
                if not host.holds(lease.run_id, lease.generation):
                    raise BrowserGoneError(
                        f"the browser of session {lease.run_id} is no longer on this worker"
                    )
                host.get(lease.run_id)
            except BrowserGoneError as exc:
                raise ApplicationError(str(exc), type=BROWSER_LOST, non_retryable=True) from exc
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_INTERVAL)

    @activity.defn(name=RUN_IS_OPEN)
    async def run_is_open(self, request: RunIsOpenInput) -> bool:
        """Whether the run's workflow is still open in Temporal.

        A run gives the session's browser back in every way it can end by itself; one
        terminated by an operator cannot, and would keep it from the runs waiting forever.
        """
        handle = activity.client().get_workflow_handle(request.run_id)
        try:
            description = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status == WorkflowExecutionStatus.RUNNING
