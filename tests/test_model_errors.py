"""Model failures: what each endpoint answer becomes, and how long Temporal retries it.

The client tests talk to the fake Messages API through the real SDK; the run tests use their
own worker with a short retry window and per-call timeout, so that "fails forever" ends in
seconds, and read the figures a user sees (`created_at`, `finished_at`, `failure_reason`) and
what an operator sees in the workflow's history (the failure's type and retryability).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import pytest
from temporalio.api.enums.v1 import EventType

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import TOP_STORY
from wayfinder import Client, RunStatus, TaskRunResponse
from wayfinder.activities.options import NON_RETRYABLE_ERRORS
from wayfinder.llm import client as model_client
from wayfinder.llm.client import (
    ModelAuthenticationError,
    ModelClient,
    ModelError,
    ModelRequestError,
    ModelUnavailableError,
    PromptTooLongError,
    UnknownModelError,
)
from wayfinder.settings import Settings

TOOL = {"name": "answer", "description": "Answer.", "input_schema": {"type": "object"}}
PROMPT_TOO_LONG = "prompt is too long: 212345 tokens > 200000 maximum"

WINDOW = 12.0
"""The retry window of this module's worker (the default is 60 s)."""
CALL_TIMEOUT = 2.0


async def _call(fake: FakeAnthropicServer, token: str, call_timeout: float = 5.0) -> None:
    client = ModelClient(api_key="test-key", base_url=fake.url, timeout=call_timeout)
    try:
        await client.call_tool(model="claude-test", system="s", user=token, tools=[TOOL])
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("step", "error", "words"),
    [
        ({"status": 500}, ModelUnavailableError, "HTTP 500: Internal server error"),
        ({"status": 529}, ModelUnavailableError, "HTTP 529: Overloaded"),
        ({"status": 401}, ModelAuthenticationError, "check ANTHROPIC_API_KEY"),
        ({"status": 404, "message": "model: claude-test"}, UnknownModelError, "claude-test"),
        ({"status": 400, "message": PROMPT_TOO_LONG}, PromptTooLongError, PROMPT_TOO_LONG),
        ({"status": 413}, PromptTooLongError, "HTTP 413"),
        ({"status": 400, "message": "tools.0: bad"}, ModelRequestError, "tools.0: bad"),
    ],
)
async def test_each_answer_becomes_its_own_error_after_one_request(
    fake_model: FakeAnthropicServer,
    token: str,
    step: dict[str, object],
    error: type[ModelError],
    words: str,
) -> None:
    fake_model.script(token, [step, step])
    with pytest.raises(error, match="HTTP") as caught:
        await _call(fake_model, token)
    assert type(caught.value) is error
    assert words in str(caught.value)
    assert len(fake_model.requests(token)) == 1  # the SDK does not retry behind our back


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry_after": 2.5}, 2.5),  # retry-after-ms and retry-after: the first wins
        ({"headers": {"retry-after": "7"}}, 7.0),
        ({"headers": {"retry-after": "in 30 s as an HTTP date"}}, 30.0),
        ({"headers": {"retry-after": "soon"}}, None),
        ({}, None),
    ],
)
async def test_unavailable_carries_the_endpoints_retry_after(
    fake_model: FakeAnthropicServer,
    token: str,
    headers: dict[str, object],
    expected: float | None,
) -> None:
    if headers.get("headers") == {"retry-after": "in 30 s as an HTTP date"}:
        headers = {"headers": {"retry-after": formatdate(time.time() + 30, usegmt=True)}}
    fake_model.script(token, [{"status": 503, **headers}])
    with pytest.raises(ModelUnavailableError) as caught:
        await _call(fake_model, token)
    if expected is None:
        assert caught.value.retry_after is None
    else:
        assert caught.value.retry_after == pytest.approx(expected, abs=1.5)


async def test_a_call_never_outlives_its_timeout(
    fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(token, [{"delay": 5}])
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match=r"within 0.5 s \(WAYFINDER_MODEL_TIMEOUT\)"):
        await _call(fake_model, token, call_timeout=0.5)
    assert time.monotonic() - started < 2
    assert len(fake_model.requests(token)) == 1


def test_every_error_a_retry_cannot_fix_is_non_retryable_in_the_policy() -> None:
    classes = [
        value
        for value in vars(model_client).values()
        if isinstance(value, type) and issubclass(value, ModelError)
    ]
    fixable = {ModelError, ModelUnavailableError}
    assert {c.__name__ for c in classes if c not in fixable} <= set(NON_RETRYABLE_ERRORS)
    assert not {c.__name__ for c in fixable} & set(NON_RETRYABLE_ERRORS)


# -- runs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def short_window(settings: Settings) -> AsyncIterator[Client]:
    """A client with its own worker whose model retries end after WINDOW seconds."""
    own = settings.model_copy(
        update={
            "model_retry_window": WINDOW,
            "model_timeout": CALL_TIMEOUT,
            "task_queue": f"{settings.task_queue}-short-window",
        }
    )
    async with await Client.connect(settings=own, run_worker=True) as client:
        yield client


async def _run(client: Client, sites: SiteServer, token: str) -> TaskRunResponse:
    return await client.run_task(
        f"{token} Get the title of the top post", url=f"{sites.url}/news", wait_for_completion=True
    )


async def _run_watched(
    client: Client, sites: SiteServer, fake: FakeAnthropicServer, token: str
) -> tuple[TaskRunResponse, list[float]]:
    """Run to the end; also the times (s, monotonic, relative to the end) the model was asked."""
    run = asyncio.create_task(_run(client, sites, token))
    arrivals: list[float] = []
    while not run.done():
        arrivals += [time.monotonic()] * (len(fake.requests(token)) - len(arrivals))
        await asyncio.sleep(0.02)
    ended = time.monotonic()
    return run.result(), [at - ended for at in arrivals]


async def _failure_types(client: Client, run_id: str) -> list[tuple[str, bool]]:
    """(type, non_retryable) of every failed activity attempt Temporal recorded for the run."""
    handle = client.temporal.get_workflow_handle(run_id)
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            info = event.activity_task_failed_event_attributes.failure.application_failure_info
            found.append((info.type, info.non_retryable))
    return found


async def test_an_endpoint_failing_forever_fails_the_run_within_the_window(
    short_window: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(token, [{"status": 500}] * 1000)
    run, asked = await _run_watched(short_window, sites, fake_model, token)
    assert run.status is RunStatus.failed
    reason = run.failure_reason or ""
    assert reason.startswith("take_step failed: model call failed: HTTP 500: Internal server error")
    assert "WAYFINDER_MODEL_RETRY_WINDOW is 12 s" in reason
    # Backoff 1, 2, 4 s: attempts start at about 0, 1, 3 and 7 s; the next would start after
    # the window, so the fourth failure is final and the run ends with it.
    assert len(asked) == 4
    assert WINDOW - 8 <= -asked[0] <= WINDOW + 1
    assert -asked[-1] < 1.5
    assert (await _failure_types(short_window, run.run_id)) == [("ModelUnavailableError", True)]


async def test_a_hanging_endpoint_is_cut_by_the_call_timeout(
    short_window: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(token, 20)
    try:
        run, asked = await _run_watched(short_window, sites, fake_model, token)
    finally:
        fake_model.delay(token, 0)
    assert run.status is RunStatus.failed
    assert "did not answer within 2 s (WAYFINDER_MODEL_TIMEOUT)" in (run.failure_reason or "")
    # Attempts of 2 s each, 1 s and 2 s apart: the third ends at about 9 s, past the window
    # once the next backoff (4 s) is added. Without the call timeout, one attempt would last
    # the 20 s the endpoint hangs.
    assert len(asked) == 3
    assert -asked[0] <= WINDOW
    for (earlier, later), backoff in zip(itertools.pairwise(asked), (1, 2), strict=True):
        assert CALL_TIMEOUT + backoff <= later - earlier < CALL_TIMEOUT + backoff + 2


async def test_retry_after_is_honoured_then_the_run_goes_on(
    short_window: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(token, [{"status": 429, "retry_after": 3}])
    run, asked = await _run_watched(short_window, sites, fake_model, token)
    assert run.status is RunStatus.completed, run.failure_reason
    assert run.output == TOP_STORY
    # The policy alone would retry after 1 s; the endpoint asked for 3.
    assert 3.0 <= asked[1] - asked[0] <= 4.5


async def test_a_retry_after_past_the_window_fails_the_run_at_once(
    short_window: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.script(token, [{"status": 429, "retry_after": 30}])
    run = await _run(short_window, sites, token)
    assert run.status is RunStatus.failed
    assert "HTTP 429: Number of request tokens has exceeded" in (run.failure_reason or "")
    assert "1 attempt, asked to wait 30 s more" in (run.failure_reason or "")
    assert len(fake_model.requests(token)) == 1


@pytest.mark.parametrize(
    ("step", "kind", "words"),
    [
        ({"status": 401}, "ModelAuthenticationError", "HTTP 401"),
        ({"status": 404, "message": "model: claude-test"}, "UnknownModelError", "HTTP 404"),
        ({"status": 400, "message": PROMPT_TOO_LONG}, "PromptTooLongError", PROMPT_TOO_LONG),
    ],
)
async def test_an_error_no_retry_can_fix_fails_the_run_at_once(
    short_window: Client,
    sites: SiteServer,
    fake_model: FakeAnthropicServer,
    token: str,
    step: dict[str, object],
    kind: str,
    words: str,
) -> None:
    fake_model.script(token, [step] * 5)
    run = await _run(short_window, sites, token)
    assert run.status is RunStatus.failed
    assert words in (run.failure_reason or "")
    assert len(fake_model.requests(token)) == 1
    assert (await _failure_types(short_window, run.run_id)) == [(kind, True)]
