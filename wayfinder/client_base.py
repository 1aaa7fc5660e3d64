"""What the parts of `wayfinder.Client` share: its connection, and how a run is named to the user.

`Client` is put together from one mixin per job (`client_runs`, `client_sessions`,
`client_workflows`), each a subclass of `ClientCore`, so that each reads the same Temporal client,
task queue and settings, and writes a run's links and first state in one way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import temporalio.client
from temporalio.service import RPCError

from wayfinder.errors import SearchAttributesMissingError
from wayfinder.models import RunStatus, TaskRunResponse
from wayfinder.plugin import WayfinderPlugin
from wayfinder.settings import Settings, get_settings
from wayfinder.visibility import missing_search_attributes

QUERY_TIMEOUT = timedelta(seconds=5)
"""How long the client waits for a worker to answer a query (a run's or a session's state)
before it reports what Temporal itself knows."""


class ClientCore:
    """The state every part of `Client` reads (set by `Client.__init__`)."""

    temporal: temporalio.client.Client
    task_queue: str
    settings: Settings
    ui_url: str | None

    def _app_url(self, run_id: str) -> str | None:
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/namespaces/{self.temporal.namespace}/workflows/{run_id}"

    def _queued(
        self,
        run_id: str,
        created_at: datetime,
        title: str | None,
        *,
        workflow_id: str | None = None,
    ) -> TaskRunResponse:
        """What a run just started is, until a worker picks it up."""
        return TaskRunResponse(
            run_id=run_id,
            status=RunStatus.queued,
            created_at=created_at,
            app_url=self._app_url(run_id),
            title=title,
            workflow_id=workflow_id,
        )

    def _raise_if_attributes_missing(self, exc: RPCError) -> None:
        missing = missing_search_attributes(exc, self.temporal.namespace)
        if missing is not None:
            raise SearchAttributesMissingError(missing) from None


def settings_of(temporal: temporalio.client.Client) -> Settings:
    """The settings the client was connected with (its `WayfinderPlugin`'s): they hold the
    secret key and the proxies; `get_settings()` for a client connected without the plugin."""
    plugins = temporal.config().get("plugins", [])
    found = (p.settings for p in plugins if isinstance(p, WayfinderPlugin))
    return next(found, None) or get_settings()
