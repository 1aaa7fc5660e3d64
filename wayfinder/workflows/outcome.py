"""How a run's status shows in Temporal: its search attribute while open, its ending once closed.

Temporal's own status of a run must tell the truth (the UI, `temporal workflow list` and alerts
read it), so only a completed run returns normally. The full `TaskRunResponse` travels with the
ending, where a client can read it without any worker up: the result of a completed run, the
details of the `ApplicationError` of a failed one, the memo of a canceled one (the SDK sends a
cancellation without details).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from wayfinder.models import RunStatus, TaskRunResponse
from wayfinder.search_attributes import STATUS

FAILURE_TYPES = {
    RunStatus.failed: "RunFailed",
    RunStatus.terminated: "RunTerminated",
    RunStatus.timed_out: "RunTimedOut",
    RunStatus.canceled: "RunCanceled",
}
"""The `ApplicationError` type a run that did not complete ends its workflow with."""

FINAL_MEMO = "wayfinder_final"
"""Memo key of the final `TaskRunResponse` of a run that ended Canceled."""


def publish_status(status: RunStatus) -> None:
    """Mirror the run's status into its `WayfinderStatus` search attribute.

    Only when the run was started with it: that proves the attribute is registered, and a run
    started without it (a team's child workflow on a server that lacks the attribute) must not
    fail its workflow tasks over a listing aid.
    """
    if STATUS in workflow.info().typed_search_attributes:
        workflow.upsert_search_attributes([STATUS.value_set(status.value)])


def end_run(response: TaskRunResponse) -> TaskRunResponse:
    """The workflow's ending for this final state: return it, or raise what ends it otherwise.

    A run canceled through Temporal ends Canceled. The SDK ends a workflow Canceled only when
    Temporal asked for the cancellation, so a run stopped by the bare `cancel` signal ends
    Failed with type `RunCanceled` (`Client.cancel_run` asks Temporal, so its runs end Canceled).
    """
    publish_status(response.status)
    if response.status is RunStatus.completed:
        return response
    if response.status is RunStatus.canceled and workflow.cancellation_reason() is not None:
        workflow.upsert_memo({FINAL_MEMO: response})
        raise asyncio.CancelledError(response.failure_reason)
    raise ApplicationError(
        response.failure_reason or f"the run ended {response.status.value}",
        response,
        type=FAILURE_TYPES[response.status],
        # The run decided its own ending: a workflow retry policy must not start it over.
        non_retryable=True,
    )
