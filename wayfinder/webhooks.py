"""Signed HTTP POSTs the Standard Webhooks way: run webhooks and `totp_url` requests.

Signing is the `standardwebhooks` package's (HMAC-SHA256 over `id.timestamp.body`), so any
receiver using a Standard Webhooks library verifies Wayfinder's requests as they are. What the
receiver's answer means for a retry is decided here too: network errors, 408, 429 and 5xx are
worth another attempt (after `Retry-After` when the receiver gives one); any other 4xx is not.
No Temporal here: the activities turn these outcomes into retries.
"""

from __future__ import annotations

import binascii
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from standardwebhooks.webhooks import Webhook

RETRYABLE_STATUS = frozenset({408, 429})
MAX_RETRY_AFTER = 300.0
"""A `Retry-After` longer than this (seconds) is cut to it: the retry window still applies."""
SECRET_SETTING = "WAYFINDER_WEBHOOK_SECRET"


class WebhookConfigError(ValueError):
    """The signing secret is missing or not in the `whsec_<base64>` form."""


class DeliveryError(Exception):
    """One attempt did not get a 2xx. `retryable` says whether another attempt may help."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after = retry_after


def signer(secret: str | None) -> Webhook:
    """The signer for `secret` (the `WAYFINDER_WEBHOOK_SECRET` value)."""
    if not secret:
        raise WebhookConfigError(
            f"{SECRET_SETTING} is not set on the worker: set it to a secret in the Standard "
            "Webhooks form whsec_<base64> (e.g. 'whsec_' + base64 of 32 random bytes)"
        )
    if not secret.startswith("whsec_"):
        raise WebhookConfigError(f"{SECRET_SETTING} must start with 'whsec_' (whsec_<base64>)")
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError) as exc:
        raise WebhookConfigError(
            f"{SECRET_SETTING} is not valid base64 after 'whsec_': {exc}"
        ) from None


def signed_headers(hook: Webhook, webhook_id: str, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, timestamped now (each attempt anew, so
    a receiver's replay tolerance of a few minutes holds on a late retry)."""
    now = datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": hook.sign(webhook_id, now, body),
        "content-type": "application/json",
    }


async def post_signed(
    http: httpx.AsyncClient, url: str, *, hook: Webhook, webhook_id: str, body: str
) -> httpx.Response:
    """POST `body` signed; returns a 2xx response or raises `DeliveryError`."""
    try:
        response = await http.post(
            url, content=body.encode(), headers=signed_headers(hook, webhook_id, body)
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(
            f"could not reach {url}: {type(exc).__name__}: {exc}".rstrip(": "), retryable=True
        ) from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    retryable = status in RETRYABLE_STATUS or status >= 500
    raise DeliveryError(
        f"{url} answered HTTP {status}{_excerpt(response)}",
        status_code=status,
        retryable=retryable,
        retry_after=retry_after(response.headers.get("retry-after")) if retryable else None,
    )


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f": {text[:200]}" if text else ""
