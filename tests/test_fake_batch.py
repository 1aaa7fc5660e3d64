"""The fake model's several-action answers, asked directly over the Messages API."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic import AsyncAnthropic

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.test_fake_model import ACT_TOOLS, MODEL, contact_page, prompt

TASK = (
    'Fill "Ada Lovelace" in the "Name" field, type "ada@example.com" into "Email", '
    'select "Technical support" from "Topic", enter "Hello there" in "Message", '
    'check "I agree to the privacy policy", then click "Send message".'
)


@pytest.fixture
def model(fake_model: FakeAnthropicServer) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=fake_model.url, api_key="test", max_retries=0)


async def _calls(model: AsyncAnthropic, choice: dict[str, Any]) -> list[tuple[str, Any]]:
    message = await model.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": prompt(TASK, contact_page(), [])}],
        tools=ACT_TOOLS,  # type: ignore[arg-type]
        tool_choice=choice,  # type: ignore[arg-type]
    )
    return [(b.name, b.input) for b in message.content if b.type == "tool_use"]


async def test_a_form_it_can_see_is_filled_and_submitted_in_one_answer(
    model: AsyncAnthropic,
) -> None:
    calls = await _calls(model, {"type": "any"})
    assert [name for name, _ in calls] == [
        "input_text", "input_text", "select_option", "input_text", "click", "click",
    ]  # fmt: skip
    assert calls[2][1]["option"] == "Technical support"
    assert len({args["element_id"] for _, args in calls}) == 6


async def test_one_action_when_parallel_tool_use_is_disabled(model: AsyncAnthropic) -> None:
    calls = await _calls(model, {"type": "any", "disable_parallel_tool_use": True})
    assert [name for name, _ in calls] == ["input_text"]
