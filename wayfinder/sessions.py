"""Browser sessions from the client's side: create, read, list, close, and check before a run.

A session is a `BrowserSessionWorkflow` whose id is the session id (`pbs_...`), on the client's
task queue; `wayfinder.workflows.browser_session` explains what it does. `Client` delegates its
`*_browser_session` methods here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import temporalio.client
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from ulid import ULID

from wayfinder.client_base import QUERY_TIMEOUT
from wayfinder.errors import BrowserSessionClosedError, BrowserSessionNotFoundError
from wayfinder.models import BrowserSessionResponse, BrowserSessionStatus
from wayfinder.search_attributes import STATUS
from wayfinder.workflows.browser_session import SESSION_FAILED, BrowserSessionWorkflow
from wayfinder.workflows.session_messages import SESSION_WORKFLOW, BrowserSessionInput

SESSION_ID_PREFIX = "pbs_"
TIMEOUT_MEMO = "wayfinder_session_timeout"
"""Memo key of a session's timeout in minutes, so that a listing can show it."""
MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 5, 240, 60
"""Minutes a session may stay open: `create_browser_session(timeout=...)`."""


class BrowserSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: int = Field(default=DEFAULT_TIMEOUT, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    """Minutes until the session closes by itself, counted from its start."""


class Sessions:
    """The session calls of one `Client` (its Temporal client and task queue)."""

    def __init__(self, temporal: temporalio.client.Client, task_queue: str) -> None:
        self._temporal = temporal
        self._task_queue = task_queue

    async def create(self, minutes: int, rpc: dict[str, Any]) -> BrowserSessionResponse:
        request = BrowserSessionRequest(timeout=minutes)
        return await self.start(timedelta(minutes=request.timeout), rpc)

    async def start(self, lifetime: timedelta, rpc: dict[str, Any]) -> BrowserSessionResponse:
        """Start a session of any duration (`create` is the validated public way)."""
        session_id = f"{SESSION_ID_PREFIX}{ULID()}"
        created_at = datetime.now(UTC)
        await self._temporal.start_workflow(
            BrowserSessionWorkflow.run,
            BrowserSessionInput(timeout=lifetime, created_at=created_at),
            id=session_id,
            task_queue=self._task_queue,
            memo={TIMEOUT_MEMO: lifetime.total_seconds() / 60},
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(STATUS, BrowserSessionStatus.created.value)]
            ),
            **rpc,
        )
        return BrowserSessionResponse(
            browser_session_id=session_id,
            status=BrowserSessionStatus.created,
            timeout=lifetime.total_seconds() / 60,
            created_at=created_at,
        )

    async def get(self, session_id: str, rpc: dict[str, Any]) -> BrowserSessionResponse:
        handle = self._temporal.get_workflow_handle_for(BrowserSessionWorkflow.run, session_id)
        description = await self._describe(session_id, rpc)
        if description.status == WorkflowExecutionStatus.RUNNING:
            try:
                return await handle.query(
                    BrowserSessionWorkflow.get_session, **{"rpc_timeout": QUERY_TIMEOUT, **rpc}
                )
            except RPCError:
                return await _from_temporal(description)  # no worker answered
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result(**rpc)
        try:
            await handle.result(**rpc)
        except WorkflowFailureError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == SESSION_FAILED:
                return BrowserSessionResponse.model_validate(cause.details[0])
        return await _from_temporal(description)

    async def list(
        self, status: BrowserSessionStatus | str | None, limit: int, rpc: dict[str, Any]
    ) -> list[BrowserSessionResponse]:
        wanted = None if status is None else _parse_status(status)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = f"WorkflowType = '{SESSION_WORKFLOW}'"
        sessions = [
            await _from_temporal(execution)
            async for execution in self._temporal.list_workflows(query, limit=limit, **rpc)
        ]
        if wanted is not None:
            sessions = [s for s in sessions if s.status is wanted]
        return sorted(sessions, key=lambda s: s.created_at, reverse=True)

    async def close(self, session_id: str, rpc: dict[str, Any]) -> BrowserSessionResponse:
        """Close the session's browser and wait until it is closed; nothing if it has ended."""
        description = await self._describe(session_id, rpc)
        handle = self._temporal.get_workflow_handle_for(BrowserSessionWorkflow.run, session_id)
        if description.status == WorkflowExecutionStatus.RUNNING:
            await handle.signal(BrowserSessionWorkflow.close, **rpc)
            try:
                await handle.result(**{k: v for k, v in rpc.items() if k == "rpc_metadata"})
            except WorkflowFailureError:
                pass  # a failed session is closed too; `get` reads how it ended
        return await self.get(session_id, rpc)

    async def check_open(self, session_id: str, rpc: dict[str, Any]) -> None:
        """Raise a clear error unless runs can be started in this session."""
        description = await self._describe(session_id, rpc)
        if description.status != WorkflowExecutionStatus.RUNNING:
            ended = await _from_temporal(description)
            raise BrowserSessionClosedError(
                f"browser session {session_id!r} has ended ({ended.status.value}); its browser "
                "is closed: create a new one with create_browser_session()"
            )

    async def _describe(
        self, session_id: str, rpc: dict[str, Any]
    ) -> temporalio.client.WorkflowExecutionDescription:
        if not session_id.startswith(SESSION_ID_PREFIX):
            raise BrowserSessionNotFoundError(
                f"{session_id!r} is not a browser session id (they start with "
                f"{SESSION_ID_PREFIX!r}): use the browser_session_id create_browser_session() "
                "returned"
            )
        try:
            description = await self._temporal.get_workflow_handle(session_id).describe(**rpc)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise BrowserSessionNotFoundError(
                    f"no browser session with id {session_id!r}: create one with "
                    "create_browser_session() and pass its browser_session_id"
                ) from None
            raise
        if description.workflow_type != SESSION_WORKFLOW:
            raise BrowserSessionNotFoundError(
                f"{session_id!r} is a {description.workflow_type}, not a browser session"
            )
        return description


def _parse_status(status: BrowserSessionStatus | str) -> BrowserSessionStatus:
    try:
        return BrowserSessionStatus(status)
    except ValueError:
        valid = ", ".join(s.value for s in BrowserSessionStatus)
        raise ValueError(
            f"unknown browser session status {status!r}; use one of: {valid}"
        ) from None


async def _from_temporal(
    execution: temporalio.client.WorkflowExecution,
) -> BrowserSessionResponse:
    """What visibility says of a session: its published status, else Temporal's own."""
    published = execution.typed_search_attributes.get(STATUS)
    status = BrowserSessionStatus(published) if published else BrowserSessionStatus.created
    if not status.is_final and execution.status not in (None, WorkflowExecutionStatus.RUNNING):
        # Ended by Temporal itself (terminated by an operator): its browser went with it.
        status = BrowserSessionStatus.failed
    return BrowserSessionResponse(
        browser_session_id=execution.id,
        status=status,
        timeout=await execution.memo_value(TIMEOUT_MEMO, 0.0, type_hint=float),
        created_at=execution.start_time,
        closed_at=execution.close_time,
    )
