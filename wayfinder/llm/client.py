"""A thin wrapper around the anthropic SDK: one forced tool call per request.

The SDK already retries 429, 5xx, overloaded and timeouts with exponential backoff that honours
`retry-after`; we let it do that (a few times) and classify what still fails, so the activity's
retry policy only sees errors worth retrying and never stacks a second backoff on a bad API key.
"""

from __future__ import annotations

from typing import Any, cast

import anthropic
from anthropic.types import ToolParam
from pydantic import BaseModel

from wayfinder.models import TokenUsage
from wayfinder.settings import Settings


class ModelError(Exception):
    """A model call failed after the SDK's retries (rate limits, outages, timeouts)."""


class ModelConfigurationError(ModelError):
    """The call can never succeed as configured: missing or rejected key, unknown model."""


class ToolCall(BaseModel):
    """The model's answer: the tool it called with its raw input, or none if it answered in text."""

    name: str | None
    input: dict[str, Any]
    text: str
    usage: TokenUsage


class ModelClient:
    """Asks Claude for exactly one tool call at a time."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 120.0,
    ) -> None:
        if not api_key:
            raise ModelConfigurationError(
                "ANTHROPIC_API_KEY is not set: export it (and ANTHROPIC_BASE_URL for a gateway) "
                "in the environment of the worker"
            )
        self._sdk = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelClient:
        return cls(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            max_retries=settings.model_max_retries,
            timeout=settings.model_timeout,
        )

    async def call_tool(
        self,
        *,
        model: str,
        system: str,
        user: str,
        tools: list[dict[str, Any]],
        max_tokens: int = 2048,
        temperature: float | None = None,
    ) -> ToolCall:
        """Send one user turn and require the model to answer with one of `tools`."""
        extra: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
        try:
            message = await self._sdk.messages.create(
                model=model,
                max_tokens=max_tokens,
                # The system prompt and tools are identical across the steps of a run: cache them.
                system=[{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": user}],
                tools=cast(list[ToolParam], tools),
                tool_choice={"type": "any", "disable_parallel_tool_use": True},
                **extra,
            )
        except (
            anthropic.AuthenticationError,
            anthropic.PermissionDeniedError,
            anthropic.NotFoundError,
            anthropic.BadRequestError,
        ) as exc:
            raise ModelConfigurationError(f"model call rejected: {_describe(exc)}") from exc
        except anthropic.APIError as exc:
            raise ModelError(f"model call failed after retries: {_describe(exc)}") from exc
        return _to_tool_call(message)

    async def aclose(self) -> None:
        await self._sdk.close()


def _to_tool_call(message: Any) -> ToolCall:
    name: str | None = None
    tool_input: dict[str, Any] = {}
    texts: list[str] = []
    for block in message.content:
        if block.type == "tool_use" and name is None:
            name, tool_input = block.name, dict(block.input or {})
        elif block.type == "text":
            texts.append(block.text)
    usage = message.usage
    return ToolCall(
        name=name,
        input=tool_input,
        text="\n".join(texts),
        usage=TokenUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
            cache_creation_input_tokens=getattr(usage, "cache_creation_input_tokens", None) or 0,
            model_calls=1,
        ),
    )


def _describe(exc: anthropic.APIError) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}: {exc.message}" if status else exc.message
