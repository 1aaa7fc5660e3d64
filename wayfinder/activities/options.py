"""Timeouts and retry policies of every Wayfinder activity, in one place.

Safe to import from workflow code (only `temporalio.common` and the standard library). Each
kind of activity gets one `ActivityOptions`; the workflow spreads `options.kwargs()` into
`workflow.start_activity`.

Why the host timeouts are short: a host activity is pinned to one worker process. When that
process dies, nothing else can take the task, and only Temporal's timers notice. A step
heartbeats every 2 s, so a missed heartbeat for `HOST_HEARTBEAT` means the host is gone; the
retry then waits at most `HOST_SCHEDULE_TO_START` on the dead queue before the workflow
recovers the run elsewhere. A live host never leaves a task waiting that long: it holds a slot
for each run it has a browser for (see `WAYFINDER_MAX_CONCURRENT_RUNS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

BROWSER_LOST = "BrowserLost"
"""Error type of an activity whose run's browser died under a live worker."""

NON_RETRYABLE_ERRORS = (
    "ModelConfigurationError",
    "ModelAuthenticationError",
    "UnknownModelError",
    "ModelRequestError",
    "PromptTooLongError",
    "InvalidAnswerError",
    BROWSER_LOST,
)
"""Error types a retry cannot fix; the workflow sees them at once. The model ones are the
classes of `wayfinder.llm.client` (named, not imported: this module is workflow code)."""

HOST_STEP_ATTEMPTS = 10
"""Attempts of a host step, whatever fails. A model that is unavailable is bounded by time as
well: the activity stops retrying it after `WAYFINDER_MODEL_RETRY_WINDOW` (see `errors.py`). At
this policy's backoff (1, 2, 4, then 8 s) ten attempts against an endpoint that fails at once
span about 55 s, so they last as long as the default window of 60 s. A longer window holds for
endpoints that time out or send `retry-after`; for one that fails at once, this count ends the
retries first."""

HOST_HEARTBEAT = timedelta(seconds=6)
HOST_SCHEDULE_TO_START = timedelta(seconds=4)


@dataclass(frozen=True)
class ActivityOptions:
    """The options Wayfinder passes to `workflow.start_activity` for one kind of activity."""

    start_to_close: timedelta
    retry_policy: RetryPolicy
    schedule_to_start: timedelta | None = None
    heartbeat: timedelta | None = None

    def kwargs(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "start_to_close_timeout": self.start_to_close,
            "retry_policy": self.retry_policy,
        }
        if self.schedule_to_start is not None:
            options["schedule_to_start_timeout"] = self.schedule_to_start
        if self.heartbeat is not None:
            options["heartbeat_timeout"] = self.heartbeat
        return options


LAUNCH = ActivityOptions(
    # Any worker with a browser host can take a launch: it waits in the shared queue.
    start_to_close=timedelta(seconds=90),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
)

RELAUNCH_ON_HOST = ActivityOptions(
    # A relaunch on the host that lost its Chromium: if the host itself is gone too, the
    # short schedule-to-start hands the run to the shared queue instead.
    start_to_close=timedelta(seconds=90),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2),
)

HOST_STEP = ActivityOptions(
    # take_step, verify_completion, extract_output: a model call plus work on the page.
    start_to_close=timedelta(minutes=6),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    heartbeat=HOST_HEARTBEAT,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=8),
        maximum_attempts=HOST_STEP_ATTEMPTS,
        non_retryable_error_types=list(NON_RETRYABLE_ERRORS),
    ),
)

CLOSE = ActivityOptions(
    start_to_close=timedelta(seconds=60),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2),
)

SESSION_NAVIGATE = ActivityOptions(
    # A run in a browser session opening its URL in the session's browser, on its host: the
    # short schedule-to-start tells a dead host from a busy one, as for any host activity.
    start_to_close=timedelta(seconds=60),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_attempts=3,
        non_retryable_error_types=[BROWSER_LOST],
    ),
)

HOLD = ActivityOptions(
    # A browser session's hold on its browser: it lasts as long as the session (240 minutes
    # at most) and heartbeats like a step, so that a dead host is noticed in seconds. One
    # attempt: when it ends, the session rebuilds its browser rather than retrying the hold.
    start_to_close=timedelta(hours=5),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    heartbeat=HOST_HEARTBEAT,
    retry_policy=RetryPolicy(maximum_attempts=1),
)

RUN_CHECK = ActivityOptions(
    # A session asking Temporal whether the run holding its browser still runs: a describe.
    start_to_close=timedelta(seconds=10),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2),
)

WEBHOOK = ActivityOptions(
    # One signed POST of a run's final response, on any worker of the run's task queue. The
    # activity fails for good on a 4xx other than 408/429, and once
    # WAYFINDER_WEBHOOK_RETRY_WINDOW has passed (so no attempt count here); `Retry-After`
    # overrides the backoff through the error's next_retry_delay.
    start_to_close=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=5),
        maximum_attempts=0,
    ),
)

ERROR_CODE = ActivityOptions(
    # The one question of which error code applies to a run that failed or ran out of steps:
    # on the run's host when its browser is still there (the page is part of the question).
    start_to_close=timedelta(minutes=2),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_attempts=3,
        non_retryable_error_types=list(NON_RETRYABLE_ERRORS),
    ),
)

VERIFICATION_CODE = ActivityOptions(
    # Waiting for a 2FA code and typing it, on the run's host. The wait is bounded by the
    # worker's WAYFINDER_TOTP_WAIT (the activity fails with VerificationCodeMissing after it);
    # start-to-close only catches a wait far past any sane setting. A retry would look for a
    # new code, so only a lost host (heartbeat) or a transient failure gets one.
    start_to_close=timedelta(hours=2),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    heartbeat=HOST_HEARTBEAT,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_attempts=3,
        non_retryable_error_types=[*NON_RETRYABLE_ERRORS, "VerificationCodeMissing"],
    ),
)

SCRIPT_STEP = ActivityOptions(
    # A published script's step replayed with Playwright, no model: seconds, not minutes. It
    # heartbeats like a step so a dead host is noticed in seconds and the rerun rebuilt.
    start_to_close=timedelta(minutes=2),
    schedule_to_start=HOST_SCHEDULE_TO_START,
    heartbeat=HOST_HEARTBEAT,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_attempts=3,
        non_retryable_error_types=[BROWSER_LOST, "SecretKeyError", "NotPublishable"],
    ),
)
"""`run_script_step`, `extract_by_plan` and `publish_script`, on the run's host."""
