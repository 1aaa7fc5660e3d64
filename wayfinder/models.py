"""The public data model, in one import: what goes into `run_task` and what comes back.

Each kind lives in its own module; this one gathers them, so that `from wayfinder.models
import ...` stays the one place callers (and the rest of Wayfinder) import them from:

* `wayfinder.task_run_request`: `TaskRunRequest` (every `run_task` parameter, validated),
  `RunEngine`, `ModelOverride`;
* `wayfinder.task_run_response`: `TaskRunResponse`, `RunStatus` and the response's parts;
* `wayfinder.step_record`: `StepRecord`, one entry of the step log;
* `wayfinder.usage`: `TokenUsage`;
* `wayfinder.browser_session_response`: `BrowserSessionResponse`, `BrowserSessionStatus`.
"""

from __future__ import annotations

from wayfinder.browser_session_response import BrowserSessionResponse, BrowserSessionStatus
from wayfinder.step_record import StepRecord
from wayfinder.task_run_request import (
    SUPPORTED_ENGINES,
    ModelOverride,
    RunEngine,
    TaskRunRequest,
    normalise_json_schema,
)
from wayfinder.task_run_response import (
    FileInfo,
    RecordingSegment,
    RunStatus,
    ScriptRunResponse,
    SkippedDownload,
    TaskRunResponse,
    WebhookDelivery,
)
from wayfinder.usage import TokenUsage

__all__ = [
    "SUPPORTED_ENGINES",
    "BrowserSessionResponse",
    "BrowserSessionStatus",
    "FileInfo",
    "ModelOverride",
    "RecordingSegment",
    "RunEngine",
    "RunStatus",
    "ScriptRunResponse",
    "SkippedDownload",
    "StepRecord",
    "TaskRunRequest",
    "TaskRunResponse",
    "TokenUsage",
    "WebhookDelivery",
    "normalise_json_schema",
]
