"""Turning a completed run's step log into a `Script`."""

from __future__ import annotations

from collections.abc import Sequence

from wayfinder.errors import WayfinderError
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.model import ExtractionPlan, Script


class NotPublishableError(WayfinderError):
    """The run cannot become a script (it did not complete, has no start URL, or a step's
    element could not be recorded); the message says which and why."""


def build_script(
    request: TaskRunRequest,
    steps: Sequence[StepRecord],
    *,
    extraction: ExtractionPlan | None = None,
) -> Script:
    """The script of a completed run: its page actions in order (recoveries, failed actions,
    complete/terminate left out), grouped by step number, every typed or chosen value a
    parameter (secret for a password field: blanked, no default), `url` first."""
    raise NotImplementedError
