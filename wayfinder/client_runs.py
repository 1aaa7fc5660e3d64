"""Reading runs, the part of `wayfinder.Client` that does not start them: `get_run`,
`get_run_steps`, `list_runs`, `cancel_run`, and waiting for a run's end.

A run is a workflow whose id is the run id. While it runs, its state is the workflow's
`get_run` query; once it has ended, its result (or, for a run that did not complete, the final
state its failure carries). A run ended by Temporal itself is described from what Temporal knows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import temporalio.client
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from wayfinder.client_base import QUERY_TIMEOUT, ClientCore
from wayfinder.errors import RunNotFoundError
from wayfinder.models import RunStatus, StepRecord, TaskRunResponse
from wayfinder.request_options import RequestOptions, applies_request_options, call_temporal
from wayfinder.request_options import rpc_options as _rpc_options
from wayfinder.visibility import TEMPORAL_STATUS, RunSummary, parse_status, runs_query, summary_of
from wayfinder.webhook_status import with_webhook_delivery
from wayfinder.workflows.outcome import FAILURE_TYPES, FINAL_MEMO
from wayfinder.workflows.task_run import TaskRunWorkflow

FIRST_WORKFLOW_TASK_EVENTS = 2
"""Started + first task scheduled: a run whose history is no longer has been picked up."""

_RUN_FAILURE_TYPES = frozenset(FAILURE_TYPES.values())


class RunReading(ClientCore):
    """`get_run`, `get_run_steps`, `list_runs`, `cancel_run` (mixed into `Client`)."""

    async def _wait_for_end(
        self,
        handle: temporalio.client.WorkflowHandle[Any, TaskRunResponse],
        timeout: float,  # noqa: ASYNC109 - the run's own wait_for_completion timeout
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        rpc = _rpc_options(request_options)
        # Only the metadata: an RPC deadline would cut the long poll that waits for the result.
        metadata = {k: v for k, v in rpc.items() if k == "rpc_metadata"}
        try:
            return await asyncio.wait_for(handle.result(**metadata), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"run {handle.id} did not finish within {timeout:g}s; it goes on: "
                "follow it with get_run() or cancel it with cancel_run()"
            ) from None
        except WorkflowFailureError as exc:
            # A run that did not complete ends its workflow Failed or Canceled; the caller
            # still gets its full final state, as get_run gives it.
            final = _final_state(exc)
            return final or await self.get_run(handle.id, request_options=request_options)

    @applies_request_options
    async def get_run(
        self, run_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> TaskRunResponse:
        """The run's current state: live while it runs, its final result once it has ended."""
        rpc = _rpc_options(request_options)
        return await with_webhook_delivery(
            call_temporal(self), await self._get_run(run_id, rpc), rpc
        )

    async def _get_run(self, run_id: str, rpc: dict[str, Any]) -> TaskRunResponse:
        handle = call_temporal(self).get_workflow_handle_for(TaskRunWorkflow.run, run_id)
        description = await self._describe(run_id, rpc)
        status = description.status
        if status == WorkflowExecutionStatus.RUNNING:
            try:
                return await handle.query(
                    TaskRunWorkflow.get_run, **{"rpc_timeout": QUERY_TIMEOUT, **rpc}
                )
            except RPCError:
                # No worker answered (all stopped, or none has picked the run up yet): what
                # Temporal itself knows still tells whether the run has started.
                return self._open_run_from(description)
        if status in (
            WorkflowExecutionStatus.COMPLETED,
            WorkflowExecutionStatus.CONTINUED_AS_NEW,
        ):
            return await handle.result(**rpc)
        if status == WorkflowExecutionStatus.CANCELED:
            # The SDK's cancellation carries no details: the final state is in the memo.
            canceled = await description.memo_value(FINAL_MEMO, None, type_hint=TaskRunResponse)
            if canceled is not None:
                return canceled
        elif status == WorkflowExecutionStatus.FAILED:
            try:
                await handle.result(**rpc)
            except WorkflowFailureError as exc:
                final = _final_state(exc)
                if final is not None:
                    return final
        return await self._closed_outside_wayfinder(handle, description)

    @applies_request_options
    async def list_runs(
        self,
        status: RunStatus | str | None = None,
        limit: int = 50,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> list[RunSummary]:
        """Runs of the namespace, newest first, optionally only those with `status`.

        Read from Temporal's visibility store, so no worker is needed. It lists the runs that
        carry Wayfinder's search attributes (all runs this client started: task runs and the
        code reruns of published workflows); visibility is
        eventually consistent, so a run that changed status a moment ago may lag.
        """
        wanted = parse_status(status)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        rpc = _rpc_options(request_options)
        try:
            runs = [
                summary_of(execution, self._app_url(execution.id))
                async for execution in call_temporal(self).list_workflows(
                    runs_query(wanted), limit=limit, **rpc
                )
            ]
        except RPCError as exc:
            self._raise_if_attributes_missing(exc)
            raise
        return sorted(runs, key=lambda run: run.created_at, reverse=True)

    @applies_request_options
    async def get_run_steps(
        self,
        run_id: str,
        *,
        after: int = 0,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> list[StepRecord]:
        """Steps numbered above `after` (needs a live worker, as every Temporal query does)."""
        rpc = _rpc_options(request_options)
        await self._describe(run_id, rpc)
        handle = call_temporal(self).get_workflow_handle(run_id)
        return await handle.query(TaskRunWorkflow.get_steps, after, **rpc)

    @applies_request_options
    async def cancel_run(
        self, run_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> None:
        """Ask the run to stop: it ends `canceled` at its next safe point, browser closed.

        This is Temporal's own cancellation (rather than the workflow's `cancel` signal), so
        the workflow ends Canceled in Temporal too. Canceling a run that has ended does nothing.
        """
        rpc = _rpc_options(request_options)
        description = await self._describe(run_id, rpc)
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        await call_temporal(self).get_workflow_handle(run_id).cancel(**rpc)

    async def _describe(self, run_id: str, rpc: dict[str, Any]) -> WorkflowExecutionDescription:
        try:
            return await call_temporal(self).get_workflow_handle(run_id).describe(**rpc)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RunNotFoundError(f"no run with id {run_id!r}") from None
            raise

    async def _closed_outside_wayfinder(
        self,
        handle: temporalio.client.WorkflowHandle[Any, Any],
        description: WorkflowExecutionDescription,
    ) -> TaskRunResponse:
        """A run ended by Temporal itself (terminated by an operator, failed on a bug)."""
        status = (
            TEMPORAL_STATUS.get(description.status, RunStatus.failed)
            if description.status is not None
            else RunStatus.failed
        )
        reason = f"the workflow was {status.value.replace('_', ' ')} in Temporal"
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            cause = exc.cause
            reason = f"{reason}: {getattr(cause, 'message', None) or cause}"
        return TaskRunResponse(
            run_id=handle.id,
            status=status,
            created_at=description.start_time,
            finished_at=description.close_time,
            failure_reason=reason,
            app_url=self._app_url(handle.id),
        )

    def _open_run_from(self, description: WorkflowExecutionDescription) -> TaskRunResponse:
        started = bool(description.raw_description.pending_activities) or (
            description.history_length > FIRST_WORKFLOW_TASK_EVENTS
        )
        return TaskRunResponse(
            run_id=description.id,
            status=RunStatus.running if started else RunStatus.queued,
            created_at=description.start_time,
            app_url=self._app_url(description.id),
        )


def _final_state(error: WorkflowFailureError) -> TaskRunResponse | None:
    """The final `TaskRunResponse` a run that did not complete ended its workflow with."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in _RUN_FAILURE_TYPES and cause.details:
        return TaskRunResponse.model_validate(cause.details[0])
    return None
