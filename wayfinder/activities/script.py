"""Published scripts on the worker: publishing a completed run, replaying a script's step
without the model, and extracting by the recorded plan."""

from __future__ import annotations

import time
from typing import Any

import jsonschema
from playwright.async_api import Error as PlaywrightError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wayfinder.actions import InputTextAction
from wayfinder.activities.errors import as_activity_errors
from wayfinder.activities.heartbeat import heartbeating
from wayfinder.activities.runtime import ActivityGroup
from wayfinder.activities.script_contracts import (
    EXTRACT_BY_PLAN,
    PUBLISH_SCRIPT,
    RUN_SCRIPT_STEP,
    BrokenAction,
    ExtractByPlanInput,
    ExtractByPlanOutput,
    PublishScriptInput,
    ScriptStepInput,
    ScriptStepResult,
)
from wayfinder.browser import replay
from wayfinder.browser.checkpoint import Checkpoint, capture
from wayfinder.browser.extraction_plan import extract, plan_extraction
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.published import prompt_template
from wayfinder.scripts.build import NotPublishableError, build_script
from wayfinder.scripts.model import Script, ScriptAction, rebased
from wayfinder.secrets import SecretBox, SecretKeyError
from wayfinder.settings import Settings


class ScriptActivities(ActivityGroup):
    @activity.defn(name=PUBLISH_SCRIPT)
    async def publish_script(self, request: PublishScriptInput) -> Script:
        """The run's script; with an extraction, where its data sits on the final page."""
        try:
            script = script_of(
                request.request, request.steps, self._rt.settings, output=request.output
            )
        except NotPublishableError as exc:
            raise ApplicationError(str(exc), type="NotPublishable", non_retryable=True) from exc
        except SecretKeyError as exc:
            raise ApplicationError(str(exc), type="SecretKeyError", non_retryable=True) from exc
        # What a rerun extracts (`rerun_schema`), as the script says: found once, by build_script.
        schema = script.data_extraction_schema
        if schema is None or request.output is None:
            return script
        with self._rt.browser_guard(request.lease.run_id):
            page = self._rt.host.get(request.lease.run_id).page
            plan = await plan_extraction(page, request.output, schema)
        return script.model_copy(update={"extraction": plan})

    @activity.defn(name=RUN_SCRIPT_STEP)
    async def run_script_step(self, request: ScriptStepInput) -> ScriptStepResult:
        """Replay `request.steps` in order, from action `start_action` of the first, until a
        step leaves the page it started on (then the browser is checkpointed), or an action
        no longer matches the page (its element, or what the page shows after it)."""
        run_id = request.lease.run_id
        values = request.values | self._decrypted(request.secrets)
        records: list[StepRecord] = []
        with as_activity_errors(0), self._rt.browser_guard(run_id):
            async with heartbeating() as heartbeat:
                run = self._rt.host.get(run_id)
                start_url = run.page.url
                # Recorded URLs on the recorded start's host go to the rerun's (`url`) instead.
                url = request.values["url"]
                moved = (request.recorded_url or url, url)
                start = request.start_action
                for done, step in enumerate(request.steps):
                    for index in range(start, len(step.actions)):
                        scripted = step.actions[index]
                        started = time.monotonic()
                        action = rebased(scripted.bound(values), *moved)
                        # The note reaches history if this host dies: never the typed value.
                        heartbeat.note(f"step {step.number}: {action.type}")
                        try:
                            run.page = await replay.perform(run.page, action, scripted.target)
                            if scripted.after is not None:
                                text = scripted.after.expected_text(values)
                                after = scripted.after.rebased(*moved)
                                await replay.check(run.page, after, text=text)
                        except replay.ReplayBroken as exc:
                            return ScriptStepResult(
                                records=records,
                                done=done,
                                checkpoint=await self._checkpoint(run_id, start_url),
                                broken=BrokenAction(
                                    index=index,
                                    locator=exc.broken.locator,
                                    reason=exc.broken.reason,
                                ),
                            )
                        number = request.first_number + len(records)
                        elapsed = int((time.monotonic() - started) * 1000)
                        records.append(
                            _record(number, scripted, request.values, moved, run.page.url, elapsed)
                        )
                    start = 0
                    if run.page.url != start_url:
                        break
                return ScriptStepResult(
                    records=records,
                    done=done + 1,
                    checkpoint=await self._checkpoint(run_id, start_url),
                )

    @activity.defn(name=EXTRACT_BY_PLAN)
    async def extract_by_plan(self, request: ExtractByPlanInput) -> ExtractByPlanOutput:
        with self._rt.browser_guard(request.lease.run_id):
            data = await extract(self._rt.host.get(request.lease.run_id).page, request.plan)
        try:
            jsonschema.validate(data, request.schema_)
        except jsonschema.ValidationError as exc:
            return ExtractByPlanOutput(valid=False, reason=exc.message)
        if data in (None, [], {}):
            return ExtractByPlanOutput(valid=False, reason="the plan found nothing on the page")
        return ExtractByPlanOutput(data=data, valid=True)

    def _decrypted(self, secrets: dict[str, str]) -> dict[str, str]:
        if not secrets:
            return {}
        try:
            box = SecretBox.from_settings(self._rt.settings)
            return {name: box.open(token, name) for name, token in secrets.items()}
        except SecretKeyError as exc:
            raise ApplicationError(str(exc), type="SecretKeyError", non_retryable=True) from exc

    async def _checkpoint(self, run_id: str, start_url: str) -> Checkpoint | None:
        """The browser's state once the step has left the page it started on; None while it
        stays there (the workflow then replays the page's steps after a rebuild)."""
        run = self._rt.host.get(run_id)
        if run.page.url == start_url:
            return None
        try:
            return await capture(run.context, run.page)
        except PlaywrightError as exc:
            activity.logger.warning("no checkpoint after this script step: %s", exc.message)
            return None


def script_of(
    request: TaskRunRequest, steps: list[StepRecord], settings: Settings, *, output: Any = None
) -> Script:
    """The run's script, its prompt stored with `{parameter}` placeholders where it spelled
    out a secret the run typed (a password in the prompt). Raises SecretKeyError when a
    sealed value cannot be opened with this process's key."""
    steps = opened(steps, settings)
    script = build_script(request, steps, output=output)
    typed = [
        step.action.text
        for step in steps
        if isinstance(step.action, InputTextAction) and step.target and step.target.secret
    ]
    names = [
        scripted.parameter
        for step in script.steps
        for scripted in step.actions
        if scripted.parameter and scripted.target and scripted.target.secret
    ]
    secrets = {name: value for name, value in zip(names, typed, strict=False) if value}
    return script.model_copy(update={"prompt": prompt_template(request.prompt, secrets)})


def opened(steps: list[StepRecord], settings: Settings) -> list[StepRecord]:
    """The steps with each sealed password back in its action, for `build_script` to make it
    a secret parameter and scrub it out of the prompt (the result holds it nowhere)."""
    if not any(step.sealed_text for step in steps):
        return steps
    box = SecretBox.from_settings(settings)
    return [
        step.model_copy(
            update={
                "action": step.action.model_copy(
                    update={
                        "text": box.open(step.sealed_text, f"the value typed in step {step.number}")
                    }
                ),
                "sealed_text": None,
            }
        )
        if step.sealed_text and isinstance(step.action, InputTextAction)
        else step
        for step in steps
    ]


def _record(
    number: int,
    scripted: ScriptAction,
    public: dict[str, str],
    moved: tuple[str, str],
    url: str,
    duration_ms: int,
) -> StepRecord:
    """The step-log entry of a replayed action: the recorded action as this rerun took it
    (rebased onto its host, with its values bound from the parameters that are not secret: a
    secret's stays blank, as in the script) and what its page check expected there."""
    target = scripted.target
    return StepRecord(
        number=number,
        action=rebased(scripted.bound(public), *moved),
        element=(target.description or replay.chain_of(target)) if target else None,
        url=url,
        target=target,
        after=scripted.after.rebased(*moved) if scripted.after else None,
        duration_ms=duration_ms,
    )
