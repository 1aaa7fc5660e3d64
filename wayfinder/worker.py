"""Building and running Wayfinder workers, and the host queue of this process.

Two kinds of worker poll on behalf of one process:
- the shared-queue worker (`wayfinder` by default) runs `TaskRunWorkflow` and `launch_browser`;
  any process can pick up a new run;
- the host-queue worker (`wayfinder-host-<uuid>`) runs the activities that need a browser this
  process holds. Its name is unique to the process, so Temporal routes a run's later browser
  activities back here (the "worker-specific task queues" pattern).
`WayfinderPlugin` starts the second beside the first; this module only names and builds them.
"""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.worker import Worker

HOST_QUEUE_PREFIX = "wayfinder-host-"


def new_host_queue() -> str:
    return f"{HOST_QUEUE_PREFIX}{uuid.uuid4().hex[:12]}"


def is_host_queue(task_queue: str) -> bool:
    return task_queue.startswith(HOST_QUEUE_PREFIX)


def build_worker(client: Client, task_queue: str, **worker_options: object) -> Worker:
    """A shared-queue worker. The client must carry `WayfinderPlugin`, which adds the rest."""
    from wayfinder.plugin import WayfinderPlugin

    plugins = client.config().get("plugins", [])
    if not any(isinstance(plugin, WayfinderPlugin) for plugin in plugins):
        raise ValueError(
            "the Temporal client has no WayfinderPlugin: connect it with "
            "`Client.connect(..., plugins=[WayfinderPlugin()])` or use `wayfinder.Client`"
        )
    return Worker(client, task_queue=task_queue, **worker_options)  # type: ignore[arg-type]
