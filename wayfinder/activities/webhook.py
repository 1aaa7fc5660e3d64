"""`deliver_webhook`: one signed POST of a run's final response; Temporal does the retries.

Each attempt reports itself in its error's details (`WebhookAttemptFailure`), so the workflow
that gives up can say how many attempts there were and how the last one ended. The
retry window works as the model's does (`errors.py`): Temporal tells every attempt when the
first was scheduled, and the attempt that would retry past `WAYFINDER_WEBHOOK_RETRY_WINDOW`
fails for good instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wayfinder.activities.hook_contracts import (
    DELIVER_WEBHOOK,
    DeliverWebhookInput,
    WebhookAttempt,
    WebhookAttemptFailure,
)
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.webhooks import DeliveryError, WebhookConfigError, post_signed, signer

REQUEST_TIMEOUT = 10.0
"""Seconds one POST may take; a receiver should answer at once and do its work later."""


class WebhookActivities(ActivityGroup):
    @activity.defn(name=DELIVER_WEBHOOK)
    async def deliver_webhook(self, delivery: DeliverWebhookInput) -> WebhookAttempt:
        info = activity.info()
        try:
            hook = signer(self._rt.settings.webhook_secret)
        except WebhookConfigError as exc:
            raise self._failure(str(exc), None, retryable=False, retry_after=None) from exc
        try:
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as http:
                response = await post_signed(
                    http,
                    delivery.url,
                    hook=hook,
                    webhook_id=delivery.webhook_id,
                    body=delivery.body,
                )
        except DeliveryError as exc:
            activity.logger.warning("webhook attempt %d: %s", info.attempt, exc)
            raise self._failure(
                str(exc), exc.status_code, retryable=exc.retryable, retry_after=exc.retry_after
            ) from exc
        return WebhookAttempt(attempts=info.attempt, status_code=response.status_code)

    def _failure(
        self, message: str, status: int | None, *, retryable: bool, retry_after: float | None
    ) -> ApplicationError:
        info = activity.info()
        window = self._rt.settings.webhook_retry_window
        waited = (datetime.now(UTC) - info.scheduled_time).total_seconds()
        if retryable and waited + (retry_after or 0.0) >= window:
            retryable = False
            message = f"{message} (still failing after {waited:.0f} s; "
            message += f"WAYFINDER_WEBHOOK_RETRY_WINDOW is {window:g} s)"
        details = WebhookAttemptFailure(attempts=info.attempt, status_code=status, error=message)
        return ApplicationError(
            message,
            details,
            type="WebhookRetryable" if retryable else "WebhookRejected",
            non_retryable=not retryable,
            next_retry_delay=timedelta(seconds=retry_after) if retry_after else None,
        )
