"""Client side of webhooks: the outcome of a run's delivery, read from its delivery workflow."""

from __future__ import annotations

from typing import Any

import temporalio.client
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from wayfinder.models import TaskRunResponse, WebhookDelivery
from wayfinder.workflows.webhook import WebhookDeliveryWorkflow, delivery_workflow_id


async def with_webhook_delivery(
    temporal: temporalio.client.Client, response: TaskRunResponse, rpc: dict[str, Any]
) -> TaskRunResponse:
    """`response` with its webhook's outcome once the delivery has ended (pending until)."""
    delivery = response.webhook_delivery
    if delivery is None or delivery.status != "pending":
        return response
    handle = temporal.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, delivery_workflow_id(response.run_id)
    )
    try:
        description = await handle.describe(**rpc)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return response  # the run has just ended: its delivery is being started
        raise
    if description.status != WorkflowExecutionStatus.COMPLETED:
        return response
    outcome: WebhookDelivery = await handle.result(**rpc)
    return response.model_copy(update={"webhook_delivery": outcome})
