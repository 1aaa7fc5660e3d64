"""`BrowserSessionResponse`: the state of a browser session, as the client's session calls
return it, and its `BrowserSessionStatus`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class BrowserSessionStatus(StrEnum):
    """Where a browser session is in its life. The last three are final."""

    created = "created"
    """Its browser is being launched."""
    running = "running"
    """Its browser is open: runs given its id run in it, one at a time."""
    closed = "closed"
    timed_out = "timed_out"
    failed = "failed"
    """Its browser could not be launched or rebuilt."""

    @property
    def is_final(self) -> bool:
        return self in (
            BrowserSessionStatus.closed,
            BrowserSessionStatus.timed_out,
            BrowserSessionStatus.failed,
        )


class BrowserSessionResponse(BaseModel):
    """The state of a browser session, as `create_browser_session` and friends return it."""

    browser_session_id: str
    status: BrowserSessionStatus
    timeout: float
    """Minutes from the session's start until it closes by itself."""
    created_at: datetime
    started_at: datetime | None = None
    """When its browser was open."""
    closed_at: datetime | None = None
    runs: list[str] = Field(default_factory=list)
    """Ids of the runs given this session, in the order they asked for its browser."""
    current_run_id: str | None = None
    """The run using the browser now; the others in `runs` have finished or wait their turn."""
    rebuilds: int = 0
    """Times the browser was lost (its worker or Chromium died) and rebuilt from a checkpoint."""
    failure_reason: str | None = None
