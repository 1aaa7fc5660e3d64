"""Browser sessions, the part of `wayfinder.Client` that opens, reads, lists and closes them.

A browser session is a `BrowserSessionWorkflow` holding one browser that runs can share; the
calls themselves are `wayfinder.sessions.Sessions`.
"""

from __future__ import annotations

from typing import Any

from wayfinder.client_base import ClientCore
from wayfinder.models import BrowserSessionResponse, BrowserSessionStatus
from wayfinder.request_options import RequestOptions, applies_request_options, call_temporal
from wayfinder.request_options import rpc_options as _rpc_options
from wayfinder.sessions import DEFAULT_TIMEOUT, Sessions


class BrowserSessionCalls(ClientCore):
    """`create_browser_session` and friends (mixed into `Client`)."""

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
