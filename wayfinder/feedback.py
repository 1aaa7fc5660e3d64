"""What the model is told about the run so far, as data: its history, and notes for the next step.

The workflow decides *what* the model should know (a refuted claim, a loop, actions that did not
run) and passes it as these models; `wayfinder.llm.prompts` alone decides how it is worded. No
Playwright and no Temporal here, so the workflow, the activities and `llm/` can all import it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from wayfinder.actions import Action, LoggedAction
from wayfinder.models import StepRecord


class PastStep(BaseModel):
    """One line of the model's history: an action it took (or a recovery), and what came of it."""

    number: int
    action: LoggedAction
    element: str | None = None
    """What the action acted on, e.g. "button 'Send'"."""
    url: str
    """The page's URL after the action."""
    error: str | None = None

    @classmethod
    def of(cls, record: StepRecord) -> PastStep:
        return cls(
            number=record.number,
            action=record.action,
            element=record.element,
            url=record.url,
            error=record.error,
        )


class StopReason(StrEnum):
    """Why the actions of one answer stopped before the last of them."""

    failed = "failed"
    """An action failed on the page: the plan behind the rest no longer holds."""
    navigated = "navigated"
    """The page navigated, loaded a new document, or another tab became current."""
    changed = "changed"
    """The element a later action names is gone or has been replaced."""
    decision = "decision"
    """`complete` or `terminate` came after page actions: it needs a look at the result first."""
    budget = "budget"
    """The run's max_steps (or the per-answer limit) was reached."""


class NotRun(BaseModel):
    """The actions of the model's last answer that were not run, and why."""

    actions: list[Action]
    reason: StopReason
    after: int | None = None
    """Step number of the last action that ran (None if none did)."""
    detail: str = ""
    """A short fact behind the reason, e.g. the new URL or the element that went away."""


class Loop(BaseModel):
    """The last steps repeat a short cycle of actions on the same page states."""

    cycle: list[PastStep]
    """One round of the cycle, oldest first."""
    repeats: int
    """Rounds seen in a row."""
    stop_at: int
    """Rounds at which the run is ended if the cycle goes on."""


class Healing(BaseModel):
    """One step of a published script that no longer works on the page (a code rerun)."""

    intent: str
    """The step's intent, as recorded."""
    broken: str
    """What broke: the action and the locators that matched nothing."""


class Feedback(BaseModel):
    """Notes for the next step, beside the history."""

    refuted: str | None = None
    """The verifier's reason for refusing the model's claim that the task is complete."""
    loop: Loop | None = None
    not_run: NotRun | None = None
    healing: Healing | None = None
    """The step is the agent taking over one broken step of a published script."""
