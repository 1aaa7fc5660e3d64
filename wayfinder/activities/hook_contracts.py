"""Names and payloads of the activities of webhooks, 2FA codes and error codes.

Like `contracts.py`, importable from workflow code: no Playwright, no HTTP client here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from wayfinder.activities.contracts import BrowserLease
from wayfinder.feedback import PastStep
from wayfinder.models import ModelOverride, TokenUsage

DELIVER_WEBHOOK = "deliver_webhook"
MAP_ERROR_CODE = "map_error_code"
ENTER_VERIFICATION_CODE = "enter_verification_code"
CODE_MISSING = "VerificationCodeMissing"
"""Error type of a run that got no 2FA code within `WAYFINDER_TOTP_WAIT`."""


class DeliverWebhookInput(BaseModel):
    url: str
    webhook_id: str
    body: str
    """The JSON to send, serialised once by the workflow so every attempt signs the same bytes."""


class WebhookAttempt(BaseModel):
    """The attempt that got a 2xx."""

    attempts: int
    status_code: int


class WebhookAttemptFailure(BaseModel):
    """The details of a failed attempt's error."""

    attempts: int
    status_code: int | None = None
    error: str


class ErrorCodeInput(BaseModel):
    lease: BrowserLease | None = None
    """The run's browser, when it still has one: its page is part of the question."""
    task: str
    failure: str
    history: list[PastStep] = Field(default_factory=list)
    error_codes: dict[str, str]
    model: ModelOverride | None = None


class ErrorCodeOutput(BaseModel):
    code: str | None
    reasoning: str
    usage: TokenUsage


class EnterCodeInput(BaseModel):
    lease: BrowserLease
    run_id: str
    element_id: str
    press_enter: bool = True
    totp_url: str | None = None
    totp_identifier: str | None = None
    mailbox_queue: str
    """Task queue to start the identifier's mailbox on if no code has been pushed yet."""
    used: list[str] = Field(default_factory=list)
    """Codes this run entered before, encrypted: none is entered twice."""


class EnterCodeOutput(BaseModel):
    url: str
    """The page's URL after typing."""
    error: str | None = None
    """Why the code could not be typed (the model reads it, as any failed action)."""
    used: str | None = None
    """The code typed, encrypted."""
