"""A run's `error_code_mapping`, as its workflow applies it: the code the model named when it
terminated the run, and the question of which code applies to a run that failed or ran out of
steps.

The question is asked on the run's host while its browser is there (the page shows what went
wrong), else on any worker of the run's queue from the reason and the history alone. No answer
leaves the run's ending as it is: the code is an aid to the caller, never a reason to fail
differently.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import BrowserLease
    from wayfinder.activities.hook_contracts import MAP_ERROR_CODE, ErrorCodeInput, ErrorCodeOutput
    from wayfinder.feedback import PastStep
    from wayfinder.models import RunStatus, TaskRunRequest, TaskRunResponse
    from wayfinder.workflows.failures import failure_reason


async def ask_error_code(
    request: TaskRunRequest, failure: str, history: list[PastStep], lease: BrowserLease | None
) -> ErrorCodeOutput | None:
    """The model's answer, or None when it could not be asked (cancellation propagates)."""
    codes = request.error_code_mapping or {}
    for where in [lease, None] if lease is not None else [None]:
        question = ErrorCodeInput(
            lease=where,
            task=request.prompt,
            failure=failure,
            history=history,
            error_codes=codes,
            model=request.model,
        )
        try:
            return await workflow.execute_activity(
                MAP_ERROR_CODE,
                question,
                task_queue=where.host_queue if where else workflow.info().task_queue,
                result_type=ErrorCodeOutput,
                **options.ERROR_CODE.kwargs(),
            )
        except ActivityError as exc:
            workflow.logger.warning("error code question failed: %s", failure_reason(exc))
    return None


Outcome = tuple[RunStatus, str | None]
"""A run's ending: its final status and failure reason."""


def with_error_code(
    request: TaskRunRequest, state: TaskRunResponse, code: str, reason: str, *, reasoning: str
) -> str:
    """Put the user's `code` in the run's output; returns the failure reason that names it."""
    described = (request.error_code_mapping or {}).get(code, "")
    state.output = {
        "error_code": code,
        "error_description": described,
        "reasoning": reasoning,
    }
    because = reason if reasoning == reason else f"{reason}; {reasoning}"
    return f"{code}: {described} ({because})"


async def map_error_code(
    request: TaskRunRequest,
    state: TaskRunResponse,
    ending: Outcome,
    history: list[PastStep],
    lease: BrowserLease | None,
) -> Outcome:
    """A run that failed or ran out of steps: the ending that names the user's code, if the
    model finds one applies (the ending as it was otherwise)."""
    status, reason = ending
    if not request.error_code_mapping or status not in (RunStatus.failed, RunStatus.timed_out):
        return ending
    # Runs that reached their ending before this question existed replay without it.
    if not workflow.patched("error-code-on-every-ending"):
        return ending
    failure = reason or f"the run ended {status.value}"
    try:
        answer = await ask_error_code(request, failure, history, lease)
    except asyncio.CancelledError:
        return RunStatus.canceled, "the run was canceled"
    if answer is None:
        return ending
    state.usage += answer.usage
    if answer.code is None:
        return ending
    return status, with_error_code(request, state, answer.code, failure, reasoning=answer.reasoning)
