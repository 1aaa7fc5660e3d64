"""What the activities of one worker process share: its browsers, model client and artifacts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from playwright.async_api import Error as PlaywrightError

from wayfinder.artifacts import ArtifactStore
from wayfinder.browser.host import BrowserHost, RecordingOptions
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot
from wayfinder.llm.client import ModelClient
from wayfinder.llm.decisions import ModelSettings
from wayfinder.models import ModelOverride
from wayfinder.settings import Settings


@dataclass
class ActivityRuntime:
    """Built once per worker process by the plugin; activities are its bound methods."""

    settings: Settings
    host: BrowserHost
    artifacts: ArtifactStore
    host_queue: str
    _model_client: ModelClient | None = field(default=None, init=False)

    @classmethod
    def create(cls, settings: Settings, host_queue: str) -> ActivityRuntime:
        artifacts = ArtifactStore(settings.artifacts, settings.artifact_base_url)
        host = BrowserHost(
            download_root=artifacts.root / "downloads",
            recording_root=artifacts.root / ".recording",
            recording=RecordingOptions(
                video=settings.record_video,
                trace=settings.record_trace,
                fps=settings.video_fps,
                max_downloads=settings.max_downloads,
                max_download_bytes=settings.max_download_bytes,
            ),
            chromium_path=settings.chromium_path,
            headless=settings.headless,
            max_contexts=settings.max_concurrent_runs,
        )
        return cls(settings=settings, host=host, artifacts=artifacts, host_queue=host_queue)

    def model_client(self) -> ModelClient:
        """The shared client, made on first use so a worker without a key can still start."""
        if self._model_client is None:
            self._model_client = ModelClient.from_settings(self.settings)
        return self._model_client

    def model_settings(self, override: ModelOverride | None) -> ModelSettings:
        chosen = ModelSettings(name=self.settings.model)
        if override is None:
            return chosen
        return chosen.model_copy(
            update=override.model_dump(exclude_none=True, exclude={"model_name"})
            | ({"name": override.model_name} if override.model_name else {})
        )

    async def snapshot(self, run_id: str, token_budget: int) -> PageSnapshot:
        """A fresh description of the page the run is looking at."""
        return await take_snapshot(self.host.get(run_id).page, token_budget=token_budget)

    @contextlib.contextmanager
    def browser_guard(self, run_id: str) -> Iterator[None]:
        """Turn a Playwright error caused by a dead browser into `BrowserGoneError`.

        When Chromium or the tab dies mid-activity, Playwright raises "Target closed" from
        whatever call was in flight; what matters to the workflow is that the browser is
        gone, so that it recovers the run instead of retrying against a corpse.
        """
        try:
            yield
        except PlaywrightError:
            self.host.get(run_id)  # raises BrowserGoneError when the browser is the cause
            raise

    async def aclose(self) -> None:
        await self.host.aclose()
        if self._model_client is not None:
            await self._model_client.aclose()
            self._model_client = None


class ActivityGroup:
    """A set of activities: bound methods sharing this process's runtime."""

    def __init__(self, runtime: ActivityRuntime) -> None:
        self._rt = runtime
