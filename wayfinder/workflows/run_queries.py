"""The queries every run answers, task run or code rerun, so that one `Client.get_run` and
one `get_run_steps` read either (deterministic: they only read the workflow's state)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from wayfinder.models import StepRecord, TaskRunResponse
    from wayfinder.workflows.step_log import steps_after


class RunQueries:
    """A base of the run workflows: `get_run` and `get_steps`, read from `_state` and `_steps`."""

    _state: TaskRunResponse
    _steps: list[StepRecord]

    @workflow.query(name="get_run")
    def get_run(self) -> TaskRunResponse:
        """The run's current state (its final one once it has ended)."""
        return self._state

    @workflow.query(name="get_steps")
    def get_steps(self, after: int = 0) -> list[StepRecord]:
        """Steps numbered above `after`: lets a client follow a run step by step."""
        return steps_after(self._steps, after)
