"""`wayfinder.Client`: connect, run tasks; reading, sessions and published workflows are mixed in.

It is a thin layer over a Temporal client: a run is a `TaskRunWorkflow` whose id is the run id,
so everything Temporal offers (the UI, `temporal workflow ...`, visibility) works on runs too.
This module connects (to an address, or to the embedded host), runs an in-process worker when
asked, and starts runs; the rest of `Client` is one mixin per job:

* `wayfinder.client_runs`: `get_run`, `get_run_steps`, `list_runs`, `cancel_run`;
* `wayfinder.client_sessions`: `create_browser_session` and the other session calls;
* `wayfinder.client_workflows`: publishing runs and rerunning published workflows as code.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import temporalio.client
from pydantic import BaseModel
from temporalio.service import RPCError
from ulid import ULID

from wayfinder.client_base import settings_of
from wayfinder.client_sessions import BrowserSessionCalls
from wayfinder.client_workflows import PublishedWorkflows
from wayfinder.embedded import ensure_host
from wayfinder.embedded_host import clients_lock
from wayfinder.errors import WorkerCrashedError
from wayfinder.models import ModelOverride, RunEngine, TaskRunRequest, TaskRunResponse
from wayfinder.plugin import WayfinderPlugin
from wayfinder.proxies import prepare_proxy
from wayfinder.request_options import RequestOptions, applies_request_options, call_temporal
from wayfinder.request_options import rpc_options as _rpc_options
from wayfinder.settings import Settings, get_settings
from wayfinder.totp_client import TotpCodeSent, send_totp_code
from wayfinder.visibility import initial_search_attributes
from wayfinder.worker import build_worker
from wayfinder.workflows.inputs import TaskRunInput
from wayfinder.workflows.task_run import TaskRunWorkflow

__all__ = ["RUN_ID_PREFIX", "Client", "RequestOptions"]

RUN_ID_PREFIX = "tsk_"

log = logging.getLogger(__name__)


class Client(PublishedWorkflows, BrowserSessionCalls):
    """Wayfinder's entry point. Make one with `await Client.connect()`."""

    def __init__(
        self,
        temporal: temporalio.client.Client,
        *,
        task_queue: str | None = None,
        ui_url: str | None = None,
        settings: Settings | None = None,
        _resources: AsyncExitStack | None = None,
    ) -> None:
        """Wrap a Temporal client that already carries `WayfinderPlugin`."""
        self.temporal = temporal
        self.settings = settings or settings_of(temporal)
        self.task_queue = task_queue or self.settings.task_queue
        self.ui_url = ui_url or self.settings.ui_url
        self._resources = _resources or AsyncExitStack()
        self._worker_failure: BaseException | None = None

    @classmethod
    async def connect(
        cls,
        address: str | None = None,
        *,
        namespace: str | None = None,
        task_queue: str | None = None,
        settings: Settings | None = None,
        run_worker: bool | None = None,
    ) -> Client:
        """Connect to Temporal at `address`, else TEMPORAL_ADDRESS, else the embedded dev server.

        `run_worker` runs a Wayfinder worker inside this process (off by default). With no
        address, the embedded server's background host is used, started if none is running;
        it runs a worker itself (see `wayfinder.embedded`).
        """
        settings = settings or get_settings()
        address = address or settings.temporal_address
        namespace = namespace or settings.temporal_namespace
        ui_url = settings.ui_url
        resources = AsyncExitStack()
        try:
            if address is None:
                # Attached before looking for the host, so that it cannot idle out under us.
                resources.enter_context(_attached_to_host(settings.home))
                host = await ensure_host(settings)
                address, ui_url = host.address, host.ui_url or ui_url
            temporal = await temporalio.client.Client.connect(
                address, namespace=namespace, plugins=[WayfinderPlugin(settings)]
            )
            client = cls(
                temporal,
                task_queue=task_queue or settings.task_queue,
                ui_url=ui_url,
                settings=settings,
                _resources=resources,
            )
            if run_worker:
                await client._start_worker()
        except BaseException:
            await resources.aclose()
            raise
        return client

    async def _start_worker(self) -> None:
        worker = build_worker(self.temporal, self.task_queue)
        task = asyncio.create_task(worker.run())
        stopping = False

        def report(done: asyncio.Task[None]) -> None:
            # A worker that dies on its own leaves runs that nothing executes: say so loudly.
            if stopping or done.cancelled() or done.exception() is None:
                return
            self._worker_failure = done.exception()
            log.error(
                "the Wayfinder worker on %s stopped: %s",
                self.task_queue,
                self._worker_failure,
                exc_info=self._worker_failure,
            )

        task.add_done_callback(report)

        async def stop() -> None:
            nonlocal stopping
            stopping = True
            if not task.done():
                await worker.shutdown()
            await asyncio.gather(task, return_exceptions=True)

        self._resources.push_async_callback(stop)

    def check_worker(self) -> None:
        """Raise `WorkerCrashedError` if this client's in-process worker has died."""
        if self._worker_failure is not None:
            raise WorkerCrashedError(
                f"the Wayfinder worker of this process stopped: {self._worker_failure}"
            ) from self._worker_failure

    async def close(self) -> None:
        """Stop the in-process worker this client started, if any.

        The embedded server's host is not stopped: other processes may be using it, and it
        stops on its own once idle (`wayfinder stop` stops it at once).
        """
        await self._resources.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run_task(
        self,
        prompt: str,
        url: str | None = None,
        *,
        engine: RunEngine | str = RunEngine.skyvern_v2,
        wait_for_completion: bool = False,
        timeout: float = 1800,  # noqa: ASYNC109 - the reference API's name for the wait
        max_steps: int | None = None,
        data_extraction_schema: dict[str, Any] | str | type[BaseModel] | None = None,
        proxy_location: str | None = None,
        browser_session_id: str | None = None,
        publish_workflow: bool = False,
        webhook_url: str | None = None,
        error_code_mapping: dict[str, str] | None = None,
        totp_identifier: str | None = None,
        totp_url: str | None = None,
        title: str | None = None,
        model: dict[str, Any] | ModelOverride | None = None,
        user_agent: str | None = None,
        extra_http_headers: dict[str, str] | None = None,
        include_action_history_in_verification: bool | None = None,
        max_screenshot_scrolls: int | None = None,
        browser_address: str | None = None,
        run_with: str | None = None,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        """Start a task run; with `wait_for_completion`, wait for its end (up to `timeout` s).

        Every argument is validated before anything starts (`pydantic.ValidationError` names
        the field). When the wait times out, `TimeoutError` is raised and the run goes on.
        """
        request = TaskRunRequest.model_validate(
            _given(
                prompt=prompt,
                url=url,
                engine=engine,
                wait_for_completion=wait_for_completion,
                timeout=timeout,
                max_steps=max_steps,
                data_extraction_schema=data_extraction_schema,
                proxy_location=proxy_location,
                browser_session_id=browser_session_id,
                publish_workflow=publish_workflow,
                webhook_url=webhook_url,
                error_code_mapping=error_code_mapping,
                totp_identifier=totp_identifier,
                totp_url=totp_url,
                title=title,
                model=model,
                user_agent=user_agent,
                extra_http_headers=extra_http_headers,
                include_action_history_in_verification=include_action_history_in_verification,
                max_screenshot_scrolls=max_screenshot_scrolls,
                browser_address=browser_address,
                run_with=run_with,
            )
        )
        return await self.start(request, request_options=request_options)

    @applies_request_options
    async def start(
        self,
        request: TaskRunRequest,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        """`run_task` for a request already built (and validated) as a `TaskRunRequest`."""
        rpc = _rpc_options(request_options)
        if request.run_with == "code":
            return await self._run_code(request, rpc, request_options)
        proxy = prepare_proxy(request.proxy_location, settings_of(self.temporal))
        request = request.model_copy(update={"proxy_location": proxy})
        if request.browser_session_id is not None:
            await self._sessions.check_open(request.browser_session_id, rpc)
        run_id = f"{RUN_ID_PREFIX}{ULID()}"
        created_at = datetime.now(UTC)
        try:
            handle = await call_temporal(self).start_workflow(
                TaskRunWorkflow.run,
                TaskRunInput(request=request, created_at=created_at, app_url=self._app_url(run_id)),
                id=run_id,
                task_queue=self.task_queue,
                static_summary=request.title,
                search_attributes=initial_search_attributes(request),
                **rpc,
            )
        except RPCError as exc:
            self._raise_if_attributes_missing(exc)
            raise
        if not request.wait_for_completion:
            return self._queued(run_id, created_at, request.title)
        return await self._wait_for_end(handle, request.timeout, request_options)

    @applies_request_options
    async def send_totp_code(
        self,
        totp_identifier: str,
        content: str,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TotpCodeSent:
        """Give a 2FA code to the run waiting on `totp_identifier` (or the next one to ask,
        within a few minutes). `content` is the code, or a message with a 4-8 digit code."""
        return await send_totp_code(
            call_temporal(self),
            self.task_queue,
            totp_identifier=totp_identifier,
            content=content,
            rpc=_rpc_options(request_options),
        )


@contextlib.contextmanager
def _attached_to_host(home: Path) -> Iterator[None]:
    """A shared hold on the host's clients lock while this client lives."""
    home.mkdir(parents=True, exist_ok=True)
    with clients_lock(home).open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


def _given(**arguments: Any) -> dict[str, Any]:
    """`run_task`'s arguments that were given (not None), so that the request's fields set are
    the caller's: a code rerun's options replace only those, and proxy_location="NONE" (given,
    None once validated) clears the kept proxy as it does for run_workflow."""
    return {name: value for name, value in arguments.items() if value is not None}
