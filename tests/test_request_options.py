"""request_options: deadline, retries and metadata of the client's own calls to Temporal."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client
from google.protobuf.message import Message
from temporalio.service import RPCError, ServiceClient, ServiceResponse

from tests.fixtures.sites import SiteServer
from tests.fixtures.tcp_forwarder import TcpForwarder
from wayfinder import Client, RunNotFoundError, RunStatus
from wayfinder.request_options import RequestTimeoutError
from wayfinder.settings import Settings


class RecordingServiceClient(ServiceClient):
    """The real service client, noting what each RPC is sent with on its way to the server."""

    def __init__(self, inner: ServiceClient) -> None:
        super().__init__(inner.config)
        self._inner = inner
        self.calls: list[tuple[str, dict[str, str | bytes], timedelta | None]] = []

    @property
    def worker_service_client(self) -> Any:
        return self._inner.worker_service_client

    def update_rpc_metadata(self, metadata: Mapping[str, str | bytes]) -> None:
        self._inner.update_rpc_metadata(metadata)

    def update_api_key(self, api_key: str | None) -> None:
        self._inner.update_api_key(api_key)

    async def _rpc_call(
        self,
        rpc: str,
        req: Message,
        resp_type: type[ServiceResponse],
        *,
        service: str,
        retry: bool,
        metadata: Mapping[str, str | bytes],
        timeout: timedelta | None,  # noqa: ASYNC109 - the SDK's signature
    ) -> ServiceResponse:
        self.calls.append((rpc, dict(metadata), timeout))
        return await self._inner._rpc_call(
            rpc, req, resp_type, service=service, retry=retry, metadata=metadata, timeout=timeout
        )


async def test_headers_and_deadline_go_with_every_rpc(
    client: Client, sites: SiteServer, token: str
) -> None:
    recorder = RecordingServiceClient(client.temporal.service_client)
    temporal = temporalio.client.Client(
        recorder, namespace=client.temporal.namespace, data_converter=client.temporal.data_converter
    )
    recorded = Client(temporal, task_queue=client.task_queue)
    options = {"timeout_in_seconds": 20, "additional_headers": {"X-Team": "billing-bots"}}
    result = await recorded.run_task(
        f"{token} Get the title of the top post",
        url=f"{sites.url}/news",
        wait_for_completion=True,
        request_options=options,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    await recorded.get_run(result.run_id, request_options=options)
    await recorded.list_runs(limit=1, request_options=options)
    rpcs = {rpc for rpc, _, _ in recorder.calls}
    assert {"start_workflow_execution", "describe_workflow_execution"} <= rpcs
    assert all(metadata.get("x-team") == "billing-bots" for _, metadata, _ in recorder.calls)
    deadlines = {(rpc, deadline) for rpc, _, deadline in recorder.calls}
    # run_task's wait for the result is a long poll bounded by `timeout`, not by the deadline.
    waits = {("get_workflow_execution_history", None)}
    assert waits <= deadlines
    assert {deadline for _, deadline in deadlines - waits} == {timedelta(seconds=20)}


async def test_a_missed_deadline_names_the_option(client: Client) -> None:
    tiny = {"timeout_in_seconds": 1e-6}
    with pytest.raises(RequestTimeoutError, match=r"request_options.timeout_in_seconds=1e-06s"):
        await client.get_run("tsk_deadline", request_options=tiny)
    with pytest.raises(RequestTimeoutError, match="timeout_in_seconds"):
        await client.list_runs(request_options=tiny)
    with pytest.raises(RunNotFoundError):  # a deadline that can be met changes nothing
        await client.get_run("tsk_deadline", request_options={"timeout_in_seconds": 10})


async def test_max_retries_is_the_number_of_retries_of_a_failing_rpc(settings: Settings) -> None:
    assert settings.temporal_address
    forwarder = await TcpForwarder.start(settings.temporal_address)
    wayfinder = await Client.connect(forwarder.address, settings=settings)
    try:
        for retries in (1, 3):  # connections made while Temporal is still reachable
            with pytest.raises(RunNotFoundError):
                await wayfinder.get_run("tsk_x", request_options={"max_retries": retries})
        forwarder.cut()
        await asyncio.sleep(0.2)
        attempts = {}
        for retries in (1, 3):
            before = forwarder.connections
            with pytest.raises(RPCError):
                await wayfinder.get_run("tsk_x", request_options={"max_retries": retries})
            attempts[retries] = forwarder.connections - before
        assert attempts == {1: 2, 3: 4}  # the first try and its retries, each reconnecting
    finally:
        await wayfinder.close()
        await forwarder.aclose()
