"""Wayfinder: durable AI browser automation inside Temporal.

```python
from wayfinder import Client

async with await Client.connect() as client:
    result = await client.run_task("Get the title of the top post", url="https://news.ycombinator.com",
                                   wait_for_completion=True)
```
"""

from wayfinder.client import Client, RequestOptions, RunNotFoundError
from wayfinder.models import (
    FileInfo,
    ModelOverride,
    RunEngine,
    RunStatus,
    ScriptRunResponse,
    StepRecord,
    TaskRunInput,
    TaskRunRequest,
    TaskRunResponse,
    TokenUsage,
)
from wayfinder.plugin import WayfinderPlugin
from wayfinder.workflows.task_run import TaskRunWorkflow

__all__ = [
    "Client",
    "FileInfo",
    "ModelOverride",
    "RequestOptions",
    "RunEngine",
    "RunNotFoundError",
    "RunStatus",
    "ScriptRunResponse",
    "StepRecord",
    "TaskRunInput",
    "TaskRunRequest",
    "TaskRunResponse",
    "TaskRunWorkflow",
    "TokenUsage",
    "WayfinderPlugin",
]
