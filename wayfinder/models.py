"""The public data model: what goes into `run_task` and what comes back.

Field for field this follows the `run_task` reference Wayfinder implements. Everything is
validated here, before any workflow starts, so that a bad request fails in the caller's process
with a message that names the field.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
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

from wayfinder.actions import LoggedAction
from wayfinder.proxy_url import ProxyLocation, check_location
from wayfinder.scripts.model import ElementTarget, PageCheck
from wayfinder.urls import check_http_url


class RunStatus(StrEnum):
    """Where a run is in its life. The last five are terminal: the run will not change again."""

    created = "created"
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    terminated = "terminated"
    timed_out = "timed_out"
    canceled = "canceled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset(
    {
        RunStatus.completed,
        RunStatus.failed,
        RunStatus.terminated,
        RunStatus.timed_out,
        RunStatus.canceled,
    }
)


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


class TokenUsage(BaseModel):
    """Tokens spent on the model, as the Messages API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    model_calls: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            **{name: getattr(self, name) + getattr(other, name) for name in TokenUsage.model_fields}
        )


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
    user_agent: str | None = Field(default=None, min_length=1)
    extra_http_headers: dict[str, str] | None = None
    include_action_history_in_verification: bool | None = None
    max_screenshot_scrolls: int | None = Field(default=None, ge=0, le=20)
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


class FileInfo(BaseModel):
    """A file the browser downloaded during the run, kept in the artifact store."""

    url: str
    """Where to fetch the file: an http(s) link when the artifacts are served, else file://."""
    checksum: str | None = None
    """SHA-256 of the file, in hex."""
    filename: str | None = None
    modified_at: datetime | None = None
    size: int | None = None
    """Bytes."""
    source_url: str | None = None
    """The URL the page downloaded it from."""


class SkippedDownload(BaseModel):
    """A download that was not kept (a limit was hit, or it failed), and why."""

    filename: str
    source_url: str
    reason: str


class RecordingSegment(BaseModel):
    """The recording of one browser of the run (a run that lost its browser has several)."""

    generation: str
    recording_url: str | None = None
    """The video (mp4), when recording is on and the browser's host could encode it."""
    trace_url: str | None = None
    """The Playwright trace (zip) for `playwright show-trace`, when its browser closed cleanly."""


class ScriptRunResponse(BaseModel):
    """The result of running generated code instead of the model (published workflows)."""

    ai_fallback_triggered: bool = False
    """A step no longer matched the page and the agent took it (see `healed_steps`)."""
    script_id: str | None = None
    """The published workflow run (`wpid_...`)."""
    script_revision_id: str | None = None
    """The revision the rerun started from."""
    new_revision_id: str | None = None
    """The revision saved with the repairs, when the agent healed a step."""
    healed_steps: list[int] = Field(default_factory=list)
    """Numbers of the script steps the agent took over."""
    extraction_by_model: bool = False
    """The output was extracted by one model call (no deterministic plan, or its result did
    not validate against the schema)."""


class StepRecord(BaseModel):
    """One AI step, compact enough to keep in workflow history."""

    number: int
    action: LoggedAction
    """The validated action the model chose (see `wayfinder.actions`), or a recovery."""
    element: str | None = None
    """What the action acted on, e.g. "button 'Send'"."""
    url: str
    """The page's URL after the action."""
    target: ElementTarget | None = None
    """How to find the action's element again (locators checked unique when it acted), for
    published scripts. Never holds a typed value; a password field is marked `secret`."""
    sealed_text: str | None = None
    """The value typed into a password field (`target.secret`), encrypted with the workers' key
    (`wayfinder.secrets.SecretBox`); the action's own `text` then shows `SECRET_STAND_IN`."""
    after: PageCheck | None = None
    """What the page showed right after the action (URL, a short text that appeared)."""
    error: str | None = None
    """Why the action failed on the page, if it did (the model sees this next step)."""
    screenshot_key: str | None = None
    snapshot_key: str | None = None
    page_tokens: int = 0
    """Estimated tokens of the page description the model read."""
    page_state: str = ""
    """A short hash of that description: equal on an unchanged page (loop detection uses it).
    The actions of one answer share it, and their `snapshot_key`."""
    reasks: int = 0
    """Invalid answers the model had to correct in this step."""
    usage: TokenUsage = Field(default_factory=TokenUsage)
    duration_ms: int = 0

    @property
    def action_type(self) -> str:
        return self.action.type

    def summary(self) -> str:
        """One line for logs and for the model's history of the run."""
        details = self.action.model_dump(
            mode="json", exclude_none=True, exclude={"type", "element_id"}
        )
        element_id = getattr(self.action, "element_id", None)
        target = f" [{element_id}] {self.element}" if self.element else ""
        args = f" {json.dumps(details, ensure_ascii=False)}" if details else ""
        outcome = f" FAILED: {self.error}" if self.error else ""
        return f"{self.number}. {self.action_type}{target}{args} -> {self.url}{outcome}"


class WebhookDelivery(BaseModel):
    """How the run's webhook went: sent after the run's end, retried on its own schedule."""

    webhook_id: str
    """The `webhook-id` header: the same on every attempt, so a receiver can drop repeats."""
    url: str
    status: Literal["pending", "delivered", "failed"] = "pending"
    attempts: int = 0
    last_status_code: int | None = None
    """The receiver's HTTP status on the last attempt (None when it could not be reached)."""
    error: str | None = None
    finished_at: datetime | None = None


class TaskRunResponse(BaseModel):
    """The state of a run, as `run_task` and `get_run` return it."""

    run_id: str
    status: RunStatus
    output: Any = None
    """The task's answer: shaped by `data_extraction_schema` when given (object or array)."""
    downloaded_files: list[FileInfo] | None = None
    skipped_downloads: list[SkippedDownload] | None = None
    """Downloads that were not kept, with the reason (a size or count limit, a failure)."""
    recording_url: str | None = None
    """Video of the run (mp4); with recoveries, of the browser it ended in (see `recordings`)."""
    trace_url: str | None = None
    """Playwright trace of the run (zip), for `playwright show-trace`; as `recording_url`."""
    recordings: list[RecordingSegment] | None = None
    """One entry per browser the run used, in order (more than one after a recovery)."""
    screenshot_urls: list[str] | None = None
    """Final screenshots, most recent first."""
    failure_reason: str | None = None
    app_url: str | None = None
    step_count: int | None = None
    script_run: ScriptRunResponse | None = None
    workflow_id: str | None = None
    """The published workflow (`wpid_...`) this run published (`publish_workflow=True`) or
    reran."""
    created_at: datetime
    finished_at: datetime | None = None
    title: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    """Model tokens spent by the whole run (verification and extraction included)."""
    recoveries: int = 0
    """Times the run lost its browser (a worker or Chromium died) and carried on in a new one
    rebuilt from its last checkpoint. Each has an entry of type `recover` in the step log."""
    webhook_delivery: WebhookDelivery | None = None
    """With a `webhook_url`: `pending` as soon as the run ends, then its outcome."""


class BrowserSessionStatus(StrEnum):
    """Where a browser session is in its life. The last three are final."""

    created = "created"
    """Its browser is being launched."""
    running = "running"
    """Its browser is open: runs given its id run in it, one at a time."""
    closed = "closed"
    timed_out = "timed_out"
    failed = "failed"
    """Its browser could not be launched or rebuilt."""

    @property
    def is_final(self) -> bool:
        return self in (
            BrowserSessionStatus.closed,
            BrowserSessionStatus.timed_out,
            BrowserSessionStatus.failed,
        )


class BrowserSessionResponse(BaseModel):
    """The state of a browser session, as `create_browser_session` and friends return it."""

    browser_session_id: str
    status: BrowserSessionStatus
    timeout: float
    """Minutes from the session's start until it closes by itself."""
    created_at: datetime
    started_at: datetime | None = None
    """When its browser was open."""
    closed_at: datetime | None = None
    runs: list[str] = Field(default_factory=list)
    """Ids of the runs given this session, in the order they asked for its browser."""
    current_run_id: str | None = None
    """The run using the browser now; the others in `runs` have finished or wait their turn."""
    rebuilds: int = 0
    """Times the browser was lost (its worker or Chromium died) and rebuilt from a checkpoint."""
    failure_reason: str | None = None
