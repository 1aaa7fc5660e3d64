"""A thin wrapper around the anthropic SDK: one forced tool answer per request, one attempt each.

The SDK's own retries are off (`max_retries=0`): retrying is the caller's job (in Wayfinder,
Temporal's activity retries), so a backoff is never stacked under another and a call never
outlives its own `timeout`. What a call can fail with, in one hierarchy:

    ModelError                       anything a model call fails with
    ├── ModelUnavailableError        retry later: 408/409/429/5xx/529, connection errors,
    │                                timeouts; `retry_after` is the endpoint's own hint
    ├── ModelConfigurationError      never succeeds as configured
    │   ├── ModelAuthenticationError missing or rejected API key (401)
    │   └── UnknownModelError        no such model at this endpoint (404)
    └── ModelRequestError            the endpoint refused this request (400, 413, 422)
        └── PromptTooLongError       the prompt is over the model's context window

Every message names the HTTP status and carries the endpoint's own words.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, cast

import anthropic
from anthropic.types import ToolParam
from pydantic import BaseModel, Field

from wayfinder.models import TokenUsage
from wayfinder.settings import Settings


class ModelError(Exception):
    """A model call failed; the subclass says whether trying again can help."""


class ModelUnavailableError(ModelError):
    """The endpoint is overloaded, rate limited, failing or unreachable: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds the endpoint asked us to wait (`retry-after-ms` / `retry-after`), if it did."""


class ModelConfigurationError(ModelError):
    """The call can never succeed as configured: missing or rejected key, unknown model."""


class ModelAuthenticationError(ModelConfigurationError):
    """The API key is missing or rejected."""


class UnknownModelError(ModelConfigurationError):
    """The endpoint does not serve the model asked for."""


class ModelRequestError(ModelError):
    """The endpoint refused this request as it is; sending it again gets the same answer."""


class PromptTooLongError(ModelRequestError):
    """The prompt does not fit the model's context window."""


class ToolUse(BaseModel):
    """One tool_use block of an answer: the tool's name and its raw input."""

    name: str
    input: dict[str, Any]


class ToolCall(BaseModel):
    """The model's answer: the tool it called with its raw input, or none if it answered in text.

    `name` and `input` are the first tool call; `calls` holds every tool_use block in order
    (more than one only when `call_tool` was asked with `several=True`).
    """

    name: str | None
    input: dict[str, Any]
    text: str
    usage: TokenUsage
    calls: list[ToolUse] = Field(default_factory=list)


class ModelClient:
    """Asks Claude for a tool answer, making exactly one HTTP request per call."""

    def __init__(
        self, *, api_key: str | None, base_url: str | None = None, timeout: float = 30.0
    ) -> None:
        if not api_key:
            raise ModelAuthenticationError(
                "ANTHROPIC_API_KEY is not set: export it (and ANTHROPIC_BASE_URL for a gateway) "
                "in the environment of the worker"
            )
        self._timeout = timeout
        self._sdk = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelClient:
        return cls(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
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
        several: bool = False,
    ) -> ToolCall:
        """Send one user turn and require the model to answer with one of `tools`.

        With `several`, the model may answer with several tool_use blocks in one message
        (the Messages API's parallel tool use); they come back in order in `ToolCall.calls`.
        """
        extra: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
        try:
            message = await self._sdk.messages.create(
                model=model,
                max_tokens=max_tokens,
                # The system prompt and tools are identical across the steps of a run: cache them.
                system=[{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": user}],
                tools=cast(list[ToolParam], tools),
                tool_choice={"type": "any", "disable_parallel_tool_use": not several},
                **extra,
            )
        except anthropic.APIStatusError as exc:
            raise _classify(exc, model) from exc
        except anthropic.APITimeoutError as exc:
            raise ModelUnavailableError(
                f"the model endpoint did not answer within {self._timeout:g} s "
                "(WAYFINDER_MODEL_TIMEOUT)"
            ) from exc
        except anthropic.APIError as exc:  # connection refused or reset, unreadable response
            raise ModelUnavailableError(f"model endpoint unreachable: {exc.message}") from exc
        return _to_tool_call(message)

    async def aclose(self) -> None:
        await self._sdk.close()


def _classify(exc: anthropic.APIStatusError, model: str) -> ModelError:
    status = exc.status_code
    said = f"HTTP {status}: {_endpoint_message(exc)}"
    if status == 401:
        return ModelAuthenticationError(f"model call rejected, check ANTHROPIC_API_KEY: {said}")
    if status == 403:
        return ModelConfigurationError(f"model call rejected, the key lacks permission: {said}")
    if status == 404:
        return UnknownModelError(
            f"model call rejected, {model!r} is not served at this endpoint "
            f"(set WAYFINDER_MODEL or the run's model_name): {said}"
        )
    if status == 413 or (status == 400 and "too long" in said.lower()):
        return PromptTooLongError(f"model call rejected, the prompt is too long: {said}")
    if status in (408, 409, 429) or status >= 500:
        return ModelUnavailableError(
            f"model call failed: {said}", retry_after=_retry_after(exc.response.headers)
        )
    return ModelRequestError(f"model call rejected: {said}")


def _endpoint_message(exc: anthropic.APIStatusError) -> str:
    """The endpoint's own message (`error.message` of the API's error shape), else the SDK's."""
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return exc.message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return max(0.0, milliseconds / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unparseable: as if the endpoint had given no hint
    return max(0.0, when.timestamp() - time.time())


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _to_tool_call(message: Any) -> ToolCall:
    calls: list[ToolUse] = []
    texts: list[str] = []
    for block in message.content:
        if block.type == "tool_use":
            calls.append(ToolUse(name=block.name, input=dict(block.input or {})))
        elif block.type == "text":
            texts.append(block.text)
    usage = message.usage
    return ToolCall(
        name=calls[0].name if calls else None,
        input=calls[0].input if calls else {},
        calls=calls,
        text="\n".join(texts),
        usage=TokenUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
            cache_creation_input_tokens=getattr(usage, "cache_creation_input_tokens", None) or 0,
            model_calls=1,
        ),
    )
