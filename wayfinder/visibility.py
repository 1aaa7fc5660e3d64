"""What Wayfinder writes to Temporal's visibility store and reads back to list runs.

Every run starts with its search attributes (status, title, engine); the workflow keeps the
status current. Listing reads visibility only: no worker needed, no history read. A listed run is
a `RunSummary`; the full state of one run is `Client.get_run`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowExecution, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from wayfinder.models import RunEngine, RunStatus, TaskRunRequest
from wayfinder.search_attributes import ENGINE, STATUS, TITLE

RUN_WORKFLOW_TYPES = ("TaskRunWorkflow", "ScriptRunWorkflow")
"""The workflows that are runs, as `list_runs` lists them: a task run (`workflows/task_run.py`)
and a published workflow's code rerun (`workflows/script_run.py`)."""

TEMPORAL_STATUS = {
    WorkflowExecutionStatus.COMPLETED: RunStatus.completed,
    WorkflowExecutionStatus.FAILED: RunStatus.failed,
    WorkflowExecutionStatus.CANCELED: RunStatus.canceled,
    WorkflowExecutionStatus.TERMINATED: RunStatus.terminated,
    WorkflowExecutionStatus.TIMED_OUT: RunStatus.timed_out,
}
"""The run status a workflow closed by Temporal itself (an operator, a timeout) amounts to."""

_QUERY_NAMES = {
    RunStatus.failed: "Failed",
    RunStatus.canceled: "Canceled",
    RunStatus.terminated: "Terminated",
    RunStatus.timed_out: "TimedOut",
}
_OPEN = (RunStatus.queued, RunStatus.running)
_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.TEXT: "Text",
}


class RunSummary(BaseModel):
    """One run as `list_runs` returns it."""

    run_id: str
    status: RunStatus
    title: str | None = None
    engine: RunEngine | None = None
    created_at: datetime
    finished_at: datetime | None = None
    app_url: str | None = None


def parse_status(status: RunStatus | str | None) -> RunStatus | None:
    """The status filter of `list_runs`, with an error that lists the valid ones."""
    if status is None or isinstance(status, RunStatus):
        return status
    try:
        return RunStatus(status)
    except ValueError:
        valid = ", ".join(s.value for s in RunStatus)
        raise ValueError(f"unknown run status {status!r}; use one of: {valid}") from None


def runs_query(status: RunStatus | None) -> str:
    """The visibility query of the runs with this status (all runs if None).

    A run closed by Temporal itself (an operator's terminate, an execution timeout) never
    published its final status: its `WayfinderStatus` is still queued or running, so the
    Temporal status decides. Executions continued as new are the same run: listed once.
    """
    types = ", ".join(f"'{name}'" for name in RUN_WORKFLOW_TYPES)
    query = f"WorkflowType IN ({types}) AND ExecutionStatus != 'ContinuedAsNew'"
    if status is None:
        return query
    published = f"{STATUS.name} = '{status.value}'"
    if status in _OPEN or status is RunStatus.created:
        return f"{query} AND ExecutionStatus = 'Running' AND {published}"
    if status is RunStatus.completed:
        return f"{query} AND {published}"
    stale = ", ".join(f"'{s.value}'" for s in _OPEN)
    closed = f"ExecutionStatus = '{_QUERY_NAMES[status]}' AND {STATUS.name} IN ({stale})"
    return f"{query} AND ({published} OR ({closed}))"


def summary_of(execution: WorkflowExecution, app_url: str | None) -> RunSummary:
    attributes = execution.typed_search_attributes
    engine = attributes.get(ENGINE)
    return RunSummary(
        run_id=execution.id,
        status=status_of(execution),
        title=attributes.get(TITLE),
        engine=RunEngine(engine) if engine else None,
        created_at=execution.start_time,
        finished_at=execution.close_time,
        app_url=app_url,
    )


def status_of(execution: WorkflowExecution) -> RunStatus:
    published = execution.typed_search_attributes.get(STATUS)
    status = RunStatus(published) if published else RunStatus.running
    if status.is_final or execution.status in (None, WorkflowExecutionStatus.RUNNING):
        return status
    return TEMPORAL_STATUS.get(execution.status, RunStatus.failed)


def initial_search_attributes(request: TaskRunRequest) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(STATUS, RunStatus.queued.value),
        SearchAttributePair(ENGINE, request.engine.value),
    ]
    if request.title:
        pairs.append(SearchAttributePair(TITLE, request.title))
    return TypedSearchAttributes(pairs)


def missing_search_attributes(exc: RPCError, namespace: str) -> str | None:
    """What to say when Temporal refused a call because the attributes are not registered."""
    keys = (STATUS, TITLE, ENGINE)
    if exc.status != RPCStatusCode.INVALID_ARGUMENT or not any(
        key.name in exc.message for key in keys
    ):
        return None
    # One command per attribute: the CLI takes several --name but only one --type, and then
    # creates the first name alone.
    commands = "".join(
        f"\n  temporal operator search-attribute create --namespace {namespace} "
        f"--name {key.name} --type {_TYPE_NAMES[key.indexed_value_type]}"
        for key in keys
    )
    return (
        f"Temporal refused the request ({exc.message}): register Wayfinder's search attributes "
        f"on namespace {namespace!r} once, then try again:{commands}"
    )
