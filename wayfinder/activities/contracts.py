"""Names and payloads of Wayfinder's activities: the boundary between workflow and worker.

Workflows call activities by these names, so the workflow sandbox never imports Playwright or the
anthropic SDK. Payloads are small pydantic models; page data stays in the artifact store.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wayfinder.browser.checkpoint import Checkpoint
from wayfinder.feedback import Feedback, NotRun, PastStep
from wayfinder.models import (
    FileInfo,
    ModelOverride,
    RecordingSegment,
    SkippedDownload,
    StepRecord,
    TokenUsage,
)
from wayfinder.proxy_url import ProxyLocation

LAUNCH_BROWSER = "launch_browser"
TAKE_STEP = "take_step"
VERIFY_COMPLETION = "verify_completion"
EXTRACT_OUTPUT = "extract_output"
CLOSE_BROWSER = "close_browser"
HOLD_BROWSER = "hold_browser"
RUN_IS_OPEN = "run_is_open"

HOST_ACTIVITIES = (TAKE_STEP, VERIFY_COMPLETION, EXTRACT_OUTPUT, CLOSE_BROWSER, HOLD_BROWSER)
"""Activities that need the run's live browser, so they go to the host's own queue."""

LAUNCH_QUEUE_SUFFIX = "-launch"


def launch_queue(task_queue: str) -> str:
    """The queue `launch_browser` is scheduled on for runs whose workflow is on `task_queue`.

    Launches have a queue of their own so that a worker polls them only while its host has
    room for one more browser context; a team's own activities on `task_queue` are not held up.
    """
    return f"{task_queue}{LAUNCH_QUEUE_SUFFIX}"


def is_launch_queue(task_queue: str) -> bool:
    return task_queue.endswith(LAUNCH_QUEUE_SUFFIX)


class BrowserLease(BaseModel):
    """Where a run's browser lives: the task queue of the one worker process that holds it."""

    run_id: str
    host_queue: str
    generation: str = ""
    """Which launch of the run this is (a recovery launches a new generation)."""


class LaunchBrowserInput(BaseModel):
    run_id: str
    url: str | None = None
    browser_address: str | None = None
    """A browser started elsewhere to attach to over CDP, instead of this host's Chromium."""
    user_agent: str | None = None
    extra_http_headers: dict[str, str] | None = None
    proxy: ProxyLocation | None = None
    """The run's `proxy_location` as history may hold it: a name or a sealed URL, resolved by
    the worker (`wayfinder.proxies.resolve_proxy`)."""
    checkpoint: Checkpoint | None = None
    """Rebuild the run's browser from this checkpoint instead of opening `url` (recovery)."""
    generation: str = ""
    """Set by the workflow per launch; a retry of the same launch keeps it."""
    reuse_only: bool = False
    """A run in a browser session: only navigate the session's live browser of `generation` to
    `url`; never open a context, never close one (a failed navigation leaves it open)."""


class StepInput(BaseModel):
    lease: BrowserLease
    number: int
    run_id: str | None = None
    """The run's own id, under which its step artifacts are kept; the lease's is the browser's,
    which in a browser session is the session's, shared by all its runs."""
    task: str
    history: list[PastStep] = Field(default_factory=list)
    """The latest earlier steps, oldest first (the prompt words them: `prompts.history_lines`)."""
    earlier: int = 0
    """Steps before `history`, counted but not listed."""
    feedback: Feedback = Field(default_factory=Feedback)
    """What the model should know before acting: a refuted completion, a loop, actions of the
    last answer that did not run."""
    max_actions: int | None = None
    """Actions this step may still run (what is left of the run's max_steps)."""
    model: ModelOverride | None = None
    error_codes: dict[str, str] | None = None
    extraction_follows: bool = False
    verification_code: bool = False
    """The run can get a 2FA code: `enter_verification_code` is offered."""
    recovered_from: str | None = None
    """Why the browser was rebuilt before this step (the previous one was interrupted)."""
    interrupted: str | None = None
    """What the interrupted step was doing when its browser was lost, if its host said."""


class StepResult(BaseModel):
    """A step's records (one per action that ran, in order) and the checkpoint right after."""

    records: list[StepRecord]
    not_run: NotRun | None = None
    """Actions of the answer that did not run, and why (never recorded as steps)."""
    checkpoint: Checkpoint | None = None
    """None when the page could not be read back (the previous checkpoint still holds)."""


class VerifyInput(BaseModel):
    lease: BrowserLease
    task: str
    output: Any = None
    summary: str = ""
    history: list[PastStep] | None = None
    """Given only when the run asks for the action history in verification."""
    model: ModelOverride | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """The run's data_extraction_schema: the same look at the page also extracts the data."""

    model_config = {"populate_by_name": True}


class VerifyOutput(BaseModel):
    verified: bool
    reason: str
    data: Any = None
    """The extracted data, when verified and the input had a schema."""
    usage: TokenUsage


class ExtractInput(BaseModel):
    """Extraction alone, with no claim to check (a code rerun's last resort)."""

    lease: BrowserLease
    task: str
    schema_: dict[str, Any] = Field(alias="schema")
    model: ModelOverride | None = None

    model_config = {"populate_by_name": True}


class ExtractOutput(BaseModel):
    data: Any
    usage: TokenUsage


class CloseBrowserInput(BaseModel):
    lease: BrowserLease
    screenshot_scrolls: int = 0
    """Extra screenshots taken while scrolling down, for lazily loaded content."""
    final: bool = True
    """False when a recovery discards a lost browser: no final screenshots then."""
    keep_open: bool = False
    """A run in a browser session ending: its final screenshots only; the browser stays open
    for the session's next run (the session closes it, with the downloads)."""
    run_id: str | None = None
    """The run whose final screenshots these are, when not the lease's (a session's) id."""


class HoldBrowserInput(BaseModel):
    """A browser session's hold on its browser: heartbeats while the context lives."""

    lease: BrowserLease


class RunIsOpenInput(BaseModel):
    """Whether the run holding a session's browser still runs (it may have been terminated)."""

    run_id: str


class CloseBrowserOutput(BaseModel):
    screenshot_urls: list[str] = Field(default_factory=list)
    """Most recent first."""
    downloaded_files: list[FileInfo] = Field(default_factory=list)
    skipped_downloads: list[SkippedDownload] = Field(default_factory=list)
    recording: RecordingSegment | None = None
    """The browser's (or, closing a session's run, that run's) video and trace."""


__all__ = [
    "CLOSE_BROWSER",
    "EXTRACT_OUTPUT",
    "HOLD_BROWSER",
    "HOST_ACTIVITIES",
    "LAUNCH_BROWSER",
    "LAUNCH_QUEUE_SUFFIX",
    "RUN_IS_OPEN",
    "TAKE_STEP",
    "VERIFY_COMPLETION",
    "BrowserLease",
    "Checkpoint",
    "CloseBrowserInput",
    "CloseBrowserOutput",
    "ExtractInput",
    "ExtractOutput",
    "HoldBrowserInput",
    "LaunchBrowserInput",
    "RunIsOpenInput",
    "StepInput",
    "StepRecord",
    "StepResult",
    "VerifyInput",
    "VerifyOutput",
    "is_launch_queue",
    "launch_queue",
]
