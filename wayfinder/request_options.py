"""`request_options`: per-call deadline, retries and metadata of the client's calls to Temporal.

The reference's options are for an HTTP API; Wayfinder's client talks gRPC to Temporal, so:
- `timeout_in_seconds` is the deadline of each RPC the call makes (a wait for a run's result
  is not cut by it: that long poll is bounded by `run_task(timeout=...)`);
- `max_retries` is how often the Temporal SDK retries an RPC that failed in a retryable way
  (unavailable server, transport errors), with its usual backoff;
- `additional_headers` go as gRPC metadata with each RPC (a proxy or an auth layer in front of
  Temporal can read them);
- `additional_query_parameters` and `additional_body_parameters` have no gRPC meaning and are
  refused.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import weakref
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import temporalio.client
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from temporalio.service import RetryConfig, RPCError, RPCStatusCode, ServiceClient

from wayfinder.errors import WayfinderError

_METADATA_KEY = re.compile(r"[0-9a-z_.-]+")
"""gRPC metadata keys: lowercase ASCII letters, digits, `_ . -` (HTTP/2 lowercases them)."""


class RequestOptions(BaseModel):
    """Per-call options for the calls this client makes to Temporal."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    timeout_in_seconds: float | None = Field(default=None, gt=0)
    """Deadline of each Temporal RPC the call makes."""
    max_retries: int | None = Field(default=None, ge=0, le=100)
    """Retries of an RPC that failed in a retryable way (0: try once); the SDK's default
    (up to 10 within 10 s) when unset."""
    additional_headers: dict[str, str] | None = None
    """Sent as gRPC metadata with each RPC (an auth proxy in front of Temporal can read them)."""
    additional_query_parameters: dict[str, Any] | None = None
    """Refused: calls to Temporal are gRPC, which has no query string."""
    additional_body_parameters: dict[str, Any] | None = None
    """Refused: gRPC requests are typed messages, with no room for extra fields."""

    @field_validator("additional_headers")
    @classmethod
    def _metadata_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, header in (value or {}).items():
            key = name.lower()
            if not _METADATA_KEY.fullmatch(key) or key.startswith("grpc-"):
                raise ValueError(
                    f"request_options.additional_headers: {name!r} cannot be a gRPC metadata "
                    "key (letters, digits, '_', '.', '-'; not starting with 'grpc-')"
                )
            if not header.isascii() or any(ord(c) < 0x20 for c in header):
                raise ValueError(
                    f"request_options.additional_headers[{name!r}] must be printable ASCII"
                )
        return value

    @model_validator(mode="after")
    def _no_http_only_options(self) -> RequestOptions:
        for name in ("additional_query_parameters", "additional_body_parameters"):
            if getattr(self, name) is not None:
                raise ValueError(
                    f"request_options.{name} has no meaning in Wayfinder: its calls go to "
                    "Temporal over gRPC, which has no query string or free-form body; leave it "
                    "unset (additional_headers are sent as gRPC metadata)"
                )
        return self


Options = RequestOptions | dict[str, Any] | None


class RequestTimeoutError(WayfinderError, TimeoutError):
    """Temporal did not answer an RPC within `request_options.timeout_in_seconds`."""


class _Call(BaseModel):
    """Validates a call's `request_options` so that its errors say `request_options.<field>`."""

    model_config = ConfigDict(title="request_options", hide_input_in_errors=True)

    request_options: RequestOptions


def parse(options: Options) -> RequestOptions | None:
    if options is None or isinstance(options, RequestOptions):
        return options
    return _Call.model_validate({"request_options": options}).request_options


def rpc_options(options: Options) -> dict[str, Any]:
    """The `rpc_timeout` / `rpc_metadata` keyword arguments of the SDK's calls."""
    parsed = parse(options)
    if parsed is None:
        return {}
    rpc: dict[str, Any] = {}
    if parsed.timeout_in_seconds is not None:
        rpc["rpc_timeout"] = timedelta(seconds=parsed.timeout_in_seconds)
    if parsed.additional_headers:
        rpc["rpc_metadata"] = {k.lower(): v for k, v in parsed.additional_headers.items()}
    return rpc


def _retry_config(max_retries: int) -> RetryConfig:
    # The SDK's count includes the first attempt, and 0 there means "its default".
    return RetryConfig(max_retries=max_retries + 1, max_elapsed_time_millis=None)


_with_retries: weakref.WeakKeyDictionary[
    temporalio.client.Client, dict[int, temporalio.client.Client]
] = weakref.WeakKeyDictionary()


async def client_with_retries(
    base: temporalio.client.Client, max_retries: int
) -> temporalio.client.Client:
    """`base` with its RPCs retried `max_retries` times: a second connection with that retry
    policy (the SDK sets retries per connection), made once per count and kept."""
    clients = _with_retries.setdefault(base, {})
    if max_retries not in clients:
        config = dataclasses.replace(
            base.service_client.config, retry_config=_retry_config(max_retries), lazy=True
        )
        service = await ServiceClient.connect(config)
        settings = base.config()
        clients[max_retries] = temporalio.client.Client(
            service,
            namespace=base.namespace,
            data_converter=base.data_converter,
            interceptors=settings["interceptors"],
            default_workflow_query_reject_condition=settings[
                "default_workflow_query_reject_condition"
            ],
            header_codec_behavior=settings["header_codec_behavior"],
        )
    return clients[max_retries]


_call_temporal: ContextVar[temporalio.client.Client | None] = ContextVar(
    "wayfinder_call_temporal", default=None
)


class _HasTemporal(Protocol):
    temporal: temporalio.client.Client


S = TypeVar("S", bound=_HasTemporal)
P = ParamSpec("P")
R = TypeVar("R")


def call_temporal(owner: _HasTemporal) -> temporalio.client.Client:
    """The Temporal client of the call in progress: `owner.temporal`, or its twin with the
    call's `max_retries`."""
    return _call_temporal.get() or owner.temporal


def applies_request_options(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Make a client method honour its `request_options` keyword: retries via the client that
    `call_temporal` returns inside it, and a missed deadline as `RequestTimeoutError`."""

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        options = parse(kwargs.get("request_options"))  # type: ignore[arg-type]
        temporal = None
        if options is not None and options.max_retries is not None:
            temporal = await client_with_retries(self.temporal, options.max_retries)
        token = _call_temporal.set(temporal)
        try:
            return await method(self, *args, **kwargs)
        except RPCError as exc:
            if options is not None and options.timeout_in_seconds is not None and _is_deadline(exc):
                raise RequestTimeoutError(
                    f"Temporal did not answer within request_options.timeout_in_seconds="
                    f"{options.timeout_in_seconds:g}s ({exc.message}); raise it or leave it unset"
                ) from exc
            raise
        finally:
            _call_temporal.reset(token)

    return wrapper


def _is_deadline(error: RPCError) -> bool:
    # The SDK reports a deadline passed before the server answered as CANCELLED "Timeout
    # expired"; the server itself says DEADLINE_EXCEEDED.
    return error.status == RPCStatusCode.DEADLINE_EXCEEDED or (
        error.status == RPCStatusCode.CANCELLED and "timeout" in error.message.lower()
    )
