"""The run_task options that shape a run, checked where a user would see their effect."""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteRequest, SiteResponse, SiteServer
from tests.fixtures.sites_data import TOP_STORY
from wayfinder import Client, RunNotFoundError, RunStatus

LANDING = """<!doctype html><title>Welcome</title><h1>Welcome back</h1>
<p>Your account overview is one click away.</p><a href="{next}">Continue</a>"""


def _prompts(fake: FakeAnthropicServer, token: str, tool: str) -> list[str]:
    """The user turns of requests that offered `tool`, as the model read them."""
    texts = []
    for body in fake.requests(match=token):
        if any(t["name"] == tool for t in body.get("tools", [])):
            content = body["messages"][-1]["content"]
            texts.append(content if isinstance(content, str) else json.dumps(content))
    return texts


async def test_user_agent_and_extra_headers_reach_the_site(
    client: Client, sites: SiteServer, token: str
) -> None:
    seen: list[dict[str, str]] = []

    def landing(request: SiteRequest) -> str:
        seen.append(request.headers)
        return LANDING.format(next="/news")

    slug = token.strip("[]").replace(" ", "-")
    sites.add_page(f"/landing-{slug}", landing)
    result = await client.run_task(
        f'{token} Click "Continue"',
        url=f"{sites.url}/landing-{slug}",
        user_agent="WayfinderTest/1.0 (+ops@example.com)",
        extra_http_headers={"X-Team": "billing-bots"},
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert seen, "the landing page was never requested"
    assert all(h["user-agent"] == "WayfinderTest/1.0 (+ops@example.com)" for h in seen)
    assert all(h["x-team"] == "billing-bots" for h in seen)


async def test_screenshot_scrolls_give_more_final_screenshots(
    client: Client, sites: SiteServer
) -> None:
    result = await client.run_task(
        "Get the title of the top post",
        url=f"{sites.url}/news",
        max_screenshot_scrolls=2,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.screenshot_urls and len(result.screenshot_urls) == 3
    images = [Path(urlsplit(url).path).read_bytes() for url in result.screenshot_urls]
    assert images[0] != images[-1]  # the page scrolled between the first and the last
    assert result.screenshot_urls[-1].endswith("final-0.png")  # most recent first


async def test_history_in_verification_only_when_asked(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    for include in (True, False):
        marker = token[:-1] + ("h]" if include else "n]")
        result = await client.run_task(
            f"{marker} Get the title of the top post",
            url=f"{sites.url}/news",
            include_action_history_in_verification=include,
            wait_for_completion=True,
        )
        assert result.status is RunStatus.completed, result.failure_reason
        (verification,) = _prompts(fake_model, marker, "report_verification")
        assert ("<history>" in verification) is include


async def test_model_override_and_title(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    result = await client.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        model={"model_name": "claude-test-override", "max_tokens": 1024},
        title="Top story check",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.title == "Top story check"
    requests = fake_model.requests(match=token)
    assert requests and {r["model"] for r in requests} == {"claude-test-override"}
    assert {r["max_tokens"] for r in requests} >= {1024}
    description = await client.temporal.get_workflow_handle(result.run_id).describe()
    assert await description.static_summary() == "Top story check"


async def test_error_code_mapping_names_the_failure(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    result = await client.run_task(
        f'{token} Click "Delete my account"',
        url=f"{sites.url}/news",
        error_code_mapping={"missing_control": "The control the task needs is not on the page"},
        wait_for_completion=True,
    )
    assert result.status is RunStatus.terminated
    assert result.failure_reason
    (offered,) = {
        json.dumps(t["input_schema"])
        for body in fake_model.requests(match=token)
        for t in body["tools"]
        if t["name"] == "terminate"
    }
    assert "missing_control" in offered


async def test_get_run_while_running_and_for_unknown_ids(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    fake_model.delay(match=token, seconds=0.5)
    started = await client.run_task(
        f"{token} Get the title of the top post", url=f"{sites.url}/news"
    )
    seen = set()
    while not (run := await client.get_run(started.run_id)).status.is_final:
        seen.add(run.status)
    assert RunStatus.running in seen
    assert run.status is RunStatus.completed and run.output == TOP_STORY
    with pytest.raises(RunNotFoundError, match="tsk_nope"):
        await client.get_run("tsk_nope")
    with pytest.raises(RunNotFoundError):
        await client.cancel_run("tsk_nope")


async def test_downloads_are_kept_with_their_checksum(
    client: Client, sites: SiteServer, token: str
) -> None:
    invoice = b"%PDF-1.4\n% fake invoice 42\n" + bytes(range(256)) * 8
    slug = token.strip("[]").replace(" ", "-")
    sites.add_page(
        f"/billing-{slug}",
        "<!doctype html><title>Billing</title><h1>Invoices</h1>"
        f'<a href="/billing-{slug}/invoice-42.pdf">Download invoice 42</a>',
    )
    sites.add_page(
        f"/billing-{slug}/invoice-42.pdf",
        lambda request: SiteResponse(
            invoice,
            content_type="application/pdf",
            headers={"content-disposition": 'attachment; filename="invoice-42.pdf"'},
        ),
    )
    result = await client.run_task(
        f'{token} Click "Download invoice 42"',
        url=f"{sites.url}/billing-{slug}",
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.downloaded_files and len(result.downloaded_files) == 1
    (saved,) = result.downloaded_files
    assert saved.filename == "invoice-42.pdf"
    assert saved.checksum == hashlib.sha256(invoice).hexdigest()
    assert Path(urlsplit(saved.url).path).read_bytes() == invoice


async def test_get_run_answers_when_no_worker_does(client: Client, token: str) -> None:
    """A run on a queue no worker polls stays queued, and get_run still says so."""
    unserved = Client(client.temporal, task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")
    started = await unserved.run_task(f"{token} Get the title of the top post")
    try:
        run = await unserved.get_run(started.run_id)
        assert run.status is RunStatus.queued
        assert run.run_id == started.run_id
    finally:
        await client.temporal.get_workflow_handle(started.run_id).terminate("test over")
    ended = await client.get_run(started.run_id)
    assert ended.status is RunStatus.terminated
    assert "terminated in Temporal" in (ended.failure_reason or "")


_LONG_TITLE = "t" * 401

BAD_OPTIONS: list[tuple[str, object]] = [
    ("prompt", ""),
    ("url", "ftp://example.com"),
    ("engine", "ui_tars"),
    ("wait_for_completion", "maybe"),
    ("timeout", -1),
    ("max_steps", 0),
    ("data_extraction_schema", {"type": "nope"}),
    ("proxy_location", "no such place!"),
    ("proxy_location", "RESIDENTIAL_NOWHERE"),
    ("proxy_location", {"url": "ftp://proxy.example.com:21"}),
    ("browser_session_id", 42),
    ("publish_workflow", "sometimes"),
    ("webhook_url", "ftp://hooks.example.com"),
    ("error_code_mapping", {"": "blank code"}),
    ("totp_identifier", 42),
    ("totp_url", "ftp://totp.example.com"),
    ("title", _LONG_TITLE),
    ("model", {"model_name": ""}),
    ("user_agent", ""),
    ("extra_http_headers", {"Bad Header": "x"}),
    ("include_action_history_in_verification", "sometimes"),
    ("max_screenshot_scrolls", 99),
    ("browser_address", "127.0.0.1:9222"),
    ("run_with", "magic"),
    ("request_options", {"timeout_in_seconds": 0}),
    ("request_options", {"max_retries": -1}),
    ("request_options", {"additional_headers": {"bad key": "x"}}),
    ("request_options", {"additional_query_parameters": {"page": 2}}),
    ("request_options", {"additional_body_parameters": {"extra": True}}),
    ("request_options", {"retries": 3}),
]


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS, ids=[o for o, _ in BAD_OPTIONS])
async def test_bad_values_of_every_option_are_refused_before_the_run(
    client: Client, option: str, value: object
) -> None:
    queue = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    unserved = Client(client.temporal, task_queue=queue)
    arguments: dict[str, object] = {"prompt": "Get the title of the top post", option: value}
    with pytest.raises(ValueError) as caught:  # pydantic's ValidationError is a ValueError
        await unserved.run_task(**arguments)  # type: ignore[arg-type]
    assert option in str(caught.value)
    started = await client.temporal.count_workflows(f'TaskQueue = "{queue}"')
    assert started.count == 0


def test_every_run_task_option_has_a_bad_value_tested() -> None:
    options = set(inspect.signature(Client.run_task).parameters) - {"self"}
    assert options == {option for option, _ in BAD_OPTIONS}
