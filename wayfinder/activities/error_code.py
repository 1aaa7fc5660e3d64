"""`map_error_code`: which of the user's error codes applies to a run that did not complete."""

from __future__ import annotations

from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, Field
from temporalio import activity

from wayfinder.activities.contracts import BrowserLease
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.host import BrowserGoneError
from wayfinder.llm.error_codes import choose_error_code
from wayfinder.models import ModelOverride, TokenUsage

MAP_ERROR_CODE = "map_error_code"
PAGE_TOKEN_BUDGET = 6000


class ErrorCodeInput(BaseModel):
    lease: BrowserLease | None = None
    """The run's browser, when it still has one: its page is part of the question."""
    task: str
    failure: str
    history: list[str] = Field(default_factory=list)
    error_codes: dict[str, str]
    model: ModelOverride | None = None


class ErrorCodeOutput(BaseModel):
    code: str | None
    reasoning: str
    usage: TokenUsage


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
