"""Wayfinder: durable AI browser automation inside Temporal.

```python
from wayfinder import Client

async with await Client.connect() as client:
    result = await client.run_task(
        "Get the title of the top post", url="https://news.ycombinator.com",
        wait_for_completion=True,
    )
```

The names below are imported lazily: the Temporal workflow sandbox imports
`wayfinder.workflows`, and must not drag the client, Playwright or the anthropic SDK in with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wayfinder.client import Client, RequestOptions
    from wayfinder.errors import (
        BrowserSessionClosedError,
        BrowserSessionNotFoundError,
        RunNotFoundError,
        SearchAttributesMissingError,
        WayfinderError,
    )
    from wayfinder.models import (
        BrowserSessionResponse,
        BrowserSessionStatus,
        FileInfo,
        ModelOverride,
        RunEngine,
        RunStatus,
        ScriptRunResponse,
        StepRecord,
        TaskRunRequest,
        TaskRunResponse,
        TokenUsage,
    )
    from wayfinder.plugin import WayfinderPlugin
    from wayfinder.workflows.inputs import TaskRunInput
    from wayfinder.workflows.task_run import TaskRunWorkflow

_EXPORTS = {
    "BrowserSessionClosedError": "wayfinder.errors",
    "BrowserSessionNotFoundError": "wayfinder.errors",
    "BrowserSessionResponse": "wayfinder.models",
    "BrowserSessionStatus": "wayfinder.models",
    "Client": "wayfinder.client",
    "RequestOptions": "wayfinder.client",
    "RunNotFoundError": "wayfinder.errors",
    "SearchAttributesMissingError": "wayfinder.errors",
    "WayfinderError": "wayfinder.errors",
    "FileInfo": "wayfinder.models",
    "ModelOverride": "wayfinder.models",
    "RunEngine": "wayfinder.models",
    "RunStatus": "wayfinder.models",
    "ScriptRunResponse": "wayfinder.models",
    "StepRecord": "wayfinder.models",
    "TaskRunInput": "wayfinder.workflows.inputs",
    "TaskRunRequest": "wayfinder.models",
    "TaskRunResponse": "wayfinder.models",
    "TokenUsage": "wayfinder.models",
    "WayfinderPlugin": "wayfinder.plugin",
    "TaskRunWorkflow": "wayfinder.workflows.task_run",
}

__all__ = [
    "BrowserSessionClosedError",
    "BrowserSessionNotFoundError",
    "BrowserSessionResponse",
    "BrowserSessionStatus",
    "Client",
    "FileInfo",
    "ModelOverride",
    "RequestOptions",
    "RunEngine",
    "RunNotFoundError",
    "RunStatus",
    "ScriptRunResponse",
    "SearchAttributesMissingError",
    "StepRecord",
    "TaskRunInput",
    "TaskRunRequest",
    "TaskRunResponse",
    "TaskRunWorkflow",
    "TokenUsage",
    "WayfinderError",
    "WayfinderPlugin",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wayfinder' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
