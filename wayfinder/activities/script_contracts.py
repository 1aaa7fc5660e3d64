"""Names and payloads of the published-script activities (publishing a run, replaying a step,
extracting by plan): the boundary between the script workflows and the worker. Pydantic only,
safe to import in workflow code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wayfinder.activities.contracts import BrowserLease, Checkpoint
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.model import ExtractionPlan, Script, ScriptStep

PUBLISH_SCRIPT = "publish_script"
RUN_SCRIPT_STEP = "run_script_step"
EXTRACT_BY_PLAN = "extract_by_plan"


class PublishScriptInput(BaseModel):
    """A completed run to turn into a script, while its browser still shows the final page
    (where the extracted data can be found again)."""

    lease: BrowserLease
    request: TaskRunRequest
    steps: list[StepRecord]
    output: Any = None


class ScriptStepInput(BaseModel):
    """The steps still to replay: the activity runs them until one leaves its page."""

    lease: BrowserLease
    run_id: str
    steps: list[ScriptStep] = Field(min_length=1)
    start_action: int = 0
    """Index of the first action to run in the first step (after the agent repaired one)."""
    first_number: int
    """Step-log number of the first action run."""
    values: dict[str, str]
    """Every parameter that is not secret, `url` included."""
    recorded_url: str | None = None
    """The start URL the script was recorded from (`Script.url`): a recorded URL on its host is
    rebased onto `values["url"]` (`wayfinder.scripts.model.rebase_url`). None from a workflow
    that scheduled this before the field existed: recorded URLs are then used as they are."""
    secrets: dict[str, str] = Field(default_factory=dict)
    """Secret parameters, encrypted (`wayfinder.secrets`): decrypted only inside the activity."""


class BrokenAction(BaseModel):
    """The action that could not be replayed (in step `done` of the input), and why."""

    index: int
    locator: str
    """The recorded locator chain (or the page check) that no longer holds."""
    reason: str


class ScriptStepResult(BaseModel):
    records: list[StepRecord]
    """One per action run (up to the broken one, excluded)."""
    done: int
    """Steps of the input replayed whole."""
    checkpoint: Checkpoint | None = None
    broken: BrokenAction | None = None


class ExtractByPlanInput(BaseModel):
    lease: BrowserLease
    plan: ExtractionPlan
    schema_: dict[str, Any] = Field(alias="schema")

    model_config = {"populate_by_name": True}


class ExtractByPlanOutput(BaseModel):
    data: Any = None
    valid: bool
    reason: str | None = None
    """Why the plan's data cannot be used (it does not validate against the schema)."""


__all__ = [
    "EXTRACT_BY_PLAN",
    "PUBLISH_SCRIPT",
    "RUN_SCRIPT_STEP",
    "BrokenAction",
    "ExtractByPlanInput",
    "ExtractByPlanOutput",
    "PublishScriptInput",
    "Script",
    "ScriptStepInput",
    "ScriptStepResult",
]
