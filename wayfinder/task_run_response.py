"""`TaskRunResponse`: the state of a run as `run_task` and `get_run` return it, and its parts
(`RunStatus`, downloaded files, recordings, the code rerun's report, the webhook's delivery)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from wayfinder.usage import TokenUsage


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
