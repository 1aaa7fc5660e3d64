"""TaskRunWorkflow: one task run, from launching its browser to its terminal status.

The workflow holds the run's state as small pydantic objects and decides what happens next;
every side effect is an activity called by name. Browser activities go to the queue of the
worker process that launched the browser (the lease), because the live browser cannot move.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from wayfinder.actions import CompleteAction, EnterVerificationCodeAction, TerminateAction
    from wayfinder.activities import options
    from wayfinder.activities.contracts import (
        TAKE_STEP,
        VERIFY_COMPLETION,
        StepInput,
        StepResult,
        VerifyInput,
        VerifyOutput,
    )
    from wayfinder.activities.hook_contracts import (
        ENTER_VERIFICATION_CODE,
        EnterCodeInput,
        EnterCodeOutput,
    )
    from wayfinder.feedback import Feedback, PastStep
    from wayfinder.models import RunStatus, StepRecord, TaskRunResponse
    from wayfinder.workflows import loops, outcome, step_log, webhook
    from wayfinder.workflows.artifact_links import add_artifacts
    from wayfinder.workflows.error_codes import map_error_code, with_error_code
    from wayfinder.workflows.failures import LostBrowser, failure_reason
    from wayfinder.workflows.host_calls import OnHost, on_host
    from wayfinder.workflows.inputs import RunProgress, TaskRunInput
    from wayfinder.workflows.publishing import publish_completed
    from wayfinder.workflows.recovery import rebuild_browser
    from wayfinder.workflows.run_browser import RunBrowser, browser_of
    from wayfinder.workflows.run_queries import RunQueries
    from wayfinder.workflows.session_browser import SessionBrowser
    from wayfinder.workflows.session_messages import GRANTED, SessionGrant

T = TypeVar("T")

HISTORY_LINES = 40
"""Earlier steps shown to the model; older ones are counted, not listed."""

STEPS_PER_EXECUTION = 200
"""Continue-as-new after this many step-log entries even if Temporal has not suggested it."""


@workflow.defn(name="TaskRunWorkflow")
class TaskRunWorkflow(RunQueries):
    @workflow.init
    def __init__(self, run: TaskRunInput) -> None:
        request = run.request
        self._request = request
        self._steps: list[StepRecord] = []
        self._cancel_requested = False
        self._outcome: tuple[RunStatus, str | None] = (RunStatus.failed, "the run ended early")
        self._browser: RunBrowser | SessionBrowser = browser_of(
            request, workflow.info().workflow_id
        )
        self._recovered_from: str | None = None
        self._interrupted: str | None = None
        """What the step in flight was doing when the browser was lost, if its host said."""
        self._state = TaskRunResponse(
            run_id=workflow.info().workflow_id,
            status=RunStatus.queued,
            created_at=run.created_at,
            app_url=run.app_url,
            title=request.title,
            step_count=0,
        )
        self._feedback = Feedback()
        self._continuations = 0
        self._used_codes: list[str] = []
        self._first_entry = 1
        """Number of the first step-log entry of this execution (later ones after a continue)."""
        if run.progress is not None:
            self._resume(run.progress)

    def _resume(self, progress: RunProgress) -> None:
        self._state = progress.state
        self._steps = progress.steps
        self._browser.lease = progress.lease
        self._browser.checkpoint = progress.checkpoint
        self._feedback = progress.feedback
        self._recovered_from = progress.recovered_from
        self._interrupted = progress.interrupted
        self._cancel_requested = progress.cancel_requested
        self._continuations = progress.continuations
        self._used_codes = progress.used_codes
        self._first_entry = len(self._steps) + 1

    @workflow.signal(name=GRANTED)
    def session_granted(self, grant: SessionGrant) -> None:
        """The answer of the run's browser session (see `session_messages`)."""
        if isinstance(self._browser, SessionBrowser):
            self._browser.granted(grant)

    @workflow.signal(name="cancel")
    def cancel(self) -> None:
        """Stop at the next safe point (the step in flight is interrupted), close the browser."""
        self._cancel_requested = True

    @workflow.run
    async def run(self, run: TaskRunInput) -> TaskRunResponse:
        try:
            if self._browser.lease is None:
                await self._browser.launch()
            self._state.status = RunStatus.running
            outcome.publish_status(RunStatus.running)
            await self._loop()
            if self._request.publish_workflow and self._outcome[0] is RunStatus.completed:
                self._state.workflow_id = await publish_completed(
                    self._request, self._steps, self._state, self._browser.leased
                )
        except asyncio.CancelledError:
            self._finish(RunStatus.canceled, "the run was canceled")
        except ActivityError as exc:
            self._finish(RunStatus.failed, failure_reason(exc))
        except ApplicationError as exc:
            self._finish(RunStatus.failed, exc.message)
        self._outcome = await map_error_code(
            self._request, self._state, self._outcome, self._history(), self._browser.lease
        )
        # Not in a `finally`: a continue-as-new leaves through here too, and keeps the browser.
        await self._browser.close()
        add_artifacts(self._state, self._browser)
        # The terminal status is published only now, with the browser closed: a client that
        # sees a final status can rely on everything being done.
        self._state.status, self._state.failure_reason = self._outcome
        self._state.finished_at = workflow.now()
        if self._request.webhook_url is not None:
            # Only the delivery's start is awaited: its retries never hold up the run's ending.
            self._state.webhook_delivery = await webhook.start_delivery(
                self._request.webhook_url, self._state, self._state.run_id
            )
        return outcome.end_run(self._state)

    async def _loop(self) -> None:
        request = self._request
        while True:
            if self._cancel_requested:
                self._finish(RunStatus.canceled, "the run was canceled")
                return
            if self._history_is_long():
                await self._continue_as_new()
            if request.max_steps is not None and self._action_count() >= request.max_steps:
                self._finish(
                    RunStatus.timed_out,
                    f"max_steps ({request.max_steps}) reached before the task was completed",
                )
                return
            result = await self._on_host(
                TAKE_STEP,
                StepInput(
                    lease=self._browser.leased,
                    number=len(self._steps) + 1,
                    run_id=self._state.run_id,
                    task=request.prompt,
                    history=self._history(),
                    earlier=max(0, len(self._steps) - HISTORY_LINES),
                    feedback=self._feedback,
                    max_actions=(
                        None
                        if request.max_steps is None
                        else request.max_steps - self._action_count()
                    ),
                    model=request.model,
                    error_codes=request.error_code_mapping,
                    extraction_follows=request.data_extraction_schema is not None,
                    verification_code=bool(request.totp_url or request.totp_identifier),
                    recovered_from=self._recovered_from,
                    interrupted=self._interrupted,
                ),
                StepResult,
            )
            if result is None:
                continue  # canceled or recovered mid-step: the top of the loop decides
            self._recovered_from = self._interrupted = None
            self._browser.checkpoint = result.checkpoint or self._browser.checkpoint
            for record in result.records:
                step_log.record(self._state, self._steps, record)
            last = result.records[-1]
            if isinstance(last.action, EnterVerificationCodeAction):
                # Taken alone (activities/answer.py); typed by its own activity, which fetches
                # the code, so that the code never passes through the step.
                entered = await self._enter_code(last.action)
                if entered is None:
                    continue
                self._steps[-1] = last.model_copy(
                    update={"url": entered.url, "error": entered.error}
                )
            loop = loops.find_loop(self._steps)
            if loop is not None and loop.repeats >= loop.stop_at:
                self._finish(RunStatus.terminated, loops.ended_reason(loop))
                return
            self._feedback = Feedback(not_run=result.not_run, loop=loop)
            # complete and terminate are only ever taken alone (see activities/answer.py).
            action = result.records[-1].action
            if isinstance(action, TerminateAction):
                self._terminate(action)
                return
            if not isinstance(action, CompleteAction):
                continue
            # One look at the page checks the claim and, with a schema, extracts the data.
            verdict = await self._on_host(
                VERIFY_COMPLETION,
                VerifyInput(
                    lease=self._browser.leased,
                    task=request.prompt,
                    output=action.output,
                    summary=action.summary,
                    history=(
                        self._history() if request.include_action_history_in_verification else None
                    ),
                    model=request.model,
                    schema=request.data_extraction_schema,
                ),
                VerifyOutput,
            )
            if verdict is None:
                continue
            self._state.usage += verdict.usage
            if not verdict.verified:
                self._feedback = Feedback(refuted=verdict.reason)
                continue
            extracting = request.data_extraction_schema is not None
            self._state.output = verdict.data if extracting else action.output
            self._finish(RunStatus.completed)
            return

    def _history_is_long(self) -> bool:
        entries = len(self._steps) - self._first_entry + 1
        return entries >= STEPS_PER_EXECUTION or workflow.info().is_continue_as_new_suggested()

    async def _continue_as_new(self) -> None:
        """Carry the run into a fresh execution; the browser stays where it is."""
        # Handles cannot travel: let the closing of discarded browsers finish first.
        await self._browser.settle()
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            TaskRunInput(
                request=self._request,
                created_at=self._state.created_at,
                app_url=self._state.app_url,
                progress=RunProgress(
                    state=self._state,
                    steps=self._steps,
                    lease=self._browser.lease,
                    checkpoint=self._browser.checkpoint,
                    feedback=self._feedback,
                    recovered_from=self._recovered_from,
                    interrupted=self._interrupted,
                    cancel_requested=self._cancel_requested,
                    continuations=self._continuations + 1,
                    used_codes=self._used_codes,
                ),
            )
        )

    async def _enter_code(self, action: EnterVerificationCodeAction) -> EnterCodeOutput | None:
        """Have the host fetch the run's 2FA code and type it; only its URL and error return."""
        request = self._request
        entered = await self._on_host(
            ENTER_VERIFICATION_CODE,
            EnterCodeInput(
                lease=self._browser.leased,
                run_id=self._state.run_id,
                element_id=action.element_id,
                press_enter=action.press_enter,
                totp_url=request.totp_url,
                totp_identifier=request.totp_identifier,
                mailbox_queue=workflow.info().task_queue,
                used=self._used_codes,
            ),
            EnterCodeOutput,
            options.VERIFICATION_CODE,
        )
        if entered is not None and entered.used is not None:
            self._used_codes.append(entered.used)
        return entered

    async def _on_host(
        self,
        activity: str,
        arg: OnHost,
        result_type: type[T],
        activity_options: options.ActivityOptions = options.HOST_STEP,
    ) -> T | None:
        """Run a browser activity on the host of `arg.lease`.

        None if the run was canceled meanwhile, or if the browser was lost and has been
        rebuilt from the last checkpoint: either way the loop starts over from its top.
        """
        return await on_host(
            activity,
            arg,
            result_type,
            activity_options,
            recover=self._recover,
            wait=self._unless_canceled,
        )

    async def _recover(self, lost: LostBrowser) -> None:
        """Rebuild the run's browser from its last checkpoint, on a live worker.

        The step in flight is not replayed: the next step observes the rebuilt page and the
        model is told that the interrupted action may or may not have taken effect.
        """
        fallback_url = self._request.url or "about:blank"
        await rebuild_browser(
            self._browser, self._state, self._steps, lost, fallback_url=fallback_url
        )
        self._recovered_from = lost.reason
        self._interrupted = lost.interrupted
        workflow.set_current_details(f"recovered: {lost.reason}")

    async def _unless_canceled(self, handle: workflow.ActivityHandle[T]) -> T | None:
        """Await an activity, or cancel it and return None if the run is canceled meanwhile."""
        canceled = asyncio.ensure_future(workflow.wait_condition(lambda: self._cancel_requested))
        await workflow.wait([handle, canceled], return_when=asyncio.FIRST_COMPLETED)
        if handle.done():
            canceled.cancel()
            return handle.result()
        handle.cancel()
        try:
            await handle
        except (ActivityError, asyncio.CancelledError):
            pass  # the activity is being canceled: that is what we asked for
        return None

    def _action_count(self) -> int:
        return step_log.action_count(self._steps)

    def _history(self) -> list[PastStep]:
        return [PastStep.of(step) for step in self._steps[-HISTORY_LINES:]]

    def _terminate(self, action: TerminateAction) -> None:
        reason = action.reason
        if action.error_code:
            reason = with_error_code(
                self._request, self._state, action.error_code, reason, reasoning=reason
            )
        self._finish(RunStatus.terminated, reason)

    def _finish(self, status: RunStatus, reason: str | None = None) -> None:
        self._outcome = (status, reason)
