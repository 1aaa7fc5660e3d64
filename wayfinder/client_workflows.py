"""The published-workflow half of `wayfinder.Client`: publish a run, read and list published
workflows, rerun them as code (`run_workflow`), and `run_task(run_with="code")`.

A mixin of `Client`: it uses the client's Temporal connection, task queue and run reading.
The store is `wayfinder.workflows.published` (one entity workflow per published workflow);
reruns are `wayfinder.workflows.script_run`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode
from ulid import ULID

from wayfinder.browser_options import OPTIONS, BrowserOptions, given_options
from wayfinder.client_runs import RunReading
from wayfinder.models import RunStatus, StepRecord, TaskRunRequest, TaskRunResponse
from wayfinder.proxies import prepare_proxy
from wayfinder.proxy_url import NO_PROXY, ProxyURL
from wayfinder.published import (
    RERUN_ID_PREFIX,
    PublishedWorkflow,
    PublishedWorkflowNotFoundError,
    RunWith,
    WorkflowParameter,
    WorkflowParameterError,
    WorkflowRevision,
    WorkflowRunRequest,
    WorkflowSummary,
    match_prompt,
    published_id,
)
from wayfinder.request_options import applies_request_options, call_temporal, rpc_options
from wayfinder.scripts.build import NotPublishableError
from wayfinder.scripts.codegen import generate_code
from wayfinder.scripts.model import Script, rebase_urls_in
from wayfinder.secrets import SecretBox
from wayfinder.urls import check_http_url
from wayfinder.visibility import initial_search_attributes
from wayfinder.workflows.inputs import TaskRunInput
from wayfinder.workflows.published import PublishedWorkflowEntity
from wayfinder.workflows.published_state import (
    GET,
    MEMO,
    WORKFLOW_TYPE,
    ListingMemo,
    PublishedState,
    listing_memo,
    published_from,
)
from wayfinder.workflows.script_inputs import ScriptRunInput
from wayfinder.workflows.script_run import ScriptRunWorkflow

if TYPE_CHECKING:
    from wayfinder.request_options import RequestOptions


class PublishedWorkflows(RunReading):
    """Published workflows and code reruns (mixed into `Client`)."""

    if TYPE_CHECKING:

        async def start(
            self,
            request: TaskRunRequest,
            *,
            request_options: RequestOptions | dict[str, Any] | None = None,
        ) -> TaskRunResponse: ...

    @applies_request_options
    async def get_workflow(
        self, workflow_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> PublishedWorkflow:
        """The published workflow: its current code, parameters, revisions and kept browser
        options (a query: needs a live worker, as every Temporal query does)."""
        state = await self._published(workflow_id, rpc_options(request_options))
        script = state.current.script
        return PublishedWorkflow(
            workflow_id=state.workflow_id,
            title=state.title,
            prompt=script.prompt,
            url=script.url,
            source_run_id=state.source_run_id,
            created_at=state.created_at,
            code=generate_code(script),
            parameters=[
                WorkflowParameter.model_validate(p.model_dump()) for p in script.parameters
            ],
            revisions=[
                WorkflowRevision.model_validate(r.model_dump(exclude={"script"}))
                for r in state.revisions
            ],
            browser_options=state.browser,
        )

    @applies_request_options
    async def list_workflows(
        self, limit: int = 50, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> list[WorkflowSummary]:
        """Published workflows of the namespace, newest first (visibility: no worker needed)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
        rpc = rpc_options(request_options)
        found = []
        async for execution in call_temporal(self).list_workflows(query, limit=limit, **rpc):
            memo = await execution.memo_value(MEMO, None, type_hint=ListingMemo)
            found.append(
                WorkflowSummary(
                    workflow_id=execution.id,
                    title=memo.title if memo else None,
                    prompt=memo.prompt if memo else None,
                    url=memo.url if memo else None,
                    created_at=execution.start_time,
                )
            )
        return sorted(found, key=lambda w: w.created_at, reverse=True)

    @applies_request_options
    async def publish_run(
        self, run_id: str, *, request_options: RequestOptions | dict[str, Any] | None = None
    ) -> PublishedWorkflow:
        """Publish a completed task run after the fact (a run published already: its workflow).

        The script is built here from the run's step log; with an extraction, its data is
        extracted by one model call on reruns (where it sat on the page is only known while the
        run's browser is open: `publish_workflow=True` records it)."""
        rpc = rpc_options(request_options)
        run = await self.get_run(run_id, request_options=request_options)
        if run.workflow_id is not None:
            return await self.get_workflow(run.workflow_id, request_options=request_options)
        if run.status is not RunStatus.completed:
            raise NotPublishableError(
                f"run {run_id} is {run.status.value}: only a completed run can be published"
            )
        handle = call_temporal(self).get_workflow_handle(run_id)
        started = (await handle.fetch_history(**rpc)).events[0]
        payloads = started.workflow_execution_started_event_attributes.input.payloads
        [run_input] = await self.temporal.data_converter.decode(payloads, [TaskRunInput])
        steps = await handle.query("get_steps", 0, result_type=list[StepRecord], **rpc)
        # Imported here: the activity module is Playwright's side, the script logic is not.
        from wayfinder.activities.script import script_of

        script = script_of(run_input.request, steps, self.settings, output=run.output)
        workflow_id = published_id(run_id)
        await self._start_published(workflow_id, run_id, run_input.request, script, rpc)
        return await self.get_workflow(workflow_id, request_options=request_options)

    async def _start_published(
        self,
        workflow_id: str,
        run_id: str,
        request: TaskRunRequest,
        script: Script,
        rpc: dict[str, Any],
    ) -> None:
        title = request.title
        browser = BrowserOptions.kept_from(request)
        await call_temporal(self).start_workflow(
            PublishedWorkflowEntity.run,
            published_from(workflow_id, run_id, title, script, datetime.now(UTC), browser),
            id=workflow_id,
            task_queue=self.task_queue,
            memo=listing_memo(title, script),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            **rpc,
        )

    @applies_request_options
    async def run_workflow(
        self,
        workflow_id: str,
        parameters: dict[str, Any] | None = None,
        *,
        run_with: RunWith | str = RunWith.code,
        ai_fallback: bool = True,
        wait_for_completion: bool = False,
        timeout: float = 1800,  # noqa: ASYNC109 - the reference API's name for the wait
        title: str | None = None,
        proxy_location: str | dict[str, Any] | ProxyURL | None = None,
        user_agent: str | None = None,
        extra_http_headers: dict[str, str] | None = None,
        max_screenshot_scrolls: int | None = None,
        browser_address: str | None = None,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        """Rerun a published workflow (`wr_...`), as code with no model by default.

        The rerun's browser is opened with the publishing run's options (proxy_location,
        user_agent, extra_http_headers, max_screenshot_scrolls); each one given here replaces
        the kept one (proxy_location="NONE": no proxy this time). `browser_address` is never
        kept: give it to the rerun that should use that browser.

        Everything is checked before anything starts: a bad option raises pydantic's
        `ValidationError` naming it, as run_task does; an unknown parameter name, or a missing
        secret (secrets have no stored default), raises `WorkflowParameterError`. With
        `run_with="agent"` the original task runs with the agent instead."""
        browser = given_options(
            proxy_location=proxy_location,
            user_agent=user_agent,
            extra_http_headers=extra_http_headers,
            max_screenshot_scrolls=max_screenshot_scrolls,
            browser_address=browser_address,
        )
        request = WorkflowRunRequest(
            workflow_id=workflow_id,
            parameters={k: str(v) for k, v in (parameters or {}).items()},
            run_with=RunWith(run_with),
            ai_fallback=ai_fallback,
            wait_for_completion=wait_for_completion,
            timeout=timeout,
            title=title,
        )
        rpc = rpc_options(request_options)
        state = await self._published(workflow_id, rpc)
        return await self._rerun(request, state, rpc, browser, request_options)

    async def _rerun(
        self,
        request: WorkflowRunRequest,
        state: PublishedState,
        rpc: dict[str, Any],
        given: BrowserOptions,
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        revision = state.current
        values, secrets = _bind(revision.script, request.parameters)
        browser = state.browser.overridden_by(given)
        # A name is checked against this client's WAYFINDER_PROXIES, a new URL's credentials
        # sealed; the kept ones are sealed already.
        browser.proxy_location = prepare_proxy(browser.proxy_location, self.settings)
        if request.run_with is RunWith.agent:
            return await self._rerun_with_agent(
                request, revision.script, values, secrets, browser, request_options
            )
        box = SecretBox.from_settings(self.settings)
        run_id = f"{RERUN_ID_PREFIX}{ULID()}"
        title = request.title or state.title
        created_at = datetime.now(UTC)
        search = initial_search_attributes(TaskRunRequest(prompt=revision.script.prompt))
        handle = await call_temporal(self).start_workflow(
            ScriptRunWorkflow.run,
            ScriptRunInput(
                workflow_id=state.workflow_id,
                revision_id=revision.revision_id,
                script=revision.script,
                values=values,
                secrets={name: box.seal(value) for name, value in secrets.items()},
                ai_fallback=request.ai_fallback,
                title=title,
                created_at=created_at,
                app_url=self._app_url(run_id),
                browser=browser,
            ),
            id=run_id,
            task_queue=self.task_queue,
            static_summary=title,
            search_attributes=search,
            **rpc,
        )
        if not request.wait_for_completion:
            return self._queued(run_id, created_at, title, workflow_id=state.workflow_id)
        return await self._wait_for_end(handle, request.timeout, request_options)

    async def _rerun_with_agent(
        self,
        request: WorkflowRunRequest,
        script: Script,
        values: dict[str, str],
        secrets: dict[str, str],
        browser: BrowserOptions,
        request_options: RequestOptions | dict[str, Any] | None,
    ) -> TaskRunResponse:
        """The original task, run by the agent (with the secrets put back into its prompt)."""
        changed = {
            p.name: values[p.name]
            for p in script.parameters
            if p.name != "url" and not p.secret and values.get(p.name) != p.default
        }
        # An address the task spells out on the recorded host goes to this rerun's, as in code.
        prompt = rebase_urls_in(script.prompt.format_map(secrets), script.url, values["url"])
        if changed:
            prompt += " Use these values: " + "; ".join(f"{k}: {v}" for k, v in changed.items())
        return await self.start(
            TaskRunRequest(
                prompt=prompt,
                url=values["url"],
                title=request.title,
                wait_for_completion=request.wait_for_completion,
                timeout=request.timeout,
                **browser.model_dump(exclude_none=True, exclude={"proxy_location"}),
                proxy_location=browser.proxy_location,
            ),
            request_options=request_options,
        )

    async def _run_code(
        self,
        request: TaskRunRequest,
        rpc: dict[str, Any],
        request_options: RequestOptions | dict[str, Any] | None = None,
    ) -> TaskRunResponse:
        """`run_task(run_with="code")`: rerun the workflow published for this prompt and URL,
        with the secrets the prompt spells out (and the browser options it was given, over the
        kept ones); else run the agent and publish."""
        options = {name: getattr(request, name) for name in OPTIONS}
        if request.proxy_location is None and "proxy_location" in request.model_fields_set:
            options["proxy_location"] = NO_PROXY  # given as "NONE": no proxy this time
        given = given_options(**options)
        for listed in await self.list_workflows(limit=200, request_options=request_options):
            if listed.url != request.url or listed.prompt is None:
                continue
            secrets = match_prompt(listed.prompt, request.prompt)
            if secrets is None:
                continue
            state = await self._published(listed.workflow_id, rpc)
            rerun = WorkflowRunRequest(
                workflow_id=listed.workflow_id,
                parameters=secrets,
                wait_for_completion=request.wait_for_completion,
                timeout=request.timeout,
                title=request.title,
            )
            return await self._rerun(rerun, state, rpc, given, request_options)
        agent = request.model_copy(update={"run_with": "agent", "publish_workflow": True})
        return await self.start(agent, request_options=request_options)

    async def _published(
        self, workflow_id: str, rpc: dict[str, Any] | None = None
    ) -> PublishedState:
        handle = call_temporal(self).get_workflow_handle(workflow_id)
        try:
            return await handle.query(GET, result_type=PublishedState, **(rpc or {}))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise PublishedWorkflowNotFoundError(
                    f"no published workflow with id {workflow_id!r} (list them with "
                    "list_workflows() or `wayfinder workflows`)"
                ) from None
            raise


def _bind(script: Script, given: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The rerun's values (defaults filled in) and its secrets, or WorkflowParameterError."""
    known = {p.name: p for p in script.parameters}
    unknown = sorted(set(given) - set(known))
    takes = ", ".join(f"{p.name}{' (secret)' if p.secret else ''}" for p in script.parameters)
    if unknown:
        raise WorkflowParameterError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: this "
            f"workflow takes {takes}"
        )
    missing = [
        p.name for p in script.parameters if p.name not in given and (p.secret or p.default is None)
    ]
    if missing:
        raise WorkflowParameterError(
            f"missing required parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            "(secrets are never stored: give them with every rerun)"
        )
    values = {
        p.name: p.default for p in script.parameters if not p.secret and p.default is not None
    }
    values |= {name: value for name, value in given.items() if not known[name].secret}
    try:
        values["url"] = check_http_url(values["url"])
    except ValueError as exc:
        raise WorkflowParameterError(str(exc)) from None
    secrets = {name: value for name, value in given.items() if known[name].secret}
    return values, secrets
