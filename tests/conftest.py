"""Session-wide real parts: one Temporal dev server, one Wayfinder worker with one Chromium,
the fixture sites and the fake Messages API, all on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import SandboxImportNotificationPolicy

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.proxy_server import PASSWORD, ProxyServer
from tests.fixtures.sites import SiteServer
from tests.fixtures.webhook_receiver import WEBHOOK_SECRET
from tests.fixtures.worker_process import WorkerProcess
from wayfinder import Client, WayfinderPlugin
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.devserver import DevServer
from wayfinder.settings import Settings
from wayfinder.worker import build_worker


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the page-model tests, launched as the worker launches its own."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=find_chromium(None), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh context (cookies, storage, tabs) per test."""
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture(scope="session")
def fake_model() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture(scope="session")
def sites() -> Iterator[SiteServer]:
    with SiteServer() as server:
        yield server


@pytest.fixture(scope="session")
async def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServer]:
    db = tmp_path_factory.mktemp("temporal") / "temporal.db"
    async with DevServer(db_file=db) as server:
        yield server


@pytest.fixture(scope="session")
def settings(
    tmp_path_factory: pytest.TempPathFactory,
    temporal_server: DevServer,
    fake_model: FakeAnthropicServer,
) -> Settings:
    home = tmp_path_factory.mktemp("wayfinder-home")
    return Settings(
        temporal_address=temporal_server.address,
        anthropic_api_key="test-key",
        anthropic_base_url=fake_model.url,
        home=home,
        artifact_dir=home / "artifacts",
        task_queue=f"wayfinder-test-{uuid.uuid4().hex[:8]}",
        webhook_secret=WEBHOOK_SECRET,
        # Short, so that a test of a receiver that is down sees the delivery give up.
        webhook_retry_window=4.0,
        totp_wait=8.0,
    )


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[Client]:
    """A Wayfinder client and one worker for the whole session.

    The worker's sandbox raises on any import that slips through unintentionally, so a
    workflow module that pulls in Playwright or the anthropic SDK fails here, not in production.
    """
    wayfinder = await Client.connect(settings=settings, run_worker=False)
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_import_notification_policy(
            SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
        )
    )
    worker = build_worker(wayfinder.temporal, wayfinder.task_queue, workflow_runner=runner)
    async with worker:
        yield wayfinder
    await wayfinder.close()


@pytest.fixture(scope="session")
def plugin(client: Client) -> WayfinderPlugin:
    return next(p for p in client.temporal.config()["plugins"] if isinstance(p, WayfinderPlugin))


@pytest.fixture
def token() -> str:
    """A unique marker for a test's prompt: keys the fake model's fault scripts to this test."""
    return f"[case {uuid.uuid4().hex[:10]}]"


@pytest.fixture
def artifacts_root(settings: Settings) -> Path:
    return settings.artifacts


@pytest.fixture
def queue() -> str:
    """A task queue of the test's own, polled only by the workers it starts."""
    return f"wayfinder-own-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def new_worker(
    tmp_path: Path, settings: Settings, fake_model: FakeAnthropicServer, queue: str
) -> AsyncIterator[Callable[..., WorkerProcess]]:
    """Make worker processes on this test's queue (each with its own home); all stopped after."""
    made: list[WorkerProcess] = []

    def make(name: str, address: str | None = None) -> WorkerProcess:
        worker = WorkerProcess(
            temporal_address=address or settings.temporal_address or "",
            task_queue=queue,
            home=tmp_path / name,
            model_url=fake_model.url,
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyServer]:
    """A real proxy with basic auth ("runner", `proxy_server.PASSWORD`), one per module."""
    with ProxyServer(auth=("runner", PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
async def proxied(settings: Settings, proxy: ProxyServer) -> AsyncIterator[Client]:
    """A client and worker on a queue of their own, whose WAYFINDER_PROXIES maps the proxy
    (as RESIDENTIAL_US), one per module."""
    own = settings.model_copy(
        update={
            "task_queue": f"wayfinder-proxied-{uuid.uuid4().hex[:8]}",
            "proxies": proxy.named(),
        }
    )
    async with await Client.connect(settings=own, run_worker=True) as client:
        yield client
