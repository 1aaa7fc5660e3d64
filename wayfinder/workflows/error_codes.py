"""The error-code question of a run that failed or ran out of steps, as the workflow asks it.

On the run's host while its browser is there (the page shows what went wrong), else on any
worker of the run's queue from the reason and the history alone. No answer leaves the run's
ending as it is: the code is an aid to the caller, never a reason to fail differently.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import BrowserLease
    from wayfinder.activities.hook_contracts import MAP_ERROR_CODE, ErrorCodeInput, ErrorCodeOutput
    from wayfinder.feedback import PastStep
    from wayfinder.models import TaskRunRequest
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
