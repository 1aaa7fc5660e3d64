"""Publishing a completed task run (`publish_workflow=True`) from inside its workflow.

While the run's browser still shows the final page, `publish_script` turns the step log into a
script (and finds where extracted data sits); the published workflow entity is then started as
an abandoned child, so it outlives the run.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import BrowserLease
    from wayfinder.activities.script_contracts import PUBLISH_SCRIPT, PublishScriptInput
    from wayfinder.browser_options import BrowserOptions
    from wayfinder.models import StepRecord, TaskRunRequest, TaskRunResponse
    from wayfinder.published import published_id
    from wayfinder.scripts.model import Script
    from wayfinder.workflows.published import PublishedWorkflowEntity
    from wayfinder.workflows.published_state import listing_memo, published_from


async def publish_completed(
    request: TaskRunRequest,
    steps: list[StepRecord],
    state: TaskRunResponse,
    lease: BrowserLease,
) -> str:
    """Publish the run; returns the published workflow's id."""
    script = await workflow.execute_activity(
        PUBLISH_SCRIPT,
        PublishScriptInput(lease=lease, request=request, steps=steps, output=state.output),
        task_queue=lease.host_queue,
        result_type=Script,
        **options.SCRIPT_STEP.kwargs(),
    )
    workflow_id = published_id(state.run_id)
    await workflow.start_child_workflow(
        PublishedWorkflowEntity.run,
        published_from(
            workflow_id,
            state.run_id,
            request.title,
            script,
            workflow.now(),
            BrowserOptions.kept_from(request),
        ),
        id=workflow_id,
        parent_close_policy=ParentClosePolicy.ABANDON,
        memo=listing_memo(request.title, script),
    )
    return workflow_id
