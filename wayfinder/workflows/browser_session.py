"""BrowserSessionWorkflow: one browser kept open for several runs, one run at a time.

A session (workflow id `pbs_...`) launches a browser at its start and owns it until it is
closed or its timeout passes; then it closes the browser and ends Completed. Runs given its id
take turns: each asks for the browser, gets its lease (its host queue), works in it, and gives
it back with its last checkpoint; the next run finds the same cookies and tabs. The browser's
id on its host is the session id, so its lifecycle (a `RunBrowser`) is the session's alone.

Between runs nothing would touch the host, so the session holds the browser with a heartbeating
`hold_browser` activity there: when the host dies (the heartbeat stops) or Chromium does (it
fails), the session rebuilds the browser from its latest checkpoint on a live worker. A run
that loses the browser mid-step asks the session to rebuild it (see `session_messages`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from wayfinder.activities import options
    from wayfinder.activities.contracts import (
        HOLD_BROWSER,
        RUN_IS_OPEN,
        HoldBrowserInput,
        LaunchBrowserInput,
        RunIsOpenInput,
    )
    from wayfinder.models import BrowserSessionResponse, BrowserSessionStatus
    from wayfinder.search_attributes import STATUS
    from wayfinder.workflows.failures import Loss, browser_loss, failure_reason
    from wayfinder.workflows.run_browser import RunBrowser
    from wayfinder.workflows.session_messages import (
        ACQUIRE,
        CLOSE,
        GET_SESSION,
        GRANTED,
        REBUILD,
        RELEASE,
        SESSION_WORKFLOW,
        BrowserSessionInput,
        SessionAcquire,
        SessionGrant,
        SessionRebuild,
        SessionRelease,
    )

MAX_REBUILDS = 10
"""Browsers a session may lose before it gives up: one that dies every time is not coming back."""

SESSION_FAILED = "BrowserSessionFailed"

HOLDER_CHECK = timedelta(seconds=10)
"""How often a session with runs waiting checks that the run holding its browser still runs: a
run terminated by an operator never gives the browser back."""


@workflow.defn(name=SESSION_WORKFLOW)
class BrowserSessionWorkflow:
    @workflow.init
    def __init__(self, session: BrowserSessionInput) -> None:
        session_id = workflow.info().workflow_id
        self._browser = RunBrowser(LaunchBrowserInput(run_id=session_id))
        self._state = BrowserSessionResponse(
            browser_session_id=session_id,
            status=BrowserSessionStatus.created,
            timeout=session.timeout.total_seconds() / 60,
            created_at=session.created_at,
        )
        self._waiting: list[str] = []
        """Runs waiting for the browser, first come first served."""
        self._rebuilds: list[SessionRebuild] = []
        self._close_requested = False
        self._changed = False
        self._hold: workflow.ActivityHandle[None] | None = None

    @workflow.query(name=GET_SESSION)
    def get_session(self) -> BrowserSessionResponse:
        return self._state

    @workflow.signal(name=ACQUIRE)
    def acquire(self, request: SessionAcquire) -> None:
        if request.run_id != self._state.current_run_id and request.run_id not in self._waiting:
            self._waiting.append(request.run_id)
            if request.run_id not in self._state.runs:
                self._state.runs.append(request.run_id)
        self._changed = True

    @workflow.signal(name=RELEASE)
    def release(self, request: SessionRelease) -> None:
        """A run is done with the browser, or stops waiting for it (it ended first)."""
        if request.run_id == self._state.current_run_id:
            self._state.current_run_id = None
            self._browser.checkpoint = request.checkpoint or self._browser.checkpoint
        elif request.run_id in self._waiting:
            self._waiting.remove(request.run_id)
        self._changed = True

    @workflow.signal(name=REBUILD)
    def rebuild(self, request: SessionRebuild) -> None:
        self._rebuilds.append(request)
        self._changed = True

    @workflow.signal(name=CLOSE)
    def close(self) -> None:
        self._close_requested = True
        self._changed = True

    @workflow.run
    async def run(self, session: BrowserSessionInput) -> BrowserSessionResponse:
        deadline = workflow.now() + session.timeout
        ending = BrowserSessionStatus.closed
        try:
            await self._browser.launch()
            self._state.status = BrowserSessionStatus.running
            self._state.started_at = workflow.now()
            self._publish()
            ending = await self._serve(deadline)
        except ActivityError as exc:
            ending = BrowserSessionStatus.failed
            self._state.failure_reason = f"the session's browser is lost: {failure_reason(exc)}"
        except ApplicationError as exc:
            ending = BrowserSessionStatus.failed
            self._state.failure_reason = exc.message
        await self._release_hold()
        await self._browser.close()
        self._state.status = ending
        self._state.closed_at = workflow.now()
        self._publish()
        # Until nobody is left: a run may ask while the last ones are being told.
        while self._waiting or self._state.current_run_id is not None:
            await self._turn_away(
                f"browser session {self._state.browser_session_id} is {ending.value}"
            )
        if ending is BrowserSessionStatus.failed:
            raise ApplicationError(
                self._state.failure_reason or "the session failed",
                self._state,
                type=SESSION_FAILED,
                non_retryable=True,
            )
        return self._state

    async def _serve(self, deadline: datetime) -> BrowserSessionStatus:
        """Hand the browser to one run after another until closed or timed out."""
        while True:
            if self._close_requested:
                return BrowserSessionStatus.closed
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                return BrowserSessionStatus.timed_out
            if await self._answer_rebuilds():
                continue
            hold = self._hold
            if hold is None:
                self._hold = self._start_hold()
                continue
            if hold.done():
                await self._rebuild(self._loss_of(hold), reason="the hold on the browser ended")
                continue
            if await self._grant_next():
                continue
            self._changed = False
            # Only a holder someone waits for is checked: that keeps an idle session's history
            # short, and a holder that is gone matters only to the next run.
            holder = self._state.current_run_id if self._waiting else None
            try:
                await workflow.wait_condition(
                    self._has_news, timeout=min(remaining, HOLDER_CHECK) if holder else remaining
                )
            except TimeoutError:
                # The top of the loop sees the deadline; a holder that is gone is let go.
                if holder is not None and holder == self._state.current_run_id:
                    await self._let_go_if_gone(holder)

    def _has_news(self) -> bool:
        return self._changed or (self._hold is not None and self._hold.done())

    async def _answer_rebuilds(self) -> bool:
        """Rebuild a browser a run lost (once, however many ask), and grant the holder the new
        one. True if anything was done."""
        if not self._rebuilds:
            return False
        requests, self._rebuilds = self._rebuilds, []
        lease = self._browser.lease
        lost = [r for r in requests if lease is not None and r.lost_generation == lease.generation]
        if lost:
            first = lost[0]
            self._browser.checkpoint = first.checkpoint or self._browser.checkpoint
            loss = Loss.host if first.host_lost else Loss.browser
            await self._rebuild(loss, reason=f"run {first.run_id} lost the browser")
        for request in requests:
            if request.run_id == self._state.current_run_id:
                await self._grant(request.run_id)
        return True

    async def _rebuild(self, loss: Loss, *, reason: str) -> None:
        if self._state.rebuilds >= MAX_REBUILDS:
            raise ApplicationError(f"the session lost its browser {MAX_REBUILDS + 1} times")
        workflow.logger.warning("session %s: %s", self._state.browser_session_id, reason)
        await self._release_hold()
        await self._browser.rebuild(loss)
        self._state.rebuilds += 1  # counted once the new browser is open
        # The holder is told by the rebuild it asked for, or finds out at its next step.

    async def _grant_next(self) -> bool:
        """Give the browser to the first waiting run if nobody has it. True if granted."""
        if self._state.current_run_id is not None or not self._waiting:
            return False
        run_id = self._waiting.pop(0)
        self._state.current_run_id = run_id
        await self._grant(run_id)
        return True

    async def _grant(self, run_id: str) -> None:
        grant = SessionGrant(lease=self._browser.leased, checkpoint=self._browser.checkpoint)
        if not await self._tell(run_id, grant) and self._state.current_run_id == run_id:
            self._state.current_run_id = None  # the run is gone: nobody holds the browser

    async def _turn_away(self, reason: str) -> None:
        """Tell every run still waiting or holding the browser that there is none any more."""
        holder = self._state.current_run_id
        runs = ([holder] if holder else []) + self._waiting
        self._waiting = []
        self._state.current_run_id = None
        for run_id in runs:
            await self._tell(run_id, SessionGrant(error=reason))

    async def _tell(self, run_id: str, grant: SessionGrant) -> bool:
        """Signal the run; False if it has ended (terminated, or it never existed)."""
        try:
            await workflow.get_external_workflow_handle(run_id).signal(GRANTED, grant)
        except FailureError as exc:
            workflow.logger.warning("run %s cannot be told about the session: %s", run_id, exc)
            return False
        return True

    async def _let_go_if_gone(self, run_id: str) -> None:
        lease = self._browser.leased
        try:
            is_open = await workflow.execute_activity(
                RUN_IS_OPEN,
                RunIsOpenInput(run_id=run_id),
                task_queue=lease.host_queue,
                result_type=bool,
                **options.RUN_CHECK.kwargs(),
            )
        except ActivityError:
            return  # the host may be gone: its hold will tell, and the check comes again
        if not is_open and self._state.current_run_id == run_id:
            workflow.logger.warning("run %s ended without giving the browser back", run_id)
            self._state.current_run_id = None
            self._changed = True

    def _start_hold(self) -> workflow.ActivityHandle[None]:
        lease = self._browser.leased
        return workflow.start_activity(
            HOLD_BROWSER,
            HoldBrowserInput(lease=lease),
            task_queue=lease.host_queue,
            **options.HOLD.kwargs(),
        )

    @staticmethod
    def _loss_of(hold: workflow.ActivityHandle[None]) -> Loss:
        """How the browser was lost, from a hold that ended without being canceled."""
        if hold.cancelled():
            return Loss.host
        exc = hold.exception()
        if isinstance(exc, ActivityError):
            return browser_loss(exc) or Loss.host
        return Loss.host  # it returned or was canceled by its worker: that host is going away

    async def _release_hold(self) -> None:
        hold, self._hold = self._hold, None
        if hold is None:
            return
        hold.cancel()
        try:
            await hold
        except (ActivityError, asyncio.CancelledError):
            pass  # canceled, or it had failed already: either way it no longer holds

    def _publish(self) -> None:
        if STATUS in workflow.info().typed_search_attributes:
            workflow.upsert_search_attributes([STATUS.value_set(self._state.status.value)])
