"""One AI step: look at the page, ask the model, act, and record what happened."""

from __future__ import annotations

import time

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from temporalio import activity

from wayfinder.actions import CompleteAction, TerminateAction
from wayfinder.activities.contracts import TAKE_STEP, StepInput, StepResult
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating, previous_note
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.browser.actions import ActionError, execute_action
from wayfinder.browser.checkpoint import Checkpoint, capture
from wayfinder.browser.locators import ActionRecorder
from wayfinder.browser.snapshot import take_snapshot
from wayfinder.llm import prompts
from wayfinder.llm.decisions import decide_action
from wayfinder.models import StepRecord

PAGE_TOKEN_BUDGET = 6000


class StepActivities(ActivityGroup):
    @activity.defn(name=TAKE_STEP)
    async def take_step(self, step: StepInput) -> StepResult:
        """Run one step. An action that fails on the page is recorded, not raised: the model
        reads the error in its history next step, as a person would retry differently.

        A step is never replayed blindly: a retried attempt (or the first step after a
        recovery) looks at the page afresh and the model is told that the interrupted action
        may already have happened.
        """
        started = time.monotonic()
        run_id = step.lease.run_id
        prefix = f"{step.run_id or run_id}/step-{step.number:03d}"
        feedback = list(step.feedback)
        if step.recovered_from:
            feedback.insert(0, prompts.recovered_note(step.recovered_from, step.interrupted))
        elif activity.info().attempt > 1:
            feedback.insert(0, prompts.retried_step_note(previous_note()))
        with (
            as_activity_errors(self._rt.settings.model_retry_window),
            self._rt.browser_guard(run_id),
        ):
            async with heartbeating() as heartbeat:
                run = self._rt.host.get(run_id)
                snapshot = await take_snapshot(run.page, token_budget=PAGE_TOKEN_BUDGET)
                snapshot_key = self._rt.artifacts.put(f"{prefix}.txt", snapshot.text)
                screenshot_key = await self._screenshot(run.page, f"{prefix}.jpg")
                decision = await decide_action(
                    self._rt.model_client(),
                    self._rt.model_settings(step.model),
                    task=step.task,
                    page=snapshot.text,
                    element_ids=snapshot.elements.keys(),
                    history=step.history,
                    feedback=feedback,
                    error_codes=step.error_codes,
                    extraction_follows=step.extraction_follows,
                )
                action = decision.action
                element_id = getattr(action, "element_id", None)
                element = snapshot.elements[element_id].describe() if element_id else None
                error: str | None = None
                recorder: ActionRecorder | None = None
                if not isinstance(action, CompleteAction | TerminateAction):
                    # If this host dies now, the workflow learns what it was doing. Only the
                    # action and its element: typed values (a password) stay out of history.
                    heartbeat.note(f"{action.type} {element or ''}".strip())
                    # How to find the element again, for publishing (see browser/locators.py).
                    recorder = await ActionRecorder.start(run.page, snapshot, action)
                    try:
                        run.page = await execute_action(run.page, snapshot, action)
                    except ActionError as exc:
                        error = str(exc)
                record = StepRecord(
                    number=step.number,
                    action=action,
                    element=element,
                    url=self._rt.host.get(run_id).page.url,
                    target=recorder.target if recorder else None,
                    after=await recorder.finish(run.page) if recorder else None,
                    error=error,
                    screenshot_key=screenshot_key,
                    snapshot_key=snapshot_key,
                    page_tokens=snapshot.token_estimate,
                    reasks=decision.reasks,
                    usage=decision.usage,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
                return StepResult(record=record, checkpoint=await self._checkpoint(run_id))

    async def _checkpoint(self, run_id: str) -> Checkpoint | None:
        """The browser's state after the step; a page caught mid-navigation gives none."""
        run = self._rt.host.get(run_id)
        try:
            return await capture(run.context, run.page)
        except PlaywrightError as exc:
            activity.logger.warning("no checkpoint after this step: %s", exc.message)
            return None

    async def _screenshot(self, page: Page, key: str) -> str | None:
        """A viewport screenshot for the step log; a page that cannot be captured is no error."""
        try:
            image = await page.screenshot(type="jpeg", quality=60)
        except PlaywrightError as exc:
            activity.logger.warning("screenshot failed: %s", exc.message)
            return None
        return self._rt.artifacts.put(key, image)
