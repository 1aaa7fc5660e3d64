"""TotpMailboxWorkflow: where pushed 2FA codes of one `totp_identifier` wait for a run.

`send_totp_code` signals the code (Fernet-encrypted: history never holds it in clear) to the
mailbox `wayfinder-totp-<identifier>`, starting it if need be. A run that needs a code asks the
mailbox with the `take` update, which waits a few seconds for a code and hands out the newest
one at most once: a code taken is gone, older ones with it (a newer code supersedes them), and
a code nobody takes within `CODE_TTL` expires. With nothing left to keep, the mailbox ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

MAILBOX_PREFIX = "wayfinder-totp-"
PUSH = "push"
TAKE = "take"
CODE_TTL = timedelta(minutes=5)
"""How long a pushed code is kept for a run that has not asked yet."""
MAX_TAKE_WAIT = 30.0
"""Seconds one `take` may wait inside the mailbox; the run asks again after that."""


def mailbox_id(totp_identifier: str) -> str:
    return f"{MAILBOX_PREFIX}{totp_identifier}"


class PushedCode(BaseModel):
    token: str
    """The code, Fernet-encrypted by the sender (`wayfinder.secrets`)."""
    received_at: datetime | None = None
    """Set by the mailbox when the code arrives."""


class TakeCode(BaseModel):
    run_id: str
    wait_seconds: float = Field(default=10.0, ge=0, le=MAX_TAKE_WAIT)


class TakenCode(BaseModel):
    token: str | None = None
    """The newest fresh code, encrypted; None if none came in time."""


class MailboxState(BaseModel):
    codes: list[PushedCode] = Field(default_factory=list)


@workflow.defn(name="TotpMailbox")
class TotpMailboxWorkflow:
    @workflow.init
    def __init__(self, state: MailboxState | None = None) -> None:
        self._codes: list[PushedCode] = list(state.codes) if state else []
        self._waiting = 0
        self._touched = False

    @workflow.signal(name=PUSH)
    def push(self, code: PushedCode) -> None:
        self._codes.append(code.model_copy(update={"received_at": workflow.now()}))
        self._touched = True

    @workflow.update(name=TAKE)
    async def take(self, ask: TakeCode) -> TakenCode:
        """The newest fresh code (encrypted), or None if none came within `wait_seconds`."""
        self._waiting += 1
        try:
            await workflow.wait_condition(lambda: bool(self._fresh()), timeout=ask.wait_seconds)
        except TimeoutError:
            return TakenCode()
        finally:
            self._waiting -= 1
            self._touched = True
        newest = self._fresh()[-1]
        self._codes.clear()
        workflow.logger.info("a verification code was taken by run %s", ask.run_id)
        return TakenCode(token=newest.token)

    @workflow.run
    async def run(self, state: MailboxState | None = None) -> None:
        while True:
            self._touched = False
            try:
                await workflow.wait_condition(lambda: self._touched, timeout=CODE_TTL)
            except TimeoutError:
                if not self._fresh() and self._waiting == 0:
                    break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(MailboxState(codes=self._fresh()))
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._fresh():
            # A code arrived while the mailbox was closing: keep it in a fresh execution.
            workflow.continue_as_new(MailboxState(codes=self._fresh()))

    def _fresh(self) -> list[PushedCode]:
        """Codes not yet expired, oldest first."""
        now = workflow.now()
        return [
            code
            for code in self._codes
            if code.received_at is not None and now - code.received_at < CODE_TTL
        ]
