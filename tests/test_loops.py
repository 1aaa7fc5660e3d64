"""Loop detection on step logs: short cycles on unchanged pages, with wait and scroll."""

from __future__ import annotations

from wayfinder.actions import Action, ClickAction, RecoverAction, ScrollAction, WaitAction
from wayfinder.llm import prompts
from wayfinder.models import StepRecord
from wayfinder.workflows.loops import ended_reason, find_loop


def log(*answers: tuple[str, list[Action]]) -> list[StepRecord]:
    """A step log: one answer per (page state, actions), numbered from 1."""
    steps: list[StepRecord] = []
    for index, (state, actions) in enumerate(answers):
        for action in actions:
            steps.append(
                StepRecord(
                    number=len(steps) + 1,
                    action=action,
                    url=f"http://site.test/{state}",
                    page_state=state,
                    snapshot_key=f"run/step-{index:03d}.txt",
                )
            )
    return steps


A = ClickAction(element_id="1")
B = ClickAction(element_id="2")
C = ClickAction(element_id="3")


def test_one_action_three_times_on_the_same_page_is_a_loop() -> None:
    assert find_loop(log(("s", [A]), ("s", [A]))) is None
    loop = find_loop(log(("s", [A]), ("s", [A]), ("s", [A])))
    assert loop is not None and loop.repeats == 3 and [s.action for s in loop.cycle] == [A]
    assert "this is a loop" in prompts.loop_note(loop)


def test_cycles_of_two_and_three_answers_are_loops() -> None:
    two = find_loop(log(("p", [A]), ("q", [B]), ("p", [A]), ("q", [B])))
    assert two is not None and [s.action for s in two.cycle] == [A, B] and two.repeats == 2
    three = log(
        *[(state, [action]) for state, action in zip("pqr" * 2, [A, B, C] * 2, strict=True)]
    )
    loop = find_loop(three)
    assert loop is not None and [s.action for s in loop.cycle] == [A, B, C]
    assert find_loop(three[:-1]) is None


def test_the_same_actions_on_a_changing_page_are_progress() -> None:
    # "Next page" on pages 1, 2, 3, 4: the same click, a new page every time.
    assert find_loop(log(*[(f"page-{n}", [A]) for n in range(6)])) is None


def test_scrolling_down_a_long_page_is_progress_and_at_its_bottom_a_loop() -> None:
    down = ScrollAction(direction="down")
    assert find_loop(log(*[(f"at-{y}", [down]) for y in range(0, 5000, 700)])) is None
    loop = find_loop(
        log(("at-4200", [down]), ("bottom", [down]), ("bottom", [down]), ("bottom", [down]))
    )
    assert loop is not None and loop.repeats == 3
    # Down and up again, twice, between the same two views: going nowhere.
    cycle = log(
        ("top", [down]), ("mid", [ScrollAction(direction="up")]),
        ("top", [down]), ("mid", [ScrollAction(direction="up")]),
    )  # fmt: skip
    assert find_loop(cycle) is not None


def test_waiting_on_a_page_that_does_not_change_is_a_loop_whatever_the_seconds() -> None:
    waits = [WaitAction(seconds=s) for s in (1, 2, 5)]
    assert find_loop(log(*[("loading", [w]) for w in waits])) is not None
    assert find_loop(log(*[(f"loaded-{i}", [w]) for i, w in enumerate(waits)])) is None


def test_the_actions_of_one_answer_count_as_one_round() -> None:
    # Three Tabs in one answer are one plan, not a loop; the same plan three times is.
    tabs: list[Action] = [ClickAction(element_id="9")] * 3
    assert find_loop(log(("form", tabs))) is None
    loop = find_loop(log(("form", [A, B]), ("form", [A, B]), ("form", [A, B])))
    assert loop is not None and len(loop.cycle) == 2 and loop.repeats == 3


def test_a_recovery_breaks_a_cycle_and_the_stop_comes_after_the_warning() -> None:
    steps = log(("s", [A]), ("s", [A]), ("s", [A]))
    steps.insert(2, StepRecord(number=99, action=RecoverAction(reason="lost"), url="x"))
    assert find_loop(steps) is None
    loop = find_loop(log(*[("s", [A])] * 5))
    assert loop is not None and loop.repeats == loop.stop_at == 5
    assert "stuck in a loop" in ended_reason(loop)
