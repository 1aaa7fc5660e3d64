"""Several actions in one answer: how they are checked, split, run on a page, and reported."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from tests.fixtures.sites import SiteServer
from wayfinder.actions import (
    ClickAction,
    CompleteAction,
    InputTextAction,
    SelectOptionAction,
    WaitAction,
)
from wayfinder.activities.answer import MAX_ACTIONS_PER_ANSWER, split_answer
from wayfinder.browser.batch import run_actions
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot
from wayfinder.feedback import Feedback, NotRun, StopReason
from wayfinder.llm import prompts
from wayfinder.llm.client import ToolCall, ToolUse
from wayfinder.llm.decisions import ModelSettings, decide_action
from wayfinder.models import TokenUsage

PAGE = "URL: http://shop.test/\n[1]<input name=q>\n[2]<button>Go</button>"


class ListingModel:
    """Answers each call with the given list of tool calls, and keeps what it was asked."""

    def __init__(self, *answers: list[tuple[str, dict[str, Any]]]) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []

    async def call_tool(self, **request: Any) -> ToolCall:
        self.asked.append(request)
        calls = [ToolUse(name=name, input=args) for name, args in self.answers.pop(0)]
        usage = TokenUsage(input_tokens=50, output_tokens=5, model_calls=1)
        return ToolCall(name=calls[0].name, input=calls[0].input, text="", usage=usage, calls=calls)


async def test_an_answer_of_several_tool_calls_is_a_list_and_one_bad_call_reasks_it() -> None:
    model = ListingModel(
        [("input_text", {"element_id": "1", "text": "tea"}), ("click", {"element_id": "7"})],
        [("input_text", {"element_id": "1", "text": "tea"}), ("click", {"element_id": "2"})],
    )
    decision = await decide_action(
        model,  # type: ignore[arg-type]
        ModelSettings(name="m"),
        task="Search for tea",
        page=PAGE,
        element_ids={"1", "2"},
        history=[],
    )
    assert decision.actions == [
        InputTextAction(element_id="1", text="tea"),
        ClickAction(element_id="2"),
    ]
    assert decision.reasks == 1 and decision.usage.model_calls == 2
    assert "There is no element [7]" in model.asked[1]["user"]
    assert model.asked[0]["several"] is True


def test_complete_is_taken_only_on_its_own_and_long_lists_are_cut() -> None:
    fill = InputTextAction(element_id="1", text="tea")
    done = CompleteAction(summary="done")
    plan = split_answer([fill, done])
    assert plan.decision is None and plan.page_actions == [fill]
    not_run = plan.not_run(StopReason.decision, 1)
    assert not_run == NotRun(actions=[done], reason=StopReason.decision, after=1)
    alone = split_answer([done, fill])
    assert alone.decision == done and alone.leftover == [fill]
    many = [WaitAction(seconds=0.1)] * (MAX_ACTIONS_PER_ANSWER + 2)
    cut = split_answer(many, max_actions=3)
    assert len(cut.page_actions) == 3 and cut.leftover_reason is StopReason.budget
    assert split_answer([fill]).not_run(StopReason.decision, 1) is None


def test_the_model_is_told_which_actions_did_not_run_and_why() -> None:
    note = prompts.feedback_lines(
        Feedback(
            not_run=NotRun(
                actions=[InputTextAction(element_id="4", text="x")],
                reason=StopReason.navigated,
                after=7,
                detail="now at http://shop.test/done",
            )
        )
    )
    assert len(note) == 1
    assert "did not run" in note[0] and "after action 7" in note[0]
    assert 'input_text [4] {"text": "x"' in note[0] and "http://shop.test/done" in note[0]


FORM = """<!doctype html><title>Form</title>
<form action="/list-done" method="get">
<label for=a>A</label><input id=a name=a>
<label for=b>B</label><input id=b name=b>
<label for=k>Kind</label><select id=k name=k><option>One</option><option>Two</option></select>
<button id=go>Send</button></form>
<button id=swap onclick="document.querySelector('form').outerHTML = '<form><input id=a></form>'">
Swap</button><input type=checkbox id=box aria-label=Box>
"""


@pytest.fixture
async def form(page: Page, sites: SiteServer) -> tuple[Page, PageSnapshot]:
    sites.add_page("/list-form", FORM)
    sites.add_page("/list-done", "<!doctype html><title>Done</title><p>Sent.</p>")
    await page.goto(f"{sites.url}/list-form")
    return page, await take_snapshot(page)


def _id(snapshot: PageSnapshot, text: str) -> str:
    return next(ref.id for ref in snapshot.elements.values() if text in ref.describe())


async def test_a_list_runs_in_order_until_the_page_navigates(
    form: tuple[Page, PageSnapshot],
) -> None:
    page, snap = form
    a, b, kind, send = (_id(snap, t) for t in ("'A'", "'B'", "Kind", "Send"))
    later = InputTextAction(element_id=a, text="again")
    outcome = await run_actions(
        page,
        snap,
        [
            InputTextAction(element_id=a, text="one"),
            SelectOptionAction(element_id=kind, option="Two"),
            InputTextAction(element_id=b, text="two"),
            ClickAction(element_id=send),
            later,
        ],
    )
    assert [r.error for r in outcome.ran] == [None] * 4
    assert outcome.not_run == [later] and outcome.stop is StopReason.navigated
    assert outcome.page.url.endswith("/list-done?a=one&b=two&k=Two")


async def test_a_list_stops_when_its_next_element_is_replaced_or_an_action_fails(
    form: tuple[Page, PageSnapshot],
) -> None:
    page, snap = form
    a, swap = _id(snap, "'A'"), _id(snap, "Swap")
    fill = InputTextAction(element_id=a, text="late")
    outcome = await run_actions(page, snap, [ClickAction(element_id=swap), fill])
    assert len(outcome.ran) == 1 and outcome.not_run == [fill]
    assert outcome.stop is StopReason.changed and f"[{a}]" in outcome.detail
    await page.reload()
    snap = await take_snapshot(page)
    wrong = InputTextAction(element_id=_id(snap, "Box"), text="x")  # a checkbox: no text
    rest = ClickAction(element_id=_id(snap, "Send"))
    failed = await run_actions(page, snap, [wrong, rest])
    assert failed.ran[0].error and "not a text field" in failed.ran[0].error
    assert failed.not_run == [rest] and failed.stop is StopReason.failed
