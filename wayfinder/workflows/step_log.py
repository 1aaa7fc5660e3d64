"""A run's step log as its workflow keeps it, for task runs and code reruns (deterministic).

The log is a list of `StepRecord`: the actions that ran, and a `recover` entry each time the
browser was lost. The run's `step_count` and `usage` follow it entry by entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from wayfinder.actions import RecoverAction
    from wayfinder.models import StepRecord, TaskRunResponse


def record(state: TaskRunResponse, steps: list[StepRecord], entry: StepRecord) -> None:
    """Add `entry` to the log; its line becomes the workflow's current details in Temporal."""
    steps.append(entry)
    state.step_count = action_count(steps)
    state.usage += entry.usage
    workflow.set_current_details(f"step {entry.number}: {entry.summary()}")


def action_count(steps: Sequence[StepRecord]) -> int:
    """The entries that are actions (what `max_steps` and `step_count` count): not recoveries."""
    return sum(1 for step in steps if not isinstance(step.action, RecoverAction))


def steps_after(steps: Sequence[StepRecord], after: int) -> list[StepRecord]:
    """The entries numbered above `after` (the `get_steps` query: follow a run step by step)."""
    return [step for step in steps if step.number > after]
