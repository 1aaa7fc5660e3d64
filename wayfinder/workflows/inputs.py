"""The input of `TaskRunWorkflow`: the request, and what a long run carries across executions.

A long run starts a fresh workflow execution (same workflow id) before its history grows
large; the new execution gets the same input plus its `progress`, and carries on as if nothing
happened: same browser, same step log, same usage.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from wayfinder.activities.contracts import BrowserLease, Checkpoint
from wayfinder.feedback import Feedback
from wayfinder.models import StepRecord, TaskRunRequest, TaskRunResponse


class RunProgress(BaseModel):
    """Everything the workflow object holds, for continue-as-new."""

    state: TaskRunResponse
    steps: list[StepRecord] = Field(default_factory=list)
    lease: BrowserLease | None = None
    checkpoint: Checkpoint | None = None
    feedback: Feedback = Field(default_factory=Feedback)
    recovered_from: str | None = None
    interrupted: str | None = None
    cancel_requested: bool = False
    continuations: int = 0
    """How many times this run has continued as new."""
    used_codes: list[str] = Field(default_factory=list)
    """2FA codes the run has entered, encrypted (none is entered twice)."""


class TaskRunInput(BaseModel):
    """The input of `TaskRunWorkflow`, for teams that start it as a child workflow."""

    request: TaskRunRequest
    created_at: datetime
    app_url: str | None = None
    progress: RunProgress | None = None
    """Set only by the run itself when it continues as new."""
