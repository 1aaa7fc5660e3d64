"""`enter_verification_code`: get the run's 2FA code and type it, all inside this activity.

The code comes from the run's `totp_url` (polled) or from the mailbox of its `totp_identifier`
(`workflows/totp_mailbox.py`), and goes straight into the field: it is never returned, logged
or put in a heartbeat. What leaves the activity is the page's URL, an error for the model, and
the code encrypted (so that the run can refuse to enter the same code twice).
"""

from __future__ import annotations

import asyncio
import time

import httpx
from temporalio import activity
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating
from wayfinder.activities.hook_contracts import (
    CODE_MISSING,
    ENTER_VERIFICATION_CODE,
    EnterCodeInput,
    EnterCodeOutput,
)
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.actions import ActionError, type_secret
from wayfinder.secrets import SecretBox
from wayfinder.totp import ask_totp_url
from wayfinder.webhooks import DeliveryError, WebhookConfigError, signer
from wayfinder.workflows.totp_mailbox import (
    TAKE,
    TakeCode,
    TakenCode,
    TotpMailboxWorkflow,
    mailbox_id,
)

URL_POLL_INTERVAL = 2.0
"""Seconds between two questions to a `totp_url` that has no code yet."""
MAILBOX_WAIT = 10.0
"""Seconds one question to the mailbox waits there for a code."""


class TotpActivities(ActivityGroup):
    def _box(self) -> SecretBox:
        return SecretBox.from_settings(self._rt.settings)

    @activity.defn(name=ENTER_VERIFICATION_CODE)
    async def enter_verification_code(self, entry: EnterCodeInput) -> EnterCodeOutput:
        wait = self._rt.settings.totp_wait
        used = {self._box().open(token, "a used 2FA code") for token in entry.used}
        with (
            as_activity_errors(self._rt.settings.model_retry_window),
            self._rt.browser_guard(entry.lease.run_id),
        ):
            async with heartbeating():
                deadline = time.monotonic() + wait
                if entry.totp_url:
                    code = await self._from_url(entry, entry.totp_url, used, deadline)
                elif entry.totp_identifier:
                    code = await self._from_mailbox(entry, entry.totp_identifier, used, deadline)
                else:
                    raise ApplicationError(
                        "this run has neither totp_url nor totp_identifier",
                        type=CODE_MISSING,
                        non_retryable=True,
                    )
                if code is None:
                    source = (
                        f"from totp_url {entry.totp_url}"
                        if entry.totp_url
                        else f"for totp_identifier {entry.totp_identifier!r} (send one with "
                        f"client.send_totp_code or `wayfinder totp {entry.totp_identifier} CODE`)"
                    )
                    raise ApplicationError(
                        f"no verification code came {source} within {wait:g} s "
                        "(WAYFINDER_TOTP_WAIT)",
                        type=CODE_MISSING,
                        non_retryable=True,
                    )
                run = self._rt.host.get(entry.lease.run_id)
                error = None
                try:
                    run.page = await type_secret(
                        run.page, entry.element_id, code, press_enter=entry.press_enter
                    )
                except ActionError as exc:
                    error = str(exc)
                activity.logger.info("verification code typed into [%s]", entry.element_id)
                return EnterCodeOutput(
                    url=self._rt.host.get(entry.lease.run_id).page.url,
                    error=error,
                    used=self._box().seal(code),
                )

    async def _from_url(
        self, entry: EnterCodeInput, url: str, used: set[str], deadline: float
    ) -> str | None:
        try:
            hook = signer(self._rt.settings.webhook_secret)
        except WebhookConfigError as exc:
            raise ApplicationError(str(exc), type=CODE_MISSING, non_retryable=True) from exc
        attempt = 0
        async with httpx.AsyncClient(timeout=10.0) as http:
            while True:
                attempt += 1
                try:
                    code = await ask_totp_url(
                        http,
                        url,
                        hook=hook,
                        request_id=f"msg_{entry.run_id}_totp_{attempt}",
                        run_id=entry.run_id,
                        totp_identifier=entry.totp_identifier,
                    )
                except DeliveryError as exc:
                    if not exc.retryable:
                        raise ApplicationError(
                            f"totp_url failed: {exc}", type=CODE_MISSING, non_retryable=True
                        ) from exc
                    activity.logger.warning("totp_url has no answer yet: %s", exc)
                    code = None
                if code is not None and code not in used:
                    return code
                if time.monotonic() + URL_POLL_INTERVAL > deadline:
                    return None
                await asyncio.sleep(URL_POLL_INTERVAL)

    async def _from_mailbox(
        self, entry: EnterCodeInput, identifier: str, used: set[str], deadline: float
    ) -> str | None:
        client = activity.client()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            start = WithStartWorkflowOperation(
                TotpMailboxWorkflow.run,
                None,
                id=mailbox_id(identifier),
                task_queue=entry.mailbox_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            taken = await client.execute_update_with_start_workflow(
                TAKE,
                TakeCode(run_id=entry.run_id, wait_seconds=min(MAILBOX_WAIT, left)),
                start_workflow_operation=start,
                result_type=TakenCode,
            )
            if taken.token is None:
                continue
            code = self._box().open(taken.token, "a pushed 2FA code")
            if code not in used:
                return code
