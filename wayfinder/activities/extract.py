"""Schema-bound extraction from the final page."""

from __future__ import annotations

from temporalio import activity

from wayfinder.activities.contracts import EXTRACT_OUTPUT, ExtractInput, ExtractOutput
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.llm.decisions import extract_data

EXTRACT_TOKEN_BUDGET = 16_000
"""Extraction reads more of the page than a step: the data may sit below the fold."""


class ExtractActivities(ActivityGroup):
    @activity.defn(name=EXTRACT_OUTPUT)
    async def extract_output(self, request: ExtractInput) -> ExtractOutput:
        with (
            as_activity_errors(self._rt.settings.model_retry_window),
            self._rt.browser_guard(request.lease.run_id),
        ):
            async with heartbeating():
                snapshot = await self._rt.snapshot(request.lease.run_id, EXTRACT_TOKEN_BUDGET)
                extraction = await extract_data(
                    self._rt.model_client(),
                    self._rt.model_settings(request.model),
                    task=request.task,
                    page=snapshot.text,
                    schema=request.schema_,
                )
        return ExtractOutput(data=extraction.data, usage=extraction.usage)
