"""Cheap completion: one look at the page verifies the claim and extracts the data, and the
check can run on a cheaper model than the acting one (WAYFINDER_VERIFY_MODEL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SHOP_CATEGORIES, SiteServer
from tests.fixtures.sites_data import GARDEN_SCHEMA
from wayfinder import Client, RunStatus
from wayfinder.actions import CompleteAction
from wayfinder.llm.tools import VERIFY_TOOL
from wayfinder.settings import Settings

VERIFY_MODEL = "claude-verify-small"
ACTING_MODEL = "claude-acting-large"


def _offers(request: dict[str, Any], tool: str) -> bool:
    return any(t.get("name") == tool for t in request.get("tools") or [])


def _page_sections(request: dict[str, Any]) -> int:
    return sum(
        str(message.get("content")).count("<page>") for message in request.get("messages", [])
    )


async def test_extraction_finishes_in_two_model_calls_after_its_last_action(
    client: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    run = await client.run_task(
        f'{token} Click "Catalogue", then click "Garden", then extract the name and price of '
        "every product",
        url=f"{sites.url}/shop",
        data_extraction_schema=GARDEN_SCHEMA,
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    jsonschema.validate(run.output, GARDEN_SCHEMA)
    assert [row["price"] for row in run.output] == [
        price for _, price, _ in SHOP_CATEGORIES["garden"]["items"]
    ]
    steps = await client.get_run_steps(run.run_id)
    assert isinstance(steps[-1].action, CompleteAction)
    last_action = max(s.number for s in steps if not isinstance(s.action, CompleteAction))
    requests = fake_model.requests(token)
    assert run.usage.model_calls == len(requests)
    # One model call per step up to the last action, then the `complete` step and one check.
    after_last_action = requests[last_action:]
    assert len(after_last_action) == 2
    act, check = after_last_action
    assert _offers(act, "complete")
    assert [t["name"] for t in check["tools"]] == [VERIFY_TOOL]
    assert check["tools"][0]["input_schema"]["properties"]["data"] == GARDEN_SCHEMA
    assert _page_sections(check) == 1


@pytest.fixture(scope="module")
async def cheap_verifier(settings: Settings) -> AsyncIterator[Client]:
    """A client with its own worker whose completion checks run on VERIFY_MODEL."""
    own = settings.model_copy(
        update={
            "verify_model": VERIFY_MODEL,
            "task_queue": f"wayfinder-verify-{uuid.uuid4().hex[:8]}",
        }
    )
    async with await Client.connect(settings=own, run_worker=True) as client:
        yield client


async def test_verification_runs_on_the_configured_model(
    cheap_verifier: Client, sites: SiteServer, fake_model: FakeAnthropicServer, token: str
) -> None:
    run = await cheap_verifier.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        model={"model_name": ACTING_MODEL},
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    requests = fake_model.requests(token)
    checks = [r["model"] for r in requests if _offers(r, VERIFY_TOOL)]
    acts = [r["model"] for r in requests if _offers(r, "complete")]
    assert checks == [VERIFY_MODEL]
    assert acts and set(acts) == {ACTING_MODEL}
