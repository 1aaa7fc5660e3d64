"""One AI step: look at the page, ask the model, act, and record what happened."""

from __future__ import annotations

import asyncio
import base64
import time
from weakref import WeakKeyDictionary

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError
from temporalio import activity

from wayfinder.actions import CompleteAction, TerminateAction
from wayfinder.activities.contracts import TAKE_STEP, StepInput, StepResult
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating, previous_note
from wayfinder.activities.runtime import ActivityGroup, ActivityRuntime
from wayfinder.browser.actions import ActionError, execute_action
from wayfinder.browser.checkpoint import Checkpoint, capture
from wayfinder.browser.snapshot import take_snapshot
from wayfinder.llm import prompts
from wayfinder.llm.decisions import decide_action
from wayfinder.models import StepRecord

PAGE_TOKEN_BUDGET = 6000
SCREENSHOT_QUALITY = 60
"""JPEG quality of the step screenshots: legible text at a tenth of a PNG's size."""
SCREENSHOT_TIMEOUT_S = 10.0
"""A screenshot that takes longer (a page that never paints) is skipped, not waited for."""


class StepActivities(ActivityGroup):
    def __init__(self, runtime: ActivityRuntime) -> None:
        super().__init__(runtime)
        self._cdp: WeakKeyDictionary[Page, CDPSession] = WeakKeyDictionary()
        """A CDP session per page for its screenshots, dropped with the page."""

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
                # Off the critical path: the screenshot is captured while the page is described
                # and the model decides; it only has to be done before the action changes it.
                screenshot = asyncio.create_task(self._screenshot(run.page, f"{prefix}.jpg"))
                try:
                    snapshot = await take_snapshot(run.page, token_budget=PAGE_TOKEN_BUDGET)
                    snapshot_key = self._rt.artifacts.put(f"{prefix}.txt", snapshot.text)
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
                finally:
                    screenshot_key = await screenshot
                action = decision.action
                element_id = getattr(action, "element_id", None)
                element = snapshot.elements[element_id].describe() if element_id else None
                error: str | None = None
                if not isinstance(action, CompleteAction | TerminateAction):
                    # If this host dies now, the workflow learns what it was doing. Only the
                    # action and its element: typed values (a password) stay out of history.
                    heartbeat.note(f"{action.type} {element or ''}".strip())
                    try:
                        run.page = await execute_action(run.page, snapshot, action)
                    except ActionError as exc:
                        error = str(exc)
                record = StepRecord(
                    number=step.number,
                    action=action,
                    element=element,
                    url=self._rt.host.get(run_id).page.url,
                    error=error,
                    screenshot_key=screenshot_key,
                    snapshot_key=snapshot_key,
                    page_tokens=snapshot.token_estimate,
                    reasks=decision.reasks,
                    usage=decision.usage,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
                if isinstance(action, CompleteAction | TerminateAction):
                    # Nothing was done to the page: the last checkpoint still describes it.
                    return StepResult(record=record)
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
        """A viewport screenshot for the step log; a page that cannot be captured is no error.

        One CDP call: Playwright's own screenshot first evaluates in every frame (caret,
        animations, fonts) and restores them after, round trips through a renderer that is
        busy with the page, which an image for the log does not need. A page with no frame to
        capture yet (just navigated) gets Playwright's screenshot, which waits for one.
        """
        try:
            async with asyncio.timeout(SCREENSHOT_TIMEOUT_S):
                try:
                    image = await self._cdp_screenshot(page)
                except PlaywrightError:
                    self._cdp.pop(page, None)  # a detached session is made again next time
                    image = await page.screenshot(
                        type="jpeg", quality=SCREENSHOT_QUALITY, caret="initial"
                    )
        except PlaywrightError as exc:
            activity.logger.warning("screenshot failed: %s", exc.message)
            return None
        except TimeoutError:
            activity.logger.warning(
                "screenshot took over %s s; step without one", SCREENSHOT_TIMEOUT_S
            )
            return None
        return self._rt.artifacts.put(key, image)

    async def _cdp_screenshot(self, page: Page) -> bytes:
        session = self._cdp.get(page)
        if session is None:
            session = self._cdp[page] = await page.context.new_cdp_session(page)
        shot = await session.send(
            "Page.captureScreenshot", {"format": "jpeg", "quality": SCREENSHOT_QUALITY}
        )
        return base64.b64decode(shot["data"])
