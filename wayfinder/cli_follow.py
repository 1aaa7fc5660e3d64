"""Following a run from the command line: its steps as they happen, and Ctrl-C.

`wayfinder run` prints each step as the run takes it, warns when no worker would run it, and
turns Ctrl-C into a cancel (a second Ctrl-C leaves at once and says how to follow the run).
"""

from __future__ import annotations

import asyncio
import sys

from temporalio.service import RPCError

from wayfinder.client import Client
from wayfinder.embedded import has_live_worker, host_alive, host_log
from wayfinder.models import RunStatus, StepRecord, TaskRunResponse
from wayfinder.settings import Settings

POLL_INTERVAL = 0.5
NO_WORKER_GRACE = 5.0
"""A run still queued after this long makes the CLI check that some worker is polling."""


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def print_step(step: StepRecord) -> None:
    action = step.action_type
    target = f"  {step.element}" if step.element else ""
    error = f"  FAILED: {step.error}" if step.error else ""
    print(f"step {step.number:>3}  {action:<14}{target}  {step.url}{error}", flush=True)


async def has_worker(client: Client) -> bool:
    return await has_live_worker(client.temporal, client.task_queue)


def no_worker_message(client: Client, run_id: str) -> str:
    return (
        f"no worker polls task queue {client.task_queue!r}: run {run_id} waits until one "
        "does (start `wayfinder worker` where the browser should run)"
    )


class Follower:
    """Prints a run's steps as they happen, until it ends, checking that something runs it."""

    def __init__(self, client: Client, run_id: str, settings: Settings) -> None:
        self.client = client
        self.run_id = run_id
        self.settings = settings
        self.seen = 0
        self.warned = False

    async def follow(self) -> TaskRunResponse:
        loop = asyncio.get_running_loop()
        queued_since = loop.time()
        # At once: without a worker every poll below waits for a query that nobody answers.
        await self._warn_without_worker()
        while True:
            self._check_host()
            try:
                response = await self.client.get_run(self.run_id)
                await self._print_new_steps()
            except RPCError as exc:
                self._check_host()
                raise CliError(f"lost Temporal while following {self.run_id}: {exc}") from None
            if response.status.is_final:
                if response.step_count and self.seen < response.step_count:
                    print(f"({response.step_count - self.seen} more steps)", flush=True)
                return response
            if response.status != RunStatus.queued:
                queued_since = loop.time()
            elif loop.time() - queued_since > NO_WORKER_GRACE:
                await self._warn_without_worker()  # the worker may have gone since
            await asyncio.sleep(POLL_INTERVAL)

    async def _warn_without_worker(self) -> None:
        if self.warned or await has_worker(self.client):
            return
        print(
            f"wayfinder: {no_worker_message(self.client, self.run_id)}",
            file=sys.stderr,
            flush=True,
        )
        self.warned = True

    async def _print_new_steps(self) -> None:
        try:
            # Bounded: a run that has ended answers queries only while some worker is up.
            steps = await self.client.get_run_steps(
                self.run_id, after=self.seen, request_options={"timeout_in_seconds": 5}
            )
        except RPCError:
            return
        for step in steps:
            print_step(step)
            self.seen = step.number

    def _check_host(self) -> None:
        """In embedded mode, a run whose host has died would wait: say so instead."""
        home = self.settings.home
        if self.settings.temporal_address is None and not host_alive(home):
            raise CliError(
                f"the embedded server and worker stopped while run {self.run_id} was open "
                f"(see {host_log(home)}); `wayfinder get {self.run_id}` starts them again"
            )


class Interrupts:
    """Ctrl-C once cancels the run and waits for its end; twice leaves at once.

    Installed before the run starts, so that a Ctrl-C while it is being started cancels it as
    soon as it exists instead of leaving it behind.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.run_id: str | None = None
        self.following: asyncio.Task[TaskRunResponse] | None = None
        self.count = 0
        self.cancel: asyncio.Task[None] | None = None

    def started(self, run_id: str, following: asyncio.Task[TaskRunResponse]) -> None:
        self.run_id, self.following = run_id, following
        if self.count:
            self._cancel(run_id)

    def __call__(self) -> None:
        self.count += 1
        if self.run_id is None:
            return  # not started yet: canceled as soon as it is
        if self.cancel is None:
            self._cancel(self.run_id)
            return
        print(
            f"\nwayfinder: left run {self.run_id} while it is being canceled; follow it with "
            f"`wayfinder get {self.run_id}`, cancel it with `wayfinder cancel {self.run_id}`",
            file=sys.stderr,
            flush=True,
        )
        assert self.following is not None
        self.following.cancel()

    def _cancel(self, run_id: str) -> None:
        print(
            f"\nwayfinder: canceling run {run_id} (Ctrl-C again to leave at once)",
            file=sys.stderr,
            flush=True,
        )
        self.cancel = asyncio.create_task(self.client.cancel_run(run_id))

    @property
    def left(self) -> bool:
        return self.following is not None and self.following.cancelled()
