"""Heartbeats for long activities: how cancellation and a dead host are noticed in time.

A heartbeat can carry a note of what the activity is doing (`Heartbeat.note`). Temporal keeps
the last one with the activity: if the worker dies, the workflow reads it from the timeout
failure, and a retried attempt from `activity.info().heartbeat_details`, so that "the action
may or may not have happened" can name the action.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

HEARTBEAT_INTERVAL = 2.0


class Heartbeat:
    def __init__(self) -> None:
        self.details: str | None = None

    def note(self, details: str) -> None:
        """Say what the activity is about to do; sent at once and with every beat after."""
        self.details = details
        self.beat()

    def beat(self) -> None:
        if self.details is None:
            activity.heartbeat()
        else:
            activity.heartbeat(self.details)


def previous_note() -> str | None:
    """The note the previous attempt of this activity last sent, if any."""
    details = activity.info().heartbeat_details
    return str(details[0]) if details else None


@contextlib.asynccontextmanager
async def heartbeating(interval: float = HEARTBEAT_INTERVAL) -> AsyncIterator[Heartbeat]:
    """Heartbeat every `interval` seconds while the body runs (a model call can take a minute)."""
    heartbeat = Heartbeat()

    async def beat() -> None:
        while True:
            heartbeat.beat()
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield heartbeat
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
