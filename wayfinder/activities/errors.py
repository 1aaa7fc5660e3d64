"""Turning library errors into Temporal errors with the right retry behaviour.

Retries belong to the activity retry policies: an error that can never succeed on retry (a bad
API key, a browser that is gone from this host, a model that keeps answering off-schema) is
marked non-retryable, so the workflow learns at once and reports it as the run's failure_reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from wayfinder.activities.options import BROWSER_LOST
from wayfinder.browser.host import BrowserGoneError
from wayfinder.llm.client import ModelConfigurationError, ModelError
from wayfinder.llm.decisions import InvalidAnswerError


@contextmanager
def as_activity_errors() -> Iterator[None]:
    try:
        yield
    except (ModelConfigurationError, InvalidAnswerError) as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
    except ModelError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__) from exc
    except BrowserGoneError as exc:
        raise ApplicationError(str(exc), type=BROWSER_LOST, non_retryable=True) from exc
