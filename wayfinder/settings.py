"""Every setting Wayfinder reads from the environment, in one place.

Nothing else in the package reads `os.environ`: a setting is either passed explicitly or comes
from here, so a deployment can see everything it can tune by reading this one class.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The model a run uses unless the run or WAYFINDER_MODEL says otherwise."""

DEFAULT_TASK_QUEUE = "wayfinder"


class Settings(BaseSettings):
    """Configuration read from `WAYFINDER_*` and the standard Temporal/Anthropic variables."""

    model_config = SettingsConfigDict(env_prefix="WAYFINDER_", extra="ignore")

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
    record_trace: bool = True
    """Keep a Playwright trace of each run (`trace_url`), for `playwright show-trace`."""
    video_fps: float = Field(default=5.0, gt=0, le=30)
    """At most this many screencast frames a second are kept for the video."""
    max_downloads: int = Field(default=20, ge=0)
    """Files one run's browser may download; later ones are cancelled and listed with why."""
    max_download_bytes: int = Field(default=100 * 1024 * 1024, ge=0)
    """Size above which a downloaded file is not kept (it is deleted and listed with why)."""
    chromium_path: str | None = None
    headless: bool = True
    ui_url: str | None = None
    """Base URL of the Temporal UI, used to build `app_url` (set by `wayfinder dev`)."""
    max_concurrent_runs: int = Field(default=8, ge=1)
    """Browser activities one worker process runs at once (each run has its own context)."""
    model_timeout: float = Field(default=30.0, gt=0)
    """Seconds one model request may take (one HTTP attempt: the SDK itself never retries)."""
    model_retry_window: float = Field(default=60.0, ge=0)
    """Seconds an activity keeps retrying a model endpoint that is unavailable (429, 5xx,
    timeouts), counted from its first attempt; after that the run fails with the endpoint's
    message."""

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
