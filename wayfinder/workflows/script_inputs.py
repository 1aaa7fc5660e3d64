"""The input of `ScriptRunWorkflow` (a code rerun of a published workflow)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from wayfinder.browser_options import BrowserOptions
from wayfinder.scripts.model import Script


class ScriptRunInput(BaseModel):
    """The input of `ScriptRunWorkflow`: which revision to run, with which values."""

    workflow_id: str
    """The published workflow (`wpid_...`)."""
    revision_id: str
    script: Script
    values: dict[str, str]
    """Every parameter that is not secret, `url` included (defaults filled in)."""
    secrets: dict[str, str] = Field(default_factory=dict)
    """Secret parameters, encrypted with the deployment's key (`wayfinder.secrets`)."""
    ai_fallback: bool = True
    title: str | None = None
    created_at: datetime
    app_url: str | None = None
    browser: BrowserOptions = Field(default_factory=BrowserOptions)
    """How to open the browser: the published workflow's options with the rerun's overrides
    (proxy sealed or a name, as in a task run's history)."""
