"""Every setting Wayfinder reads from the environment, in one place.

Nothing else in the package reads `os.environ`: a setting is either passed explicitly or comes
from here, so a deployment can see everything it can tune by reading this one class.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wayfinder.proxy_url import check_proxy_url

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The model a run uses unless the run or WAYFINDER_MODEL says otherwise."""

DEFAULT_TASK_QUEUE = "wayfinder"


class Settings(BaseSettings):
    """Configuration read from `WAYFINDER_*` and the standard Temporal/Anthropic variables."""

    # Values include keys and proxy passwords: errors name the variable, never echo its value.
    model_config = SettingsConfigDict(
        env_prefix="WAYFINDER_", extra="ignore", hide_input_in_errors=True
    )

    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "WAYFINDER_TEMPORAL_ADDRESS"),
    )
    temporal_namespace: str = Field(
        default="default",
        validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "WAYFINDER_TEMPORAL_NAMESPACE"),
    )
    anthropic_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "WAYFINDER_ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "WAYFINDER_ANTHROPIC_BASE_URL"),
    )
    model: str = DEFAULT_MODEL
    verify_model: str | None = None
    """The model that checks a completion claim (and, with a data_extraction_schema, extracts
    the data in the same call): a cheaper one than the acting model saves cost on every
    completion. Unset, verification uses the run's model. A run's `model` override decides the
    acting model only; its other parameters (temperature, max_tokens) apply to both."""
    task_queue: str = DEFAULT_TASK_QUEUE
    home: Path = Field(default_factory=lambda: Path.home() / ".wayfinder")
    """Where the embedded dev server keeps its database and where artifacts go by default."""
    artifact_dir: Path | None = None
    artifact_base_url: str | None = None
    """The http(s) URL at which `artifact_dir` is served (by `wayfinder artifacts` or any web
    server): the links a response carries start with it. `wayfinder dev` and the background
    host set it themselves; without one, links are `file://` paths on the worker's disk."""
    artifact_port: int = Field(default=8234, ge=0, le=65535)
    """Where `wayfinder dev` (and the background host) serve the artifacts, on 127.0.0.1; a
    busy port falls back to a free one."""
    record_video: bool = True
    """Keep a video of each run (`recording_url`), from Chromium's screencast frames."""
    record_trace: bool = False
    """Keep a Playwright trace of each run (`trace_url`), for `playwright show-trace`. Off
    unless asked for, as in Playwright: tracing snapshots the DOM around every call made on the
    page and runs a second screencast, about a quarter of each step's time (see
    docs/recordings.md); the video, the step screenshots and page descriptions are kept anyway."""
    video_fps: float = Field(default=5.0, gt=0, le=30)
    """At most this many screencast frames a second are kept for the video."""
    max_downloads: int = Field(default=20, ge=0)
    """Files one run's browser may download; later ones are cancelled and listed with why."""
    max_download_bytes: int = Field(default=100 * 1024 * 1024, ge=0)
    """Size above which a downloaded file is not kept (it is deleted and listed with why)."""
    chromium_path: str | None = None
    headless: bool = True
    ui_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("WAYFINDER_TEMPORAL_UI_URL", "WAYFINDER_UI_URL"),
    )
    """Base URL of the Temporal UI, used to build `app_url` (set by `wayfinder dev`)."""
    max_concurrent_runs: int = Field(default=8, ge=1)
    """Browser activities one worker process runs at once (each run has its own context)."""
    model_timeout: float = Field(default=30.0, gt=0)
    """Seconds one model request may take (one HTTP attempt: the SDK itself never retries)."""
    model_retry_window: float = Field(default=60.0, ge=0)
    """Seconds an activity keeps retrying a model endpoint that is unavailable (429, 5xx,
    timeouts), counted from its first attempt; after that the run fails with the endpoint's
    message."""
    webhook_secret: str | None = None
    """Signing key of webhooks and `totp_url` requests, in the Standard Webhooks form
    `whsec_<base64>`; receivers verify with the same value."""
    webhook_retry_window: float = Field(default=3600.0, ge=0)
    """Seconds a webhook delivery keeps retrying a receiver that is down or answers 408, 429 or
    5xx, counted from its first attempt."""
    totp_wait: float = Field(default=300.0, gt=0)
    """Seconds a run waits for a 2FA code (from `totp_url` or `send_totp_code`) before it fails."""
    secret_key: str | None = None
    """Fernet key (urlsafe base64, 32 bytes) that encrypts a rerun's secret parameters in
    workflow history. Every client and worker of a deployment must share it; unset, one is
    generated once and kept in `home/secret.key` (enough when they all share one home, as with
    the embedded server). See docs/publishing.md."""
    proxies: dict[str, str] = Field(default_factory=dict)
    """WAYFINDER_PROXIES: a JSON object of `proxy_location` name to proxy URL, e.g.
    `{"RESIDENTIAL_US": "http://user:pass@proxy.internal:8080"}`. Workers resolve the names
    (so credentials never travel in workflow history); clients check them before a run
    starts. See docs/proxies.md."""

    @field_validator("proxies")
    @classmethod
    def _proxy_names(cls, value: dict[str, str]) -> dict[str, str]:
        names = {name.strip().upper(): url for name, url in value.items()}
        if "NONE" in names:
            raise ValueError("WAYFINDER_PROXIES cannot map NONE: it means no proxy")
        for name, url in names.items():
            check_proxy_url(url, f"WAYFINDER_PROXIES[{name!r}]")
        return names

    @field_validator("artifact_base_url")
    @classmethod
    def _http_base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                f"WAYFINDER_ARTIFACT_BASE_URL must be an http(s) URL, not {value!r}: the URL at "
                "which `wayfinder artifacts` (or another web server) serves the artifact dir"
            )
        return value.rstrip("/") if value else value

    @property
    def artifacts(self) -> Path:
        return self.artifact_dir or self.home / "artifacts"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
