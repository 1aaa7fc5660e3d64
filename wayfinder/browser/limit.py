"""ContextLimit: at most N browser contexts live on one host, counting launches on their way.

`WAYFINDER_MAX_CONCURRENT_RUNS` is a limit on live contexts per process, held from a run's
launch to its close. A launch has to be sure of its room *before* it is taken from Temporal's
queue (else it would have to fail, or wait while holding a task another worker could run), so
room is reserved first: the launch worker's slot supplier awaits `reserve()` before each poll.
The reservation becomes the run's context when it opens (`opened(..., reserved=True)`), and
the launch gives its reservation back when it is over (`launch_done`, then `release`).

    in use = live contexts + reservations - contexts still covered by their launch's reservation

so a context is counted once, whether as a reservation or as a live context. Everything runs on
the event loop; nothing here knows Temporal.
"""

from __future__ import annotations

import asyncio


class ContextLimit:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the context limit must be at least 1, got {limit}")
        self.limit = limit
        self._live: set[str] = set()
        self._reserved = 0
        self._covered: set[str] = set()
        """Live runs whose context a launch opened under a reservation it still holds."""
        self._room = asyncio.Event()
        self.peak = 0
        """The most contexts live at once so far."""

    @property
    def live(self) -> int:
        return len(self._live)

    @property
    def in_use(self) -> int:
        return len(self._live) + self._reserved - len(self._covered)

    async def reserve(self) -> None:
        """Wait until one more context fits, and hold that room."""
        while self.in_use >= self.limit:
            self._room.clear()
            await self._room.wait()
        self._reserved += 1

    def release(self) -> None:
        """Give back a reservation (its launch is over, or it was never used)."""
        if self._reserved == 0:
            raise RuntimeError("ContextLimit.release without a reservation")
        self._reserved -= 1
        self._room.set()

    def hand_over(self, run_id: str) -> None:
        """`run_id`'s dead context is being replaced: its place becomes a reservation at once,
        so that no launch takes it meanwhile. Release it once the new context is open."""
        self._reserved += 1
        self.closed(run_id)

    def opened(self, run_id: str, *, reserved: bool) -> None:
        """`run_id` has a live context; `reserved`: under a reservation its launch still holds."""
        self._live.add(run_id)
        if reserved:
            self._covered.add(run_id)
        self.peak = max(self.peak, len(self._live))

    def launch_done(self, run_id: str) -> None:
        """The launch that opened `run_id` is over; call just before it releases."""
        self._covered.discard(run_id)

    def closed(self, run_id: str) -> None:
        self._live.discard(run_id)
        self._covered.discard(run_id)
        self._room.set()
