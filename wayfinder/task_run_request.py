"""`TaskRunRequest`: every parameter of `run_task`, validated before any workflow starts.

Field for field this follows the `run_task` reference Wayfinder implements, so that a bad
request fails in the caller's process with a message that names the field. The engine and
model choices it takes (`RunEngine`, `ModelOverride`) are here too.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

import jsonschema
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wayfinder.proxy_url import ProxyLocation, check_location
from wayfinder.urls import check_http_url

UserAgent = Annotated[str, Field(min_length=1)]
ScreenshotScrolls = Annotated[int, Field(ge=0, le=20)]
"""Browser options' own limits, shared with a rerun's (`wayfinder.browser_options`)."""


class RunEngine(StrEnum):
    """The AI engine of a run. Both Skyvern engines run Wayfinder's element-tree loop for now."""

    skyvern_v1 = "skyvern_v1"
    skyvern_v2 = "skyvern_v2"
    openai_cua = "openai_cua"
    anthropic_cua = "anthropic_cua"
    ui_tars = "ui_tars"

    @classmethod
    def _missing_(cls, value: object) -> RunEngine | None:
        # The reference's REST API spells them "skyvern-1.0" / "skyvern-2.0".
        aliases = {"skyvern-1.0": cls.skyvern_v1, "skyvern-2.0": cls.skyvern_v2}
        return aliases.get(str(value).strip().lower()) if isinstance(value, str) else None


SUPPORTED_ENGINES = frozenset({RunEngine.skyvern_v1, RunEngine.skyvern_v2})


class ModelOverride(BaseModel):
    """Per-run choice of the model: `run_task(model={"model_name": "claude-..."})`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model_name: str | None = Field(default=None, min_length=1, alias="name")
    max_tokens: int | None = Field(default=None, ge=256, le=64_000)
    temperature: float | None = Field(default=None, ge=0, le=1)


def _check_cdp_address(value: str) -> str:
    """`value` stripped if it can address a browser over CDP: `http(s)://host:port` (whose
    `/json/version` names the WebSocket) or the `ws(s)://` WebSocket URL itself."""
    address = value.strip()
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        raise ValueError(
            "browser_address must be a browser's CDP address: http://host:port or its ws:// "
            f"URL (as printed by --remote-debugging-port), got {value!r}"
        )
    try:
        host, _ = parts.hostname, parts.port  # urlsplit checks the port only when asked
    except ValueError:
        raise ValueError(f"browser_address has an invalid port: {value!r}") from None
    if not host:
        raise ValueError(f"browser_address has no host: {value!r}")
    return address


class TaskRunRequest(BaseModel):
    """One task: every parameter of `run_task`, validated before anything starts.

    A parameter Wayfinder cannot honour yet is rejected with an error naming it rather than
    silently ignored: a run that quietly skips a webhook or a proxy is worse than one that never
    started.
    """

    # Inputs may hold credentials (proxy URLs, headers): errors name the field, not the value.
    model_config = ConfigDict(extra="forbid", use_enum_values=False, hide_input_in_errors=True)

    prompt: str = Field(min_length=1)
    url: str | None = None
    engine: RunEngine = RunEngine.skyvern_v2
    wait_for_completion: bool = False
    timeout: float = Field(default=1800, gt=0)
    max_steps: int | None = Field(default=None, ge=1)
    data_extraction_schema: dict[str, Any] | None = None
    proxy_location: ProxyLocation | None = None
    """A location name mapped in WAYFINDER_PROXIES, or a `ProxyURL`; 'NONE' becomes None."""
    browser_session_id: str | None = None
    publish_workflow: bool = False
    webhook_url: str | None = None
    error_code_mapping: dict[str, str] | None = None
    totp_identifier: str | None = None
    totp_url: str | None = None
    title: str | None = Field(default=None, max_length=400)
    model: ModelOverride | None = None
    user_agent: UserAgent | None = None
    extra_http_headers: dict[str, str] | None = None
    include_action_history_in_verification: bool | None = None
    max_screenshot_scrolls: ScreenshotScrolls | None = None
    browser_address: str | None = None
    run_with: str | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @field_validator("engine")
    @classmethod
    def _engine_supported(cls, value: RunEngine) -> RunEngine:
        if value not in SUPPORTED_ENGINES:
            raise ValueError(
                f"engine {value.value!r} is not supported yet; use 'skyvern_v2' (default) or "
                "'skyvern_v1'"
            )
        return value

    @field_validator("proxy_location", mode="before")
    @classmethod
    def _proxy_location(cls, value: Any) -> Any:
        return check_location(value)

    @field_validator("data_extraction_schema", mode="before")
    @classmethod
    def _schema_is_json_schema(cls, value: Any) -> Any:
        return None if value is None else normalise_json_schema(value)

    @field_validator("extra_http_headers")
    @classmethod
    def _headers_are_valid(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name in value or {}:
            if not name or any(c in name for c in " :\r\n\t"):
                raise ValueError(f"invalid HTTP header name {name!r}")
        return value

    @field_validator("error_code_mapping")
    @classmethod
    def _codes_not_blank(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for code, condition in (value or {}).items():
            if not code.strip() or not condition.strip():
                raise ValueError("error codes and their descriptions must not be blank")
        return value

    @field_validator("webhook_url", "totp_url")
    @classmethod
    def _hook_is_http(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return check_http_url(value)
        except ValueError as exc:
            raise ValueError(str(exc).replace("url ", f"{info.field_name} ", 1)) from None

    @field_validator("totp_identifier")
    @classmethod
    def _identifier_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("totp_identifier must not be blank")
        return None if value is None else value.strip()

    @field_validator("browser_address")
    @classmethod
    def _browser_address_is_cdp(cls, value: str | None) -> str | None:
        return None if value is None else _check_cdp_address(value)

    @field_validator("run_with")
    @classmethod
    def _run_with_known(cls, value: str | None) -> str | None:
        if value not in (None, "agent", "code"):
            raise ValueError(
                f"run_with must be 'code' (rerun the published workflow of this prompt and URL, "
                f"or run the agent and publish) or 'agent', not {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> TaskRunRequest:
        if (self.publish_workflow or self.run_with == "code") and self.url is None:
            raise ValueError(
                "publish_workflow and run_with='code' need a url: a published workflow starts "
                "by opening it (its `url` parameter)"
            )
        if self.browser_session_id is not None:
            # The session's browser is open already: what shapes a new context cannot apply.
            shaping = {
                "browser_address": self.browser_address is not None,
                "user_agent": self.user_agent is not None,
                "extra_http_headers": self.extra_http_headers is not None,
                "proxy_location": self.proxy_location is not None,
            }
            clashing = [name for name, is_set in shaping.items() if is_set]
            if clashing:
                raise ValueError(
                    f"browser_session_id cannot go with {', '.join(clashing)}: a run in a "
                    "browser session uses the session's browser as it is; leave "
                    f"{'it' if len(clashing) == 1 else 'them'} unset"
                )
        return self

    @property
    def model_name(self) -> str | None:
        return self.model.model_name if self.model else None


def normalise_json_schema(value: Any) -> dict[str, Any]:
    """Accept a JSON Schema as a dict, a JSON string of one, or a pydantic model class."""
    if isinstance(value, type) and issubclass(value, BaseModel):
        value = value.model_json_schema()
    elif isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(
                "data_extraction_schema must be a JSON Schema (dict), a JSON string of one or a "
                f"pydantic model class; the string given is not JSON ({exc.msg} at char {exc.pos})"
            ) from None
    if not isinstance(value, dict):
        raise ValueError(
            f"data_extraction_schema must be a JSON Schema object, not {type(value).__name__}"
        )
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ValueError(
            f"data_extraction_schema is not a valid JSON Schema at {where}: {exc.message}"
        ) from None
    return value
