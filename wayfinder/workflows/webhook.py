"""Webhook delivery as workflows see it: a small child workflow per run that has a webhook.

A run ends the moment its status is final; the delivery goes on in `WebhookDeliveryWorkflow`
(id `<run id>-webhook`, abandoned by its parent), so a receiver that is down never holds up the
run, its Temporal status or `wait_for_completion`. The run's final response carries the
delivery as `pending`; `get_run` reads the child's result once it has one
(`wayfinder.webhook_status`). Any workflow (a rerun of a published workflow too) delivers with
`start_delivery`.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.hook_contracts import (
        DELIVER_WEBHOOK,
        DeliverWebhookInput,
        WebhookAttempt,
        WebhookAttemptFailure,
    )
    from wayfinder.models import WebhookDelivery

DELIVERY_SUFFIX = "-webhook"


def delivery_workflow_id(run_id: str) -> str:
    return f"{run_id}{DELIVERY_SUFFIX}"


async def start_delivery(url: str, response: BaseModel, run_id: str) -> WebhookDelivery:
    """Start delivering `response` to `url`; returns the delivery as `pending`.

    The `webhook-id` is derived from the run id: the same on every attempt and on a replay.
    The body leaves out `webhook_delivery` itself, which the body cannot know.
    """
    delivery = DeliverWebhookInput(
        url=url,
        webhook_id=f"msg_{run_id}",
        body=response.model_dump_json(exclude={"webhook_delivery"}),
    )
    await workflow.start_child_workflow(
        WebhookDeliveryWorkflow.run,
        delivery,
        id=delivery_workflow_id(run_id),
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        static_summary=f"webhook of {run_id}",
    )
    return WebhookDelivery(webhook_id=delivery.webhook_id, url=url)


@workflow.defn(name="WebhookDelivery")
class WebhookDeliveryWorkflow:
    """Deliver one webhook; ends Completed with its outcome whatever the receiver did."""

    @workflow.run
    async def run(self, delivery: DeliverWebhookInput) -> WebhookDelivery:
        outcome = WebhookDelivery(webhook_id=delivery.webhook_id, url=delivery.url)
        try:
            sent = await workflow.execute_activity(
                DELIVER_WEBHOOK, delivery, result_type=WebhookAttempt, **options.WEBHOOK.kwargs()
            )
        except ActivityError as exc:
            cause = exc.cause
            failure = None
            if isinstance(cause, ApplicationError) and cause.details:
                failure = WebhookAttemptFailure.model_validate(cause.details[0])
            outcome.status = "failed"
            if failure is not None:
                outcome.attempts = failure.attempts
                outcome.last_status_code = failure.status_code
                outcome.error = failure.error
            else:
                outcome.error = str(cause or exc)
        else:
            outcome.status = "delivered"
            outcome.attempts = sent.attempts
            outcome.last_status_code = sent.status_code
        outcome.finished_at = workflow.now()
        return outcome
