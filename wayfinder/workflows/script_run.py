"""ScriptRunWorkflow: a code rerun (`wr_...`) of a published workflow's script.

It opens a browser as a task run does (`RunBrowser`), replays the script step by step on the
browser's host (`run_script_step`, no model), and when a step no longer matches the page and
`ai_fallback` is on, hands that one action to the agent (`take_step`), keeps the element the
agent used, and goes on in code; the repairs become a new revision of the published workflow.
It answers the same queries as a task run (`get_run`, `get_steps`), so `Client.get_run` reads
it, and it survives the loss of its browser the same way: rebuilt from the checkpoint of the
last step, the interrupted step is replayed.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import (
        EXTRACT_OUTPUT,
        TAKE_STEP,
        Checkpoint,
        ExtractInput,
        ExtractOutput,
        StepInput,
        StepResult,
    )
    from wayfinder.activities.script_contracts import (
        EXTRACT_BY_PLAN,
        RUN_SCRIPT_STEP,
        ExtractByPlanInput,
        ExtractByPlanOutput,
        ScriptStepInput,
        ScriptStepResult,
    )
    from wayfinder.feedback import Feedback, Healing
    from wayfinder.models import RunStatus, ScriptRunResponse, StepRecord, TaskRunResponse
    from wayfinder.scripts.model import ScriptStep
    from wayfinder.workflows import healing, outcome, step_log
    from wayfinder.workflows.artifact_links import add_artifacts
    from wayfinder.workflows.failures import LostBrowser, failure_reason
    from wayfinder.workflows.host_calls import OnHost, on_host
    from wayfinder.workflows.published_state import ADD_REVISION, StoredRevision
    from wayfinder.workflows.recovery import rebuild_browser
    from wayfinder.workflows.run_browser import own_browser
    from wayfinder.workflows.run_queries import RunQueries
    from wayfinder.workflows.script_inputs import ScriptRunInput

T = TypeVar("T")


class _StepBroken(Exception):
    """A step cannot be replayed and the agent may not (or could not) repair it."""


@workflow.defn(name="ScriptRunWorkflow")
class ScriptRunWorkflow(RunQueries):
    @workflow.init
    def __init__(self, run: ScriptRunInput) -> None:
        self._input = run
        self._script = run.script.model_copy(deep=True)
        self._steps: list[StepRecord] = []
        self._outcome: tuple[RunStatus, str | None] = (RunStatus.failed, "the run ended early")
        run_id = workflow.info().workflow_id
        self._browser = own_browser(run_id, run.values["url"], run.browser)
        self._state = TaskRunResponse(
            run_id=run_id,
            status=RunStatus.queued,
            created_at=run.created_at,
            app_url=run.app_url,
            title=run.title,
            step_count=0,
            workflow_id=run.workflow_id,
            script_run=ScriptRunResponse(
                script_id=run.workflow_id, script_revision_id=run.revision_id
            ),
        )
        self._recovered_from: str | None = None
        self._resume_at = 0
        """The step a rebuilt browser's replay starts at: the one after the last checkpoint."""

    @property
    def _script_run(self) -> ScriptRunResponse:
        assert self._state.script_run is not None
        return self._state.script_run

    @workflow.run
    async def run(self, run: ScriptRunInput) -> TaskRunResponse:
        try:
            await self._browser.launch()
            self._state.status = RunStatus.running
            outcome.publish_status(RunStatus.running)
            await self._replay()
            self._state.output = await self._extract()
            await self._save_repairs()
            self._outcome = (RunStatus.completed, None)
        except _StepBroken as exc:
            self._outcome = (RunStatus.failed, str(exc))
        except asyncio.CancelledError:
            self._outcome = (RunStatus.canceled, "the run was canceled")
        except ActivityError as exc:
            self._outcome = (RunStatus.failed, failure_reason(exc))
        except ApplicationError as exc:
            self._outcome = (RunStatus.failed, exc.message)
        await self._browser.close()
        add_artifacts(self._state, self._browser)
        self._state.status, self._state.failure_reason = self._outcome
        self._state.finished_at = workflow.now()
        return outcome.end_run(self._state)

    async def _replay(self) -> None:
        """Replay the script a page at a time; an action that breaks is repaired by the agent
        (or ends the run). A lost browser is rebuilt from the last checkpoint, and the replay
        goes back to the step after it: the first step on the page it was on."""
        steps = self._script.steps
        index, start = 0, 0
        while index < len(steps):
            result = await self._on_host(
                RUN_SCRIPT_STEP,
                ScriptStepInput(
                    lease=self._browser.leased,
                    run_id=self._state.run_id,
                    steps=steps[index:],
                    start_action=start,
                    first_number=len(self._steps) + 1,
                    values=self._input.values,
                    recorded_url=self._script.url,
                    secrets=self._input.secrets,
                ),
                ScriptStepResult,
            )
            if result is None:
                index, start = self._resume_at, 0
                continue
            for record in result.records:
                step_log.record(self._state, self._steps, record)
            broken = result.broken
            self._checkpointed(result.checkpoint, index + result.done)
            index, start = index + result.done, 0
            if broken is None:
                continue
            step = steps[index]
            where = (
                f"step {step.number} ({step.intent}), action {broken.index + 1} "
                f"({step.actions[broken.index].action.type}): {broken.locator}: {broken.reason}"
            )
            if not self._input.ai_fallback:
                raise _StepBroken(
                    f"{where}. Rerun with ai_fallback=True to let the agent repair the step."
                )
            healed = await self._heal(step, index, broken.index, where)
            if healed is None:
                index = self._resume_at
            elif healed < len(step.actions):
                start = healed
            else:
                index += 1

    def _checkpointed(self, checkpoint: Checkpoint | None, resume_at: int) -> None:
        """A rebuilt browser restores `checkpoint`; the replay then goes on at `resume_at`.

        Steps checkpoint only when they leave a page: the fields typed on a page since are
        typed again after a rebuild, so a step of typing costs no capture."""
        if checkpoint is not None:
            self._browser.checkpoint = checkpoint
            self._resume_at = resume_at

    async def _heal(self, step: ScriptStep, step_index: int, index: int, where: str) -> int | None:
        """Let the agent take action `index` of `step`; returns where the replay goes on in
        the step (None if the browser was lost meanwhile)."""
        scripted = step.actions[index]
        self._script_run.ai_fallback_triggered = True
        workflow.logger.info("healing %s", where)
        result = await self._on_host(
            TAKE_STEP,
            StepInput(
                lease=self._browser.leased,
                number=len(self._steps) + 1,
                run_id=self._state.run_id,
                task=healing.instruction(scripted, self._input.values, self._script.url),
                feedback=Feedback(healing=Healing(intent=step.intent, broken=where)),
                recovered_from=self._recovered_from,
                max_actions=1,  # the one action that broke, no more
            ),
            StepResult,
        )
        if result is None:
            return None
        self._recovered_from = None
        record = result.records[0]
        step_log.record(self._state, self._steps, record)
        self._checkpointed(result.checkpoint, step_index)
        # An action on an element is repaired by one on an element; a goto by a goto.
        if record.error or (record.target is None and scripted.target is not None):
            raise _StepBroken(
                f"{where}; the agent could not repair it: "
                f"{record.error or f'it answered {record.action_type} instead of acting'}"
            )
        step.actions[index] = healing.repaired(
            scripted, record, self._input.values, self._script.url
        )
        if step.number not in self._script_run.healed_steps:
            self._script_run.healed_steps.append(step.number)
        # A value the agent typed (a stand-in for a secret) is typed again by the script.
        return index if healing.types_a_value(scripted) else index + 1

    async def _extract(self) -> object:
        script = self._script
        schema = script.data_extraction_schema
        if schema is None:
            return None
        if script.extraction is not None:
            by_plan = await self._on_host(
                EXTRACT_BY_PLAN,
                ExtractByPlanInput(
                    lease=self._browser.leased, plan=script.extraction, schema=schema
                ),
                ExtractByPlanOutput,
            )
            if by_plan is not None and by_plan.valid:
                return by_plan.data
            workflow.logger.info(
                "extraction plan unusable (%s): one model call", by_plan and by_plan.reason
            )
        self._script_run.extraction_by_model = True
        extracted = None
        while extracted is None:
            extracted = await self._on_host(
                EXTRACT_OUTPUT,
                ExtractInput(lease=self._browser.leased, task=script.prompt, schema=schema),
                ExtractOutput,
            )
        self._state.usage += extracted.usage
        return extracted.data

    async def _save_repairs(self) -> None:
        """Send the repaired script to the published workflow as its new revision."""
        healed = self._script_run.healed_steps
        if not healed:
            return
        revision_id = f"rev_{str(workflow.uuid4()).replace('-', '')[:16]}"
        steps = ", ".join(str(n) for n in healed)
        await workflow.get_external_workflow_handle(self._input.workflow_id).signal(
            ADD_REVISION,
            StoredRevision(
                revision_id=revision_id,
                created_at=workflow.now(),
                reason=f"repaired step{'s' if len(healed) > 1 else ''} {steps} "
                f"in {self._state.run_id}",
                run_id=self._state.run_id,
                script=self._script,
            ),
        )
        self._script_run.new_revision_id = revision_id

    async def _on_host(self, activity: str, arg: OnHost, result_type: type[T]) -> T | None:
        """A host activity of the run's browser; None when the browser was lost and rebuilt."""
        kind = options.HOST_STEP if activity in (TAKE_STEP, EXTRACT_OUTPUT) else options.SCRIPT_STEP
        return await on_host(activity, arg, result_type, kind, recover=self._recover)

    async def _recover(self, lost: LostBrowser) -> None:
        """Rebuild the browser from the last checkpoint; the replay goes back to the step
        after it (`_resume_at`)."""
        fallback_url = self._input.values["url"]
        await rebuild_browser(
            self._browser, self._state, self._steps, lost, fallback_url=fallback_url
        )
        self._recovered_from = lost.reason
