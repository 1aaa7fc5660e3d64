"""Turning library errors into Temporal errors with the right retry behaviour.

Retries belong to the activity retry policies (`options.py`): an error that can never succeed on
retry (a bad API key, an unknown model, a prompt over the context window, a browser that is gone
from this host, a model that keeps answering off-schema) is marked non-retryable, so the workflow
learns at once and reports it as the run's failure_reason.

A model endpoint that is unavailable (429, 5xx, 529, timeouts) is retried by Temporal, after the
endpoint's own `retry-after` when it gives one, for at most `WAYFINDER_MODEL_RETRY_WINDOW`
seconds counted from the activity's first attempt (Temporal tells every attempt when the first
was scheduled). The attempt that would start a retry past the window fails for good instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from wayfinder.activities.options import BROWSER_LOST
from wayfinder.browser.host import BrowserGoneError
from wayfinder.llm.client import ModelError, ModelUnavailableError


@contextmanager
def as_activity_errors(model_retry_window: float) -> Iterator[None]:
    """Map the errors of an activity's body; `model_retry_window` is in seconds."""
    try:
        yield
    except ModelUnavailableError as exc:
        raise _unavailable(exc, model_retry_window) from exc
    except ModelError as exc:
        # Configuration, request and invalid-answer errors: the same call fails the same way.
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
    except BrowserGoneError as exc:
        raise ApplicationError(str(exc), type=BROWSER_LOST, non_retryable=True) from exc


def _unavailable(exc: ModelUnavailableError, window: float) -> ApplicationError:
    info = activity.info()
    waited = (datetime.now(UTC) - info.scheduled_time).total_seconds()
    kind = type(exc).__name__
    if waited + _next_delay(info, exc.retry_after) >= window:
        attempts = f"{info.attempt} attempt{'s' if info.attempt > 1 else ''}"
        asked = "" if exc.retry_after is None else f", asked to wait {exc.retry_after:g} s more"
        return ApplicationError(
            f"{exc} (still failing after {waited:.0f} s and {attempts}{asked}; "
            f"WAYFINDER_MODEL_RETRY_WINDOW is {window:g} s)",
            type=kind,
            non_retryable=True,
        )
    return ApplicationError(
        str(exc),
        type=kind,
        next_retry_delay=None if exc.retry_after is None else timedelta(seconds=exc.retry_after),
    )


def _next_delay(info: activity.Info, retry_after: float | None) -> float:
    """Seconds until the next attempt: the endpoint's hint, else the retry policy's backoff."""
    if retry_after is not None:
        return retry_after
    policy = info.retry_policy
    if policy is None:
        return 0.0
    interval = policy.initial_interval.total_seconds() * (
        policy.backoff_coefficient ** (info.attempt - 1)
    )
    if policy.maximum_interval is not None:
        interval = min(interval, policy.maximum_interval.total_seconds())
    return interval
