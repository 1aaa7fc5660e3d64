"""Published workflows as callers see them: `get_workflow`, `list_workflows`, `run_workflow`.

A published workflow (`wpid_...`) is a completed run turned into a script (see
`wayfinder.scripts`) with its revisions; a rerun of it (`wr_...`) answers with every field of a
task run plus `script_run`. The store itself is `wayfinder.workflows.published`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from string import Formatter

from pydantic import BaseModel, ConfigDict, Field

from wayfinder.browser_options import BrowserOptions
from wayfinder.errors import WayfinderError

PUBLISHED_ID_PREFIX = "wpid_"
RERUN_ID_PREFIX = "wr_"


class PublishedWorkflowNotFoundError(WayfinderError, LookupError):
    """No published workflow has this id in the namespace."""


class WorkflowParameterError(WayfinderError, ValueError):
    """`run_workflow` was given an unknown parameter, or not given a required (secret) one."""


class RunWith(StrEnum):
    code = "code"
    """Run the published script's steps with Playwright: no model unless a step must heal."""
    agent = "agent"
    """Run the original task with the agent, as a task run would."""


class WorkflowParameter(BaseModel):
    """A value the workflow takes: `url`, or a value the publishing run typed or chose."""

    name: str
    default: str | None = None
    """The publishing run's value; never set for a secret."""
    secret: bool = False
    description: str | None = None


class WorkflowRevision(BaseModel):
    """One version of the workflow's script: the first is the publishing run's."""

    revision_id: str
    created_at: datetime
    reason: str
    """Why it exists: "published from tsk_...", or the step a rerun repaired."""
    run_id: str | None = None
    """The run that produced it (the publishing run, or the rerun that healed a step)."""


class PublishedWorkflow(BaseModel):
    """`get_workflow`: the workflow, its current code and parameters, and its revisions."""

    workflow_id: str
    title: str | None = None
    prompt: str
    url: str
    source_run_id: str | None = None
    created_at: datetime
    code: str
    """The current revision as a standalone Playwright Python script."""
    parameters: list[WorkflowParameter]
    revisions: list[WorkflowRevision]
    """Oldest first; the last one is what reruns run."""
    browser_options: BrowserOptions = Field(default_factory=BrowserOptions)
    """The publishing run's browser options, which reruns use unless they override them (a
    proxy URL's credentials only sealed)."""

    @property
    def revision_id(self) -> str:
        return self.revisions[-1].revision_id


class WorkflowSummary(BaseModel):
    """One published workflow as `list_workflows` returns it (from visibility, no worker)."""

    workflow_id: str
    title: str | None = None
    prompt: str | None = None
    url: str | None = None
    created_at: datetime


class WorkflowRunRequest(BaseModel):
    """The parameters of `run_workflow`, validated before anything starts."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: str = Field(pattern=r"^wpid_\w+$")
    parameters: dict[str, str] = Field(default_factory=dict)
    run_with: RunWith = RunWith.code
    ai_fallback: bool = True
    wait_for_completion: bool = False
    timeout: float = Field(default=1800, gt=0)
    title: str | None = Field(default=None, max_length=400)


def published_id(run_id: str) -> str:
    """The published workflow of a task run: `tsk_X` publishes as `wpid_X` (publishing twice
    finds the first)."""
    return PUBLISHED_ID_PREFIX + run_id.split("_", 1)[-1]


def prompt_template(prompt: str, secrets: dict[str, str]) -> str:
    """The prompt as stored with a published workflow: each secret value the run typed (a
    password written in the prompt) replaced by its `{parameter}` placeholder, braces doubled."""
    template = prompt.replace("{", "{{").replace("}", "}}")
    for name, value in sorted(secrets.items(), key=lambda item: -len(item[1])):
        if value:
            template = template.replace(value.replace("{", "{{").replace("}", "}}"), f"{{{name}}}")
    return template


def match_prompt(template: str, prompt: str) -> dict[str, str] | None:
    """The secret values `prompt` holds where `template` has placeholders, or None if the
    prompt is not this template (run_task(run_with="code") reuses a workflow only then)."""
    pattern, names = "", list[str]()
    for literal, name, _, _ in Formatter().parse(template):
        pattern += re.escape(literal)
        if name:
            if name in names:
                pattern += f"(?P=p{names.index(name)})"
            else:
                pattern += f"(?P<p{len(names)}>.+?)"
                names.append(name)
    found = re.fullmatch(pattern, prompt, flags=re.DOTALL)
    if found is None:
        return None
    return {name: found.group(f"p{index}") for index, name in enumerate(names)}
