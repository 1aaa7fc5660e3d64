"""What a published workflow entity holds: its revisions (each a whole script) and what
visibility shows of it. Pydantic only: imported by the entity, the reruns and the client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from wayfinder.browser_options import BrowserOptions
from wayfinder.scripts.model import Script

WORKFLOW_TYPE = "PublishedWorkflow"
GET = "get"
ADD_REVISION = "add_revision"
MEMO = "wayfinder_published"
"""Memo key of what `list_workflows` shows (title, prompt, url): visibility, no worker."""


class StoredRevision(BaseModel):
    revision_id: str
    created_at: datetime
    reason: str
    run_id: str | None = None
    script: Script


class PublishedState(BaseModel):
    """The input of the entity, and what its `get` query answers."""

    workflow_id: str
    title: str | None = None
    source_run_id: str | None = None
    created_at: datetime
    revisions: list[StoredRevision] = Field(min_length=1)
    browser: BrowserOptions = Field(default_factory=BrowserOptions)
    """The publishing run's browser options (proxy sealed), what reruns open their browser
    with unless they override them (`wayfinder.browser_options`)."""

    @property
    def current(self) -> StoredRevision:
        return self.revisions[-1]


class ListingMemo(BaseModel):
    title: str | None = None
    prompt: str
    url: str


def first_revision_id(workflow_id: str) -> str:
    return f"rev_{workflow_id.removeprefix('wpid_')[-12:].lower()}_1"


def published_from(
    workflow_id: str,
    run_id: str,
    title: str | None,
    script: Script,
    now: datetime,
    browser: BrowserOptions,
) -> PublishedState:
    """A published workflow as it starts: one revision, the script of run `run_id`, and the
    browser options that run kept."""
    return PublishedState(
        workflow_id=workflow_id,
        title=title,
        source_run_id=run_id,
        created_at=now,
        revisions=[
            StoredRevision(
                revision_id=first_revision_id(workflow_id),
                created_at=now,
                reason=f"published from {run_id}",
                run_id=run_id,
                script=script,
            )
        ],
        browser=browser,
    )


def listing_memo(title: str | None, script: Script) -> dict[str, Any]:
    """The memo of a published workflow's entity: what `list_workflows` shows of it."""
    return {MEMO: ListingMemo(title=title, prompt=script.prompt, url=script.url)}
