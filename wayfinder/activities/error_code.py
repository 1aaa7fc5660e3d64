"""`map_error_code`: which of the user's error codes applies to a run that did not complete."""

from __future__ import annotations

from playwright.async_api import Error as PlaywrightError
from temporalio import activity

from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.hook_contracts import MAP_ERROR_CODE, ErrorCodeInput, ErrorCodeOutput
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.host import BrowserGoneError
from wayfinder.llm.error_codes import choose_error_code

PAGE_TOKEN_BUDGET = 6000


class ErrorCodeActivities(ActivityGroup):
    @activity.defn(name=MAP_ERROR_CODE)
    async def map_error_code(self, question: ErrorCodeInput) -> ErrorCodeOutput:
        page: str | None = None
        lease = question.lease
        if lease is not None and self._rt.host.holds(lease.run_id, lease.generation):
            try:
                page = (await self._rt.snapshot(lease.run_id, PAGE_TOKEN_BUDGET)).text
            except (PlaywrightError, BrowserGoneError) as exc:
                # The question is still worth asking from the reason and the history.
                activity.logger.warning("no page for the error code question: %s", exc)
        with as_activity_errors(self._rt.settings.model_retry_window):
            choice = await choose_error_code(
                self._rt.model_client(),
                self._rt.model_settings(question.model),
                task=question.task,
                failure=question.failure,
                history=question.history,
                error_codes=question.error_codes,
                page=page,
            )
        return ErrorCodeOutput(code=choice.code, reasoning=choice.reasoning, usage=choice.usage)
