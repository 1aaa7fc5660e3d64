"""One AI step: look at the page, ask the model, act, and record what happened."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from weakref import WeakKeyDictionary

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wayfinder.actions import Action, CompleteAction, InputTextAction, TerminateAction
from wayfinder.activities.answer import split_answer
from wayfinder.activities.contracts import TAKE_STEP, StepInput, StepResult
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import Heartbeat, heartbeating, previous_note
from wayfinder.activities.runtime import ActivityGroup, ActivityRuntime
from wayfinder.browser.batch import ActionOutcome, run_actions
from wayfinder.browser.checkpoint import Checkpoint, capture
from wayfinder.browser.host import BrowserRun
from wayfinder.browser.locators import ActionRecorder, text_lines
from wayfinder.browser.recording import Recorder
from wayfinder.browser.settle import prime
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot
from wayfinder.feedback import NotRun, StopReason
from wayfinder.llm import prompts
from wayfinder.llm.decisions import decide_action
from wayfinder.models import StepRecord
from wayfinder.scripts.model import SECRET_STAND_IN, ElementTarget, PageCheck
from wayfinder.secrets import SecretBox, SecretKeyError
from wayfinder.settings import Settings

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
        feedback = prompts.feedback_lines(step.feedback)
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
                # The element the last action worked on (a select lists all its options).
                last = step.history[-1].action if step.history else None
                focus = getattr(last, "element_id", None)
                snapshot = await take_snapshot(
                    run.page, token_budget=PAGE_TOKEN_BUDGET, focus_id=focus
                )
                # Off the critical path, while the model decides: the screenshot, which only has
                # to be taken before the first action changes the page (see `_act`); the page's
                # text, against which that action's recording tells what appeared; Playwright's
                # scripts in this document, which recording the element needs first (set up
                # already when the last action loaded it, see browser/settle.py). After the
                # snapshot, not beside it: all of them wait for the same renderer.
                screenshot = asyncio.create_task(
                    self._screenshot(run.page, f"{prefix}.jpg", run.recorder)
                )
                lines = asyncio.create_task(text_lines(run.page))
                primed = asyncio.create_task(prime(run.page))
                try:
                    snapshot_key = self._rt.artifacts.put(f"{prefix}.txt", snapshot.text)
                    decision = await decide_action(
                        self._rt.model_client(),
                        self._rt.model_settings(step.model),
                        task=step.task,
                        page=snapshot.text,
                        element_ids=snapshot.elements.keys(),
                        history=prompts.history_lines(step.history, step.earlier),
                        feedback=feedback,
                        error_codes=step.error_codes,
                        extraction_follows=step.extraction_follows,
                        verification_code=step.verification_code,
                    )
                except BaseException:
                    screenshot.cancel()
                    lines.cancel()
                    primed.cancel()
                    raise
                try:
                    # Not waiting for `primed`: the recording's own calls come after it on the
                    # page's connection, and a decision does not need it.
                    ran, not_run = await _act(
                        run, snapshot, decision.actions, step, heartbeat, screenshot, lines
                    )
                finally:
                    lines.cancel()  # read by the first action; unread by a decision
                    primed.cancel()  # done by now, or no longer needed
                    screenshot_key = await screenshot
                records = _records(step, snapshot, ran, screenshot_key, snapshot_key)
                _seal_secrets(records, self._rt.settings)
                # The model read the page and answered once: that goes on the first record.
                records[0].page_tokens = snapshot.token_estimate
                records[0].reasks = decision.reasks
                records[0].usage = decision.usage
                records[-1].duration_ms = int((time.monotonic() - started) * 1000)
                if isinstance(records[-1].action, CompleteAction | TerminateAction):
                    # Nothing was done to the page: the last checkpoint still describes it.
                    return StepResult(records=records, not_run=not_run)
                return StepResult(
                    records=records, not_run=not_run, checkpoint=await self._checkpoint(run_id)
                )

    async def _checkpoint(self, run_id: str) -> Checkpoint | None:
        """The browser's state after the step; a page caught mid-navigation gives none."""
        run = self._rt.host.get(run_id)
        try:
            return await capture(run.context, run.page)
        except PlaywrightError as exc:
            activity.logger.warning("no checkpoint after this step: %s", exc.message)
            return None

    async def _screenshot(self, page: Page, key: str, recorder: Recorder | None) -> str | None:
        """A viewport screenshot for the step log; a page that cannot be captured is no error.

        When the run records a video, its screencast already has the tab's picture: Chromium
        sends a frame each time the picture changes, so the last one is the page now, at no
        cost (a capture of its own costs the browser 30 ms idle, and over 100 ms in a step,
        where the renderer is busy with the rest). Otherwise, and before the tab's first
        frame, one CDP call: Playwright's own screenshot first evaluates in every frame (caret,
        animations, fonts) and restores them after, round trips through a renderer that is
        busy with the page, which an image for the log does not need. A page with no frame to
        capture yet (just navigated) gets Playwright's screenshot, which waits for one.
        """
        image = recorder.picture(page) if recorder is not None else None
        if image is not None:
            return self._rt.artifacts.put(key, image)
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


async def _act(
    run: BrowserRun,
    snapshot: PageSnapshot,
    actions: list[Action],
    step: StepInput,
    heartbeat: Heartbeat,
    screenshot: asyncio.Task[str | None],
    lines: asyncio.Task[frozenset[str] | None],
) -> tuple[list[ActionOutcome], NotRun | None]:
    """Take the model's answer: a decision alone, or page actions in order (`run_actions`).

    Returns what ran, in order, and what did not run and why (for the next step's feedback).
    The first action acts only once `screenshot` (of the page the model saw) is taken;
    `lines` is the page's text then, which tells what the first action made appear.
    """
    plan = split_answer(actions, step.max_actions)
    if plan.decision is not None:
        return [ActionOutcome(plan.decision, None, run.page.url)], plan.not_run(
            StopReason.decision, None
        )

    recorders: list[ActionRecorder] = []
    afters: list[asyncio.Task[PageCheck | None]] = []
    """What the page showed after each action, read while the next one is being recorded
    (both only read the page; it is read before the next action acts)."""

    async def before(action: Action, page: Page) -> ElementTarget | None:
        # If this host dies now, the workflow learns what it was doing. Only the action
        # and its element: typed values (a password) stay out of history.
        heartbeat.note(f"{action.type} {_element(snapshot, action) or ''}".strip())
        # How to find the element again, for publishing (see browser/locators.py).
        seen = await lines if not recorders and page is run.page else None
        recording = asyncio.create_task(ActionRecorder.start(page, snapshot, action, seen))
        await asyncio.gather(recording, *afters[-1:])
        await screenshot  # taken before the first action acts; at once after that
        recorders.append(recording.result())
        return recorders[-1].target

    async def after(_: ActionOutcome, page: Page) -> PageCheck | None:
        afters.append(asyncio.create_task(recorders[-1].finish(page)))
        return None

    try:
        batch = await run_actions(run.page, snapshot, plan.page_actions, before=before, after=after)
        for outcome, seen in zip(batch.ran, await asyncio.gather(*afters), strict=True):
            outcome.after = seen
    finally:
        for task in afters:
            task.cancel()  # done by now, unless the batch failed: then nobody reads them
    run.page = batch.page
    last_ran = step.number + len(batch.ran) - 1
    stop = batch.stop or plan.leftover_reason
    return batch.ran, plan.not_run(stop, last_ran, batch.detail, batch.not_run)


def _element(snapshot: PageSnapshot, action: Action) -> str | None:
    """What the action acts on, as the page description named it, e.g. "button 'Send'"."""
    element_id = getattr(action, "element_id", None)
    return snapshot.elements[element_id].describe() if element_id else None


def _records(
    step: StepInput,
    snapshot: PageSnapshot,
    ran: list[ActionOutcome],
    screenshot_key: str | None,
    snapshot_key: str,
) -> list[StepRecord]:
    """One step-log entry per action that ran, numbered on from the step's own number."""
    page_state = hashlib.sha256(snapshot.text.encode()).hexdigest()[:16]
    return [
        StepRecord(
            number=step.number + index,
            action=outcome.action,
            element=_element(snapshot, outcome.action),
            url=outcome.url,
            target=outcome.target,
            after=outcome.after,
            error=outcome.error,
            screenshot_key=screenshot_key,
            snapshot_key=snapshot_key,
            page_state=page_state,
        )
        for index, outcome in enumerate(ran)
    ]


def _seal_secrets(records: list[StepRecord], settings: Settings) -> None:
    """A value typed into a password field leaves the activity only encrypted: the record
    (workflow history, the run's details, the step log, the model's history) shows a stand-in,
    and publishing opens `sealed_text` to turn it into a secret parameter."""
    for record in records:
        action = record.action
        if not (isinstance(action, InputTextAction) and record.target and record.target.secret):
            continue
        try:
            sealed = SecretBox.from_settings(settings).seal(action.text)
        except SecretKeyError as exc:
            raise ApplicationError(str(exc), type="SecretKeyError", non_retryable=True) from exc
        record.sealed_text = sealed
        record.action = action.model_copy(update={"text": SECRET_STAND_IN})
