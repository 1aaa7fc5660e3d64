"""Heartbeats for long activities: how cancellation and a dead host are noticed in time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

HEARTBEAT_INTERVAL = 2.0


@contextlib.asynccontextmanager
async def heartbeating(interval: float = HEARTBEAT_INTERVAL) -> AsyncIterator[None]:
    """Heartbeat every `interval` seconds while the body runs (a model call can take a minute)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
