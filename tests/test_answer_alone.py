"""The actions taken only on their own: what the model is told when it put one in a list."""

from __future__ import annotations

from wayfinder.actions import EnterVerificationCodeAction, InputTextAction
from wayfinder.activities.answer import split_answer
from wayfinder.feedback import StopReason
from wayfinder.llm.prompts import not_run_note


def test_a_verification_code_after_page_actions_is_handed_back_naming_it() -> None:
    plan = split_answer(
        [InputTextAction(element_id="3", text="ada"), EnterVerificationCodeAction(element_id="4")]
    )
    assert [a.type for a in plan.page_actions] == ["input_text"]
    not_run = plan.not_run(StopReason.decision, 1)
    assert not_run is not None and not_run.reason is StopReason.decision
    note = not_run_note(not_run)
    # The reason given is the one that applies to the action that did not run.
    assert "enter_verification_code are each taken only on their own" in note
    assert note.endswith("do not assume they happened.")
    assert "enter_verification_code [4]" in note
