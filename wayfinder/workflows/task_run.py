"""TaskRunWorkflow: one task run, from launching its browser to its terminal status.

The workflow holds the run's state as small pydantic objects and decides what happens next;
every side effect is an activity called by name. Browser activities go to the queue of the
worker process that launched the browser (the lease), because the live browser cannot move.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import (
        CLOSE_BROWSER,
        EXTRACT_OUTPUT,
        LAUNCH_BROWSER,
        TAKE_STEP,
        VERIFY_COMPLETION,
        BrowserLease,
        CloseBrowserInput,
        CloseBrowserOutput,
        ExtractInput,
        ExtractOutput,
        LaunchBrowserInput,
        StepInput,
        VerifyInput,
        VerifyOutput,
        launch_queue,
    )
    from wayfinder.models import (
        RunStatus,
        StepRecord,
        TaskRunInput,
        TaskRunResponse,
    )

T = TypeVar("T")

HISTORY_LINES = 40
"""Earlier steps shown to the model; older ones are counted, not listed."""

LOOP_STEPS = 3
"""The same action on the same page this many times in a row is a loop worth pointing out."""

@workflow.defn(name="TaskRunWorkflow")
class TaskRunWorkflow:
    @workflow.init
    def __init__(self, run: TaskRunInput) -> None:
        request = run.request
        self._request = request
        self._steps: list[StepRecord] = []
        self._cancel_requested = False
        self._outcome: tuple[RunStatus, str | None] = (RunStatus.failed, "the run ended early")
        self._state = TaskRunResponse(
            run_id=workflow.info().workflow_id,
            status=RunStatus.queued,
            created_at=run.created_at,
            app_url=run.app_url,
            title=request.title,
            step_count=0,
        )

    @workflow.query(name="get_run")
    def get_run(self) -> TaskRunResponse:
        return self._state

    @workflow.query(name="get_steps")
    def get_steps(self, after: int = 0) -> list[StepRecord]:
        """Steps numbered above `after`: lets a client follow a run step by step."""
        return [step for step in self._steps if step.number > after]

    @workflow.signal(name="cancel")
    def cancel(self) -> None:
        """Stop at the next safe point (the step in flight is interrupted), close the browser."""
        self._cancel_requested = True

    @workflow.run
    async def run(self, run: TaskRunInput) -> TaskRunResponse:
        lease: BrowserLease | None = None
        try:
            lease = await self._launch()
            self._state.status = RunStatus.running
            await self._loop(lease)
        except asyncio.CancelledError:
            self._finish(RunStatus.canceled, "the run was canceled")
        except ActivityError as exc:
            self._finish(RunStatus.failed, _reason(exc))
        finally:
            if lease is not None:
                await self._close(lease)
        # The terminal status is published only now, with the browser closed: a client that
        # sees a final status can rely on everything being done.
        self._state.status, self._state.failure_reason = self._outcome
        self._state.finished_at = workflow.now()
        return self._state

    async def _launch(self) -> BrowserLease:
        request = self._request
        handle = workflow.start_activity(
            LAUNCH_BROWSER,
            LaunchBrowserInput(
                run_id=self._state.run_id,
                url=request.url,
                browser_address=request.browser_address,
                user_agent=request.user_agent,
                extra_http_headers=request.extra_http_headers,
            ),
            task_queue=launch_queue(workflow.info().task_queue),
            result_type=BrowserLease,
            **options.LAUNCH.kwargs(),
        )
        try:
            return await asyncio.shield(handle)
        except asyncio.CancelledError:
            # Canceled while launching: wait for the browser anyway, so that it gets closed.
            lease = await handle
            await self._close(lease)
            raise

    async def _loop(self, lease: BrowserLease) -> None:
        request = self._request
        feedback: list[str] = []
        while True:
            if self._cancel_requested:
                self._finish(RunStatus.canceled, "the run was canceled")
                return
            if request.max_steps is not None and len(self._steps) >= request.max_steps:
                self._finish(
                    RunStatus.timed_out,
                    f"max_steps ({request.max_steps}) reached before the task was completed",
                )
                return
            record = await self._on_host(
                lease,
                TAKE_STEP,
                StepInput(
                    lease=lease,
                    number=len(self._steps) + 1,
                    task=request.prompt,
                    history=self._history(),
                    feedback=feedback,
                    model=request.model,
                    error_codes=request.error_code_mapping,
                    extraction_follows=request.data_extraction_schema is not None,
                ),
                StepRecord,
            )
            if record is None:
                continue  # canceled mid-step: the top of the loop finishes the run
            self._record(record)
            feedback = self._loop_warning()
            action = record.action
            if action["type"] == "terminate":
                self._terminate(action)
                return
            if action["type"] != "complete":
                continue
            verdict = await self._on_host(
                lease,
                VERIFY_COMPLETION,
                VerifyInput(
                    lease=lease,
                    task=request.prompt,
                    output=action.get("output"),
                    summary=action.get("summary", ""),
                    history=(
                        self._history() if request.include_action_history_in_verification else None
                    ),
                    model=request.model,
                ),
                VerifyOutput,
            )
            if verdict is None:
                continue
            self._state.usage += verdict.usage
            if not verdict.verified:
                feedback = [
                    f"Your claim that the task is complete was not verified: {verdict.reason} "
                    "Keep working, or terminate if the task cannot be done."
                ]
                continue
            output = action.get("output")
            if request.data_extraction_schema is not None:
                extracted = await self._on_host(
                    lease,
                    EXTRACT_OUTPUT,
                    ExtractInput(
                        lease=lease,
                        task=request.prompt,
                        schema=request.data_extraction_schema,
                        model=request.model,
                    ),
                    ExtractOutput,
                )
                if extracted is None:
                    continue
                self._state.usage += extracted.usage
                output = extracted.data
            self._state.output = output
            self._finish(RunStatus.completed)
            return

    async def _on_host(
        self, lease: BrowserLease, activity: str, arg: Any, result_type: type[T]
    ) -> T | None:
        """Run a browser activity on the run's host; None if the run is canceled meanwhile."""
        return await self._unless_canceled(
            workflow.start_activity(
                activity,
                arg,
                task_queue=lease.host_queue,
                result_type=result_type,
                **options.HOST_STEP.kwargs(),
            )
        )

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

    def _record(self, record: StepRecord) -> None:
        self._steps.append(record)
        self._state.step_count = len(self._steps)
        self._state.usage += record.usage
        workflow.set_current_details(f"step {record.number}: {record.summary()}")

    def _loop_warning(self) -> list[str]:
        """Feedback when the last steps repeated one action on one page with nothing to show.

        A model stuck on a control that does not respond burns the whole step budget; telling
        it plainly is cheaper than any guess at what it should do instead.
        """
        recent = self._steps[-LOOP_STEPS:]
        if len(recent) < LOOP_STEPS:
            return []
        first = recent[0]
        if any(step.action != first.action or step.url != first.url for step in recent):
            return []
        return [
            f"You have done the same thing ({first.action_type} {first.element or ''}) "
            f"{LOOP_STEPS} times in a row on {first.url} and the page did not move on. Do "
            "something different, or terminate if the task cannot be done."
        ]

    def _history(self) -> list[str]:
        lines = [step.summary() for step in self._steps[-HISTORY_LINES:]]
        skipped = len(self._steps) - len(lines)
        return ([f"({skipped} earlier steps not shown)"] if skipped else []) + lines

    def _terminate(self, action: dict[str, Any]) -> None:
        reason = str(action.get("reason", "the agent gave up"))
        code = action.get("error_code")
        if code:
            described = (self._request.error_code_mapping or {}).get(code, "")
            self._state.output = {
                "error_code": code,
                "error_description": described,
                "reasoning": reason,
            }
            reason = f"{code}: {described} ({reason})"
        self._finish(RunStatus.terminated, reason)

    def _finish(self, status: RunStatus, reason: str | None = None) -> None:
        self._outcome = (status, reason)

    async def _close(self, lease: BrowserLease) -> None:
        try:
            closed = await workflow.execute_activity(
                CLOSE_BROWSER,
                CloseBrowserInput(
                    lease=lease, screenshot_scrolls=self._request.max_screenshot_scrolls or 0
                ),
                task_queue=lease.host_queue,
                result_type=CloseBrowserOutput,
                **options.CLOSE.kwargs(),
            )
        except ActivityError as exc:
            # The run's outcome stands; its browser went with its host.
            workflow.logger.warning("closing the browser failed: %s", _reason(exc))
            return
        self._state.screenshot_urls = closed.screenshot_urls or None
        self._state.downloaded_files = closed.downloaded_files or None


def _reason(error: ActivityError) -> str:
    """The innermost message of an activity failure, which is what a user can act on."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, TimeoutError):
        kind = cause.type.name.lower() if cause.type else "timeout"
        return f"{error.activity_type} timed out ({kind})"
    if isinstance(cause, ApplicationError):
        return f"{error.activity_type} failed: {cause.message}"
    return f"{error.activity_type} failed: {cause}"
