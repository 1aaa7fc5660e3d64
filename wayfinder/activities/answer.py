"""One answer of the model, split into the page actions to run and what cannot run at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wayfinder.actions import Action, CompleteAction, EnterVerificationCodeAction, TerminateAction
from wayfinder.feedback import NotRun, StopReason

MAX_ACTIONS_PER_ANSWER = 12
"""A longer list is cut here: a plan that long rarely survives the page it was made on."""


_ALONE = (CompleteAction, TerminateAction, EnterVerificationCodeAction)
"""Actions only ever taken on their own: a decision, or the 2FA code (typed by its own
activity, which fetches the code, so it cannot run inside a list)."""


@dataclass
class AnswerPlan:
    decision: CompleteAction | TerminateAction | EnterVerificationCodeAction | None
    """An action of `_ALONE` as the answer's first action: taken, and nothing else runs."""
    page_actions: list[Action] = field(default_factory=list)
    leftover: list[Action] = field(default_factory=list)
    """Actions that do not run whatever the page does (after a decision, or over the limit)."""
    leftover_reason: StopReason = StopReason.decision

    def not_run(
        self,
        reason: StopReason,
        after: int | None,
        detail: str = "",
        stopped: Sequence[Action] = (),
    ) -> NotRun | None:
        """What did not run: `stopped` (cut off by the page) and the leftover, or None."""
        actions = [*stopped, *self.leftover]
        if not actions:
            return None
        return NotRun(
            actions=actions,
            reason=reason if stopped else self.leftover_reason,
            after=after,
            detail=detail if stopped else "",
        )


def split_answer(actions: Sequence[Action], max_actions: int | None = None) -> AnswerPlan:
    """Page actions run in order; a decision is taken only on its own, before any page action.

    A `complete` after page actions would be a claim about a page the model has not seen yet,
    so it is handed back as not run and the model looks again.
    """
    first = actions[0]
    if isinstance(first, _ALONE):
        return AnswerPlan(decision=first, leftover=list(actions[1:]))
    cut = next((i for i, a in enumerate(actions) if isinstance(a, _ALONE)), len(actions))
    page, leftover = list(actions[:cut]), list(actions[cut:])
    limit = min(MAX_ACTIONS_PER_ANSWER, max_actions or MAX_ACTIONS_PER_ANSWER)
    if len(page) > limit:
        return AnswerPlan(
            decision=None,
            page_actions=page[:limit],
            leftover=page[limit:] + leftover,
            leftover_reason=StopReason.budget,
        )
    return AnswerPlan(decision=None, page_actions=page, leftover=leftover)
