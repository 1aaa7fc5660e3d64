"""2FA codes: reading a code out of what a user sends, and asking a `totp_url` endpoint.

No Temporal here. A code is never logged: only where it came from and whether it was found.
"""

from __future__ import annotations

import json
import re

import httpx
from standardwebhooks.webhooks import Webhook

from wayfinder.webhooks import DeliveryError, post_signed

_BARE_CODE = re.compile(r"[A-Za-z0-9-]{4,12}")
_CODE_IN_TEXT = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def code_from_content(content: str) -> str:
    """The code in `content`: the code itself, or the first 4 to 8 digit number of a message
    (an SMS or an email body)."""
    text = content.strip()
    if _BARE_CODE.fullmatch(text):
        return text
    found = _CODE_IN_TEXT.search(text)
    if found is None:
        raise ValueError(
            "content holds no verification code: send the code itself, or a message with a "
            "4 to 8 digit code in it"
        )
    return found.group(0)


async def ask_totp_url(
    http: httpx.AsyncClient,
    url: str,
    *,
    hook: Webhook,
    request_id: str,
    run_id: str,
    totp_identifier: str | None,
) -> str | None:
    """POST `{"run_id", "totp_identifier"}` signed; the code it answers, or None while empty.

    Raises `DeliveryError` when the endpoint fails (the caller keeps polling on a retryable
    one) or answers something that is not `{"verification_code": ...}`.
    """
    body = json.dumps({"run_id": run_id, "totp_identifier": totp_identifier})
    response = await post_signed(http, url, hook=hook, webhook_id=request_id, body=body)
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryError(
            f'{url} did not answer JSON; it must answer {{"verification_code": "..."}}',
            status_code=response.status_code,
            retryable=False,
        ) from None
    code = answer.get("verification_code") if isinstance(answer, dict) else None
    if code is not None and not isinstance(code, str | int):
        raise DeliveryError(
            f"{url} answered a verification_code that is not a string",
            status_code=response.status_code,
            retryable=False,
        )
    return str(code).strip() or None if code is not None else None
