"""Rebuilding a run's lost browser, shared by task runs and code reruns (deterministic)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from wayfinder.actions import RecoverAction
    from wayfinder.models import StepRecord, TaskRunResponse
    from wayfinder.workflows.failures import LostBrowser
    from wayfinder.workflows.run_browser import RunBrowser
    from wayfinder.workflows.session_browser import SessionBrowser

MAX_RECOVERIES = 3
"""Browsers a run may lose before it fails: a page that crashes Chromium every time is lost."""


async def rebuild_browser(
    browser: RunBrowser | SessionBrowser,
    state: TaskRunResponse,
    steps: list[StepRecord],
    lost: LostBrowser,
    *,
    fallback_url: str,
) -> None:
    """Rebuild `browser` from its last checkpoint on a live worker, counting the recovery on
    `state` and adding the entry that records it to the step log `steps`.

    Past `MAX_RECOVERIES` the run fails instead (ApplicationError).
    """
    if state.recoveries >= MAX_RECOVERIES:
        raise ApplicationError(
            f"the run lost its browser {MAX_RECOVERIES + 1} times; the last time: {lost.reason}"
        )
    state.recoveries += 1
    number = len(steps) + 1
    workflow.logger.warning("run %s lost its browser: %s", state.run_id, lost.reason)
    await browser.rebuild(lost.loss)
    checkpoint = browser.checkpoint
    steps.append(
        StepRecord(
            number=number,
            action=RecoverAction(reason=lost.reason, interrupted=lost.interrupted),
            url=(checkpoint.url if checkpoint else None) or fallback_url,
        )
    )
