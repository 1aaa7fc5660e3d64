"""Checking a completion claim against the page as it is now, not as the model remembers it.

With a data_extraction_schema the same look extracts the data: one snapshot, one model call.
"""

from __future__ import annotations

from temporalio import activity

from wayfinder.activities.contracts import VERIFY_COMPLETION, VerifyInput, VerifyOutput
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.llm.decisions import ModelSettings, verify_claim

VERIFY_TOKEN_BUDGET = 8000
EXTRACT_TOKEN_BUDGET = 16_000
"""Extraction reads more of the page than a verdict: the data may sit below the fold."""


class VerifyActivities(ActivityGroup):
    @activity.defn(name=VERIFY_COMPLETION)
    async def verify_completion(self, claim: VerifyInput) -> VerifyOutput:
        budget = VERIFY_TOKEN_BUDGET if claim.schema_ is None else EXTRACT_TOKEN_BUDGET
        with (
            as_activity_errors(self._rt.settings.model_retry_window),
            self._rt.browser_guard(claim.lease.run_id),
        ):
            async with heartbeating():
                snapshot = await self._rt.snapshot(claim.lease.run_id, budget)
                verdict = await verify_claim(
                    self._rt.model_client(),
                    self._verifier(claim),
                    task=claim.task,
                    page=snapshot.text,
                    output=claim.output,
                    summary=claim.summary,
                    history=claim.history,
                    schema=claim.schema_,
                )
        return VerifyOutput(
            verified=verdict.verified, reason=verdict.reason, data=verdict.data, usage=verdict.usage
        )

    def _verifier(self, claim: VerifyInput) -> ModelSettings:
        """The run's model settings, with WAYFINDER_VERIFY_MODEL as the model when it is set."""
        chosen = self._rt.model_settings(claim.model)
        verify_model = self._rt.settings.verify_model
        return chosen if verify_model is None else chosen.model_copy(update={"name": verify_model})
