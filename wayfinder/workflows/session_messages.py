"""What a browser session and the runs in it tell each other (Temporal signals, both ways).

A workflow cannot send another workflow an update, only a signal, so the exchange is:

    run -> session   acquire(run_id)                      wait for your turn
    session -> run   granted(lease, checkpoint)           your turn: the browser is here
    run -> session   rebuild(run_id, lost generation, checkpoint)
    session -> run   granted(new lease)                   the rebuilt browser is here
    run -> session   release(run_id, checkpoint)          done (or no longer waiting)
    session -> run   granted(error=...)                   the session closed: no browser

Every payload names the run, so a signal that arrives twice or late changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from wayfinder.activities.contracts import BrowserLease, Checkpoint

ACQUIRE = "acquire"
RELEASE = "release"
REBUILD = "rebuild"
CLOSE = "close"
GRANTED = "session_granted"
"""The signal of `TaskRunWorkflow` through which its session answers."""
GET_SESSION = "get_session"

SESSION_WORKFLOW = "BrowserSessionWorkflow"


class BrowserSessionInput(BaseModel):
    """The input of `BrowserSessionWorkflow`.

    `timeout` is a `timedelta`, not minutes: `Client.create_browser_session` accepts 5 to 240
    minutes, but a team (or a test) starting the workflow itself may give any duration.
    """

    timeout: timedelta
    created_at: datetime


class SessionAcquire(BaseModel):
    run_id: str


class SessionRelease(BaseModel):
    run_id: str
    checkpoint: Checkpoint | None = None
    """The browser's state after the run's last step: what a later rebuild restores."""


class SessionRebuild(BaseModel):
    run_id: str
    lost_generation: str
    """The browser the run lost: a session that already replaced it just grants the new one."""
    checkpoint: Checkpoint | None = None
    host_lost: bool = True
    """The worker stopped answering (rebuild anywhere), rather than Chromium dying under it."""


class SessionGrant(BaseModel):
    lease: BrowserLease | None = None
    checkpoint: Checkpoint | None = None
    error: str | None = None
    """Why there is no browser for the run (the session closed or failed)."""
