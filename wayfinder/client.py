"""`wayfinder.Client`: run tasks, read them, cancel them.

It is a thin layer over a Temporal client: a run is a `TaskRunWorkflow` whose id is the run id,
so everything Temporal offers (the UI, `temporal workflow ...`, visibility) works on runs too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import temporalio.client
from pydantic import BaseModel
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from ulid import ULID

from wayfinder.client_workflows import PublishedWorkflows
from wayfinder.embedded import ensure_host
from wayfinder.embedded_host import clients_lock
from wayfinder.errors import RunNotFoundError, SearchAttributesMissingError, WorkerCrashedError
from wayfinder.models import (
    BrowserSessionResponse,
    BrowserSessionStatus,
    ModelOverride,
    RunEngine,
    RunStatus,
    StepRecord,
    TaskRunRequest,
    TaskRunResponse,
)
from wayfinder.plugin import WayfinderPlugin
from wayfinder.proxies import prepare_proxy
from wayfinder.request_options import RequestOptions, applies_request_options, call_temporal
from wayfinder.request_options import rpc_options as _rpc_options
from wayfinder.sessions import DEFAULT_TIMEOUT, Sessions
from wayfinder.settings import Settings, get_settings
from wayfinder.totp_client import TotpCodeSent, send_totp_code
from wayfinder.visibility import (
    TEMPORAL_STATUS,
    RunSummary,
    initial_search_attributes,
    missing_search_attributes,
    parse_status,
    runs_query,
    summary_of,
)
from wayfinder.webhook_status import with_webhook_delivery
from wayfinder.worker import build_worker
from wayfinder.workflows.inputs import TaskRunInput
from wayfinder.workflows.outcome import FAILURE_TYPES, FINAL_MEMO
from wayfinder.workflows.task_run import TaskRunWorkflow

RUN_ID_PREFIX = "tsk_"
QUERY_TIMEOUT = timedelta(seconds=5)
"""How long `get_run` waits for a worker to answer before it reports what Temporal knows."""
FIRST_WORKFLOW_TASK_EVENTS = 2
"""Started + first task scheduled: a run whose history is no longer has been picked up."""


log = logging.getLogger(__name__)





_RUN_FAILURE_TYPES = frozenset(FAILURE_TYPES.values())


class Client(PublishedWorkflows):
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
        self.settings = settings or _settings_of(temporal)
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
            dict(
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
        proxy = prepare_proxy(request.proxy_location, _settings_of(self.temporal))
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
            return TaskRunResponse(
                run_id=run_id,
                status=RunStatus.queued,
                created_at=created_at,
                app_url=self._app_url(run_id),
                title=request.title,
            )
        return await self._wait_for_end(handle, request.timeout, request_options)

    async def _wait_for_end(
        self,
        handle: temporalio.client.WorkflowHandle[Any, TaskRunResponse],
        timeout: float,  # noqa: ASYNC109 - the run's own wait_for_completion timeout
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        rpc = _rpc_options(request_options)
        # Only the metadata: an RPC deadline would cut the long poll that waits for the result.
        metadata = {k: v for k, v in rpc.items() if k == "rpc_metadata"}
        try:
            return await asyncio.wait_for(handle.result(**metadata), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"run {handle.id} did not finish within {timeout:g}s; it goes on: "
                "follow it with get_run() or cancel it with cancel_run()"
            ) from None
        except WorkflowFailureError as exc:
            # A run that did not complete ends its workflow Failed or Canceled; the caller
            # still gets its full final state, as get_run gives it.
            final = _final_state(exc)
            return final or await self.get_run(handle.id, request_options=request_options)

    @applies_request_options
    async def get_run(
        self, run_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> TaskRunResponse:
        """The run's current state: live while it runs, its final result once it has ended."""
        rpc = _rpc_options(request_options)
        return await with_webhook_delivery(
            call_temporal(self), await self._get_run(run_id, rpc), rpc
        )

    async def _get_run(self, run_id: str, rpc: dict[str, Any]) -> TaskRunResponse:
        handle = call_temporal(self).get_workflow_handle_for(TaskRunWorkflow.run, run_id)
        description = await self._describe(run_id, rpc)
        status = description.status
        if status == WorkflowExecutionStatus.RUNNING:
            try:
                return await handle.query(
                    TaskRunWorkflow.get_run, **{"rpc_timeout": QUERY_TIMEOUT, **rpc}
                )
            except RPCError:
                # No worker answered (all stopped, or none has picked the run up yet): what
                # Temporal itself knows still tells whether the run has started.
                return self._open_run_from(description)
        if status in (
            WorkflowExecutionStatus.COMPLETED,
            WorkflowExecutionStatus.CONTINUED_AS_NEW,
        ):
            return await handle.result(**rpc)
        if status == WorkflowExecutionStatus.CANCELED:
            # The SDK's cancellation carries no details: the final state is in the memo.
            canceled = await description.memo_value(FINAL_MEMO, None, type_hint=TaskRunResponse)
            if canceled is not None:
                return canceled
        elif status == WorkflowExecutionStatus.FAILED:
            try:
                await handle.result(**rpc)
            except WorkflowFailureError as exc:
                final = _final_state(exc)
                if final is not None:
                    return final
        return await self._closed_outside_wayfinder(handle, description)

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

    @applies_request_options
    async def list_runs(
        self,
        status: RunStatus | str | None = None,
        limit: int = 50,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> list[RunSummary]:
        """Runs of the namespace, newest first, optionally only those with `status`.

        Read from Temporal's visibility store, so no worker is needed. It lists the runs that
        carry Wayfinder's search attributes (all runs this client started); visibility is
        eventually consistent, so a run that changed status a moment ago may lag.
        """
        wanted = parse_status(status)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        rpc = _rpc_options(request_options)
        try:
            runs = [
                summary_of(execution, self._app_url(execution.id))
                async for execution in call_temporal(self).list_workflows(
                    runs_query(wanted), limit=limit, **rpc
                )
            ]
        except RPCError as exc:
            self._raise_if_attributes_missing(exc)
            raise
        return sorted(runs, key=lambda run: run.created_at, reverse=True)

    @applies_request_options
    async def get_run_steps(
        self,
        run_id: str,
        *,
        after: int = 0,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> list[StepRecord]:
        """Steps numbered above `after` (needs a live worker, as every Temporal query does)."""
        rpc = _rpc_options(request_options)
        await self._describe(run_id, rpc)
        handle = call_temporal(self).get_workflow_handle(run_id)
        return await handle.query(TaskRunWorkflow.get_steps, after, **rpc)

    @applies_request_options
    async def cancel_run(
        self, run_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> None:
        """Ask the run to stop: it ends `canceled` at its next safe point, browser closed.

        This is Temporal's own cancellation (rather than the workflow's `cancel` signal), so
        the workflow ends Canceled in Temporal too. Canceling a run that has ended does nothing.
        """
        rpc = _rpc_options(request_options)
        description = await self._describe(run_id, rpc)
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        await call_temporal(self).get_workflow_handle(run_id).cancel(**rpc)

    @property
    def _sessions(self) -> Sessions:
        return Sessions(call_temporal(self), self.task_queue)

    @applies_request_options
    async def create_browser_session(
        self,
        timeout: int = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the session's lifetime, in minutes
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> BrowserSessionResponse:
        """Open a browser that runs can share (`run_task(browser_session_id=...)`).

        It stays open `timeout` minutes (5 to 240) from its start, or until
        `close_browser_session`. Runs in it take turns and keep its cookies and tabs.
        """
        return await self._sessions.create(timeout, _rpc_options(request_options))

    @applies_request_options
    async def get_browser_session(
        self,
        browser_session_id: str,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> BrowserSessionResponse:
        """The session's current state, or its final one once it has ended."""
        return await self._sessions.get(browser_session_id, _rpc_options(request_options))

    @applies_request_options
    async def list_browser_sessions(
        self,
        status: BrowserSessionStatus | str | None = None,
        limit: int = 50,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> list[BrowserSessionResponse]:
        """Sessions of the namespace, newest first, from Temporal's visibility (no worker
        needed; `runs` is left empty here: `get_browser_session` has it)."""
        return await self._sessions.list(status, limit, _rpc_options(request_options))

    @applies_request_options
    async def close_browser_session(
        self,
        browser_session_id: str,
        *,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> BrowserSessionResponse:
        """Close the session and its browser; returns once the browser is closed. A run still
        using it fails (its browser is gone); runs waiting for it fail before they start."""
        return await self._sessions.close(browser_session_id, _rpc_options(request_options))

    async def _describe(self, run_id: str, rpc: dict[str, Any]) -> WorkflowExecutionDescription:
        try:
            return await call_temporal(self).get_workflow_handle(run_id).describe(**rpc)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RunNotFoundError(f"no run with id {run_id!r}") from None
            raise

    async def _closed_outside_wayfinder(
        self,
        handle: temporalio.client.WorkflowHandle[Any, Any],
        description: WorkflowExecutionDescription,
    ) -> TaskRunResponse:
        """A run ended by Temporal itself (terminated by an operator, failed on a bug)."""
        status = (
            TEMPORAL_STATUS.get(description.status, RunStatus.failed)
            if description.status is not None
            else RunStatus.failed
        )
        reason = f"the workflow was {status.value.replace('_', ' ')} in Temporal"
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            cause = exc.cause
            reason = f"{reason}: {getattr(cause, 'message', None) or cause}"
        return TaskRunResponse(
            run_id=handle.id,
            status=status,
            created_at=description.start_time,
            finished_at=description.close_time,
            failure_reason=reason,
            app_url=self._app_url(handle.id),
        )

    def _open_run_from(self, description: WorkflowExecutionDescription) -> TaskRunResponse:
        started = bool(description.raw_description.pending_activities) or (
            description.history_length > FIRST_WORKFLOW_TASK_EVENTS
        )
        return TaskRunResponse(
            run_id=description.id,
            status=RunStatus.running if started else RunStatus.queued,
            created_at=description.start_time,
            app_url=self._app_url(description.id),
        )

    def _raise_if_attributes_missing(self, exc: RPCError) -> None:
        missing = missing_search_attributes(exc, self.temporal.namespace)
        if missing is not None:
            raise SearchAttributesMissingError(missing) from None

    def _app_url(self, run_id: str) -> str | None:
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/namespaces/{self.temporal.namespace}/workflows/{run_id}"


@contextlib.contextmanager
def _attached_to_host(home: Path) -> Iterator[None]:
    """A shared hold on the host's clients lock while this client lives."""
    home.mkdir(parents=True, exist_ok=True)
    with clients_lock(home).open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


def _final_state(error: WorkflowFailureError) -> TaskRunResponse | None:
    """The final `TaskRunResponse` a run that did not complete ended its workflow with."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in _RUN_FAILURE_TYPES and cause.details:
        return TaskRunResponse.model_validate(cause.details[0])
    return None


def _settings_of(temporal: temporalio.client.Client) -> Settings:
    """The settings of the client's WayfinderPlugin (what `connect` was given)."""
    plugins = temporal.config()["plugins"]
    found = (p.settings for p in plugins if isinstance(p, WayfinderPlugin))
    return next(found, None) or get_settings()
