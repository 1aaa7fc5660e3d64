"""Checking a completion claim against the page as it is now, not as the model remembers it."""

from __future__ import annotations

from temporalio import activity

from wayfinder.activities.contracts import VERIFY_COMPLETION, VerifyInput, VerifyOutput
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.llm.decisions import verify_claim

VERIFY_TOKEN_BUDGET = 8000


class VerifyActivities(ActivityGroup):
    @activity.defn(name=VERIFY_COMPLETION)
    async def verify_completion(self, claim: VerifyInput) -> VerifyOutput:
        with (
            as_activity_errors(self._rt.settings.model_retry_window),
            self._rt.browser_guard(claim.lease.run_id),
        ):
            async with heartbeating():
                snapshot = await self._rt.snapshot(claim.lease.run_id, VERIFY_TOKEN_BUDGET)
                verdict = await verify_claim(
                    self._rt.model_client(),
                    self._rt.model_settings(claim.model),
                    task=claim.task,
                    page=snapshot.text,
                    output=claim.output,
                    summary=claim.summary,
                    history=claim.history,
                )
        return VerifyOutput(verified=verdict.verified, reason=verdict.reason, usage=verdict.usage)
