"""Client side of pushed 2FA codes: `Client.send_totp_code` and `wayfinder totp`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import temporalio.client
from pydantic import BaseModel

from wayfinder.client_base import settings_of
from wayfinder.secrets import SecretBox
from wayfinder.totp import code_from_content
from wayfinder.workflows.totp_mailbox import (
    CODE_TTL,
    PUSH,
    PushedCode,
    TotpMailboxWorkflow,
    mailbox_id,
)


class TotpCodeSent(BaseModel):
    """A code handed to the mailbox of its identifier (the code itself is not repeated)."""

    totp_identifier: str
    expires_at: datetime
    """When the code is dropped if no run has taken it by then."""


async def send_totp_code(
    temporal: temporalio.client.Client,
    task_queue: str,
    *,
    totp_identifier: str,
    content: str,
    rpc: dict[str, Any],
) -> TotpCodeSent:
    """Encrypt the code in `content` and signal it to the identifier's mailbox (started if
    need be): the run waiting on that identifier, or the next to ask, gets it."""
    identifier = totp_identifier.strip()
    if not identifier:
        raise ValueError("totp_identifier must not be blank")
    box = SecretBox.from_settings(settings_of(temporal))
    pushed = PushedCode(token=box.seal(code_from_content(content)))
    # Signal-with-start: signals the mailbox if it runs, else starts it with the signal.
    await temporal.start_workflow(
        TotpMailboxWorkflow.run,
        None,
        id=mailbox_id(identifier),
        task_queue=task_queue,
        start_signal=PUSH,
        start_signal_args=[pushed],
        **rpc,
    )
    return TotpCodeSent(totp_identifier=identifier, expires_at=datetime.now(UTC) + CODE_TTL)
