"""The one question asked when a run fails or runs out of steps: which user error code applies.

A model that terminates names its code itself (the `terminate` tool); a run that ends any other
unhappy way gets this single call, so `error_code_mapping` holds for every ending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from wayfinder.feedback import PastStep
from wayfinder.llm import prompts
from wayfinder.llm.client import ModelClient
from wayfinder.llm.decisions import ModelSettings
from wayfinder.models import TokenUsage

ERROR_CODE_TOOL = "choose_error_code"
NO_CODE = "none"
"""What the model answers when none of the user's conditions describes the failure."""


class ErrorCodeChoice(BaseModel):
    code: str | None
    """One of the user's codes, or None."""
    reasoning: str
    usage: TokenUsage


def error_code_tool(codes: Sequence[str]) -> dict[str, Any]:
    return {
        "name": ERROR_CODE_TOOL,
        "description": "Report which error code applies to the run's failure, or none.",
        "input_schema": {
            "type": "object",
            "properties": {
                "error_code": {"type": "string", "enum": [*sorted(codes), NO_CODE]},
                "reasoning": {"type": "string", "description": "Why this code (or none)."},
            },
            "required": ["error_code", "reasoning"],
            "additionalProperties": False,
        },
    }


async def choose_error_code(
    client: ModelClient,
    model: ModelSettings,
    *,
    task: str,
    failure: str,
    history: Sequence[PastStep],
    error_codes: dict[str, str],
    page: str | None,
) -> ErrorCodeChoice:
    """Ask once; an answer off the schema counts as no code (the run's ending stands)."""
    call = await client.call_tool(
        model=model.name,
        max_tokens=min(model.max_tokens, 1024),
        temperature=model.temperature,
        system=prompts.ERROR_CODE_SYSTEM,
        user=prompts.error_code_prompt(
            task=task, failure=failure, history=history, error_codes=error_codes, page=page
        ),
        tools=[error_code_tool(list(error_codes))],
    )
    code = call.input.get("error_code")
    reasoning = str(call.input.get("reasoning") or "")
    if call.name != ERROR_CODE_TOOL or code not in error_codes:
        return ErrorCodeChoice(code=None, reasoning=reasoning, usage=call.usage)
    return ErrorCodeChoice(code=str(code), reasoning=reasoning, usage=call.usage)
