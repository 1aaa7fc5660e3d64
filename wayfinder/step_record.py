"""`StepRecord`: one entry of a run's step log (an action the model chose, or a recovery)."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from wayfinder.actions import LoggedAction
from wayfinder.scripts.model import ElementTarget, PageCheck
from wayfinder.usage import TokenUsage


class StepRecord(BaseModel):
    """One AI step, compact enough to keep in workflow history."""

    number: int
    action: LoggedAction
    """The validated action the model chose (see `wayfinder.actions`), or a recovery."""
    element: str | None = None
    """What the action acted on, e.g. "button 'Send'"."""
    url: str
    """The page's URL after the action."""
    target: ElementTarget | None = None
    """How to find the action's element again (locators checked unique when it acted), for
    published scripts. Never holds a typed value; a password field is marked `secret`."""
    sealed_text: str | None = None
    """The value typed into a password field (`target.secret`), encrypted with the workers' key
    (`wayfinder.secrets.SecretBox`); the action's own `text` then shows `SECRET_STAND_IN`."""
    after: PageCheck | None = None
    """What the page showed right after the action (URL, a short text that appeared)."""
    error: str | None = None
    """Why the action failed on the page, if it did (the model sees this next step)."""
    screenshot_key: str | None = None
    snapshot_key: str | None = None
    page_tokens: int = 0
    """Estimated tokens of the page description the model read."""
    page_state: str = ""
    """A short hash of that description: equal on an unchanged page (loop detection uses it).
    The actions of one answer share it, and their `snapshot_key`."""
    reasks: int = 0
    """Invalid answers the model had to correct in this step."""
    usage: TokenUsage = Field(default_factory=TokenUsage)
    duration_ms: int = 0

    @property
    def action_type(self) -> str:
        return self.action.type

    def summary(self) -> str:
        """One line for logs and for the model's history of the run."""
        details = self.action.model_dump(
            mode="json", exclude_none=True, exclude={"type", "element_id"}
        )
        element_id = getattr(self.action, "element_id", None)
        target = f" [{element_id}] {self.element}" if self.element else ""
        args = f" {json.dumps(details, ensure_ascii=False)}" if details else ""
        outcome = f" FAILED: {self.error}" if self.error else ""
        return f"{self.number}. {self.action_type}{target}{args} -> {self.url}{outcome}"
