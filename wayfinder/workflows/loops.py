"""Loop detection: the model going round a short cycle of answers on pages that do not change.

Deterministic (it reads only the step log), so the workflow can run it. An *answer* is the
actions the model gave for one page description (its records share `snapshot_key`); its key
is the page it saw (`page_state`) and what it did. A cycle of 1 to 3 answers repeated on the
same page states is a loop: A,A,A or A,B,A,B or A,B,C,A,B,C.

`wait` and `scroll` need no special case beyond one: the page state says whether they helped.
Scrolling down a long page shows a new part of it each time (a new state, no loop); scrolling at
the bottom, or waiting on a page that does not change, gives the same state again (a loop).
The seconds of a `wait` do not count: waiting 1 s, then 2 s, then 5 s on a frozen page is the
same thing done three times.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from wayfinder.actions import RecoverAction, WaitAction
from wayfinder.feedback import Loop, PastStep
from wayfinder.models import StepRecord

MAX_PERIOD = 3
"""Longest cycle looked for, in answers."""
WARN_AT = {1: 3}
"""Rounds in a row before the warning: three for one repeated answer, else two (`DEFAULT_WARN`)."""
DEFAULT_WARN = 2
ROUNDS_AFTER_WARNING = 2
"""Rounds the model may go on cycling after the warning before the run is ended."""


def _answers(steps: Sequence[StepRecord]) -> list[list[StepRecord]]:
    """The step log as answers: consecutive records of one page description."""
    return [
        list(group)
        for _, group in groupby(
            steps, key=lambda s: (s.snapshot_key or f"#{s.number}", s.page_state)
        )
    ]


def _action_key(step: StepRecord) -> str:
    if isinstance(step.action, WaitAction):
        return "wait"
    return step.action.model_dump_json()


def _key(answer: list[StepRecord]) -> str | None:
    """What makes two answers the same; None for a recovery, which breaks any cycle."""
    if any(isinstance(step.action, RecoverAction) for step in answer):
        return None
    state = answer[0].page_state or answer[0].url
    return state + "|" + "|".join(_action_key(step) for step in answer)


def _rounds(keys: list[str | None], period: int) -> int:
    """How many times the last `period` keys repeat, going back."""
    block = keys[-period:]
    if len(block) < period or None in block:
        return 0
    rounds = 1
    while keys[-period * (rounds + 1) : len(keys) - period * rounds] == block:
        rounds += 1
    return rounds


def find_loop(steps: Sequence[StepRecord]) -> Loop | None:
    """The shortest cycle the latest answers repeat often enough to warn about, if any."""
    answers = _answers(steps)
    keys = [_key(answer) for answer in answers]
    for period in range(1, MAX_PERIOD + 1):
        rounds = _rounds(keys, period)
        warn_at = WARN_AT.get(period, DEFAULT_WARN)
        if rounds >= warn_at:
            cycle = [PastStep.of(step) for answer in answers[-period:] for step in answer]
            return Loop(cycle=cycle, repeats=rounds, stop_at=warn_at + ROUNDS_AFTER_WARNING)
    return None


def ended_reason(loop: Loop) -> str:
    """The run's failure_reason when the model went on cycling after the warning."""
    return (
        f"stuck in a loop: the same {len(loop.cycle)} action(s) repeated {loop.repeats} times "
        f"on pages that did not change (last at {loop.cycle[-1].url}), after a warning"
    )
