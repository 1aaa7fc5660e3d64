"""Building a script from a step log and rendering it, without a browser: parameters, secrets,
what is left out, and code that passes ruff whatever the page's names look like."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wayfinder.actions import (
    ClickAction,
    CompleteAction,
    GotoUrlAction,
    InputTextAction,
    KeypressAction,
    RecoverAction,
    SelectOptionAction,
)
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.build import NotPublishableError, build_script, parameter_name
from wayfinder.scripts.codegen import generate_code
from wayfinder.scripts.model import (
    ElementTarget,
    ExtractionPlan,
    FieldSource,
    Locator,
    PageCheck,
    ScriptAction,
    rebase_url,
)

START = "https://staging.example.com/signup"


def _field(label: str, *, secret: bool = False, tag: str = "input") -> ElementTarget:
    return ElementTarget(
        locators=[Locator(kind="label", value=label)],
        tag=tag,
        input_type="password" if secret else ("text" if tag == "input" else None),
        field_name=label,
        secret=secret,
    )


def _type(n: int, label: str, text: str, **kw: bool) -> StepRecord:
    return StepRecord(
        number=n,
        action=InputTextAction(element_id=str(n), text=text),
        element=f"input '{label}'",
        url=START,
        target=_field(label, **kw),
        after=PageCheck(url=START),
    )


def _click(n: int, name: str, after: PageCheck | None = None) -> StepRecord:
    return StepRecord(
        number=n,
        action=ClickAction(element_id=str(n)),
        element=f"button '{name}'",
        url=START,
        target=ElementTarget(
            locators=[Locator(kind="role", role="button", name=name)], tag="button"
        ),
        after=after or PageCheck(url=START),
    )


def test_parameter_names_are_snake_case_identifiers_and_unique() -> None:
    taken = {"url"}
    names = [
        parameter_name(label, taken)
        for label in ["E-mail address", "E-mail address", "Class", "2nd line", "URL", None, "É"]
    ]
    assert names == [
        "e_mail_address",
        "e_mail_address_2",
        "class_value",
        "field_2nd_line",
        "url_value",
        "value",
        "value_2",
    ]


def test_a_password_becomes_a_secret_parameter_scrubbed_everywhere() -> None:
    request = TaskRunRequest(
        prompt="Sign up as Ada with password hunter22 and say hello", url=START
    )
    welcome = PageCheck(url=f"{START}/done", text="Welcome, Ada! Your password hunter22 is set.")
    steps = [
        _type(1, "Name", "Ada"),
        _type(2, "Password", "hunter22", secret=True),
        _click(3, "Sign up", after=welcome),
    ]
    script = build_script(request, steps)
    password = script.parameter("password")
    assert password is not None and password.secret and password.default is None
    assert "hunter22" not in script.model_dump_json()
    assert script.prompt == "Sign up as Ada with password [secret] and say hello"
    # The page check that showed the password is dropped, the rest kept.
    after = script.steps[-1].actions[0].after
    assert after == PageCheck(url=f"{START}/done", text=None)
    assert "hunter22" not in generate_code(script)


def test_a_password_typed_again_into_a_plain_field_cannot_be_published() -> None:
    request = TaskRunRequest(prompt="Sign up", url=START)
    steps = [_type(1, "Password", "hunter22", secret=True), _type(2, "Notes", "hunter22")]
    with pytest.raises(NotPublishableError, match=r"step 2 .*password field"):
        build_script(request, steps)


def test_failed_actions_recoveries_and_the_completion_are_left_out() -> None:
    request = TaskRunRequest(prompt="Say hi", url=START)
    failed = _click(1, "Hi").model_copy(update={"error": "it is covered by another element"})
    recover = StepRecord(number=2, action=RecoverAction(reason="worker died"), url=START)
    done = StepRecord(number=4, action=CompleteAction(summary="said hi"), url=START)
    script = build_script(request, [failed, recover, _click(3, "Hi"), done])
    assert [(s.number, s.intent) for s in script.steps] == [(3, "Click button 'Hi'")]
    assert [p.name for p in script.parameters] == ["url"]


def test_an_element_without_locators_names_the_step() -> None:
    request = TaskRunRequest(prompt="Click it", url=START)
    unrecorded = _click(1, "Go").model_copy(update={"target": None})
    with pytest.raises(NotPublishableError, match=r"step 1 \(click button 'Go'\)"):
        build_script(request, [unrecorded])


def test_a_run_without_a_url_or_any_action_cannot_be_published() -> None:
    with pytest.raises(NotPublishableError, match="give run_task a url"):
        build_script(TaskRunRequest(prompt="x"), [_click(1, "Go")])
    done = StepRecord(number=1, action=CompleteAction(summary="nothing to do"), url=START)
    with pytest.raises(NotPublishableError, match="nothing to replay"):
        build_script(TaskRunRequest(prompt="x", url=START), [done])


def test_values_bind_and_pages_check_on_another_host() -> None:
    action = ScriptAction(action=SelectOptionAction(element_id="3", option="Tools"), parameter="c")
    assert action.bound({"c": "Garden"}) == SelectOptionAction(element_id="3", option="Garden")
    check = PageCheck(url="https://staging.example.com/admin/new?x=1", text="Added {{1}} {name}")
    on_prod = check.rebased(START, "https://prod.example.com/")
    assert on_prod.url_matches("https://prod.example.com/admin/new/?x=2")
    assert not on_prod.url_matches("https://prod.example.com/admin/login")
    # A rerun on prod that is back on staging is not where it should be.
    assert not on_prod.url_matches("https://staging.example.com/admin/new")
    assert check.expected_text({"name": "Kettle"}) == "Added {1} Kettle"
    assert (
        rebase_url("https://staging.example.com/a?b=1", START, "https://prod.example.com/")
        == "https://prod.example.com/a?b=1"
    )
    assert rebase_url("https://other.org/a", START, "https://prod.example.com/") == (
        "https://other.org/a"
    )


def test_recorded_targets_stay_compact_in_history() -> None:
    target = _field("Email")
    assert target.model_dump(mode="json") == {
        "locators": [{"kind": "label", "value": "Email"}],
        "tag": "input",
        "input_type": "text",
        "field_name": "Email",
    }
    assert ElementTarget.model_validate_json(target.model_dump_json()) == target


def test_awkward_names_still_give_code_that_passes_ruff(tmp_path: Path) -> None:
    long_name = "I have read and agree to the terms of service, the privacy policy and " * 2
    quoted = 'Say "hi" {now} \\ back'
    frame_button = ElementTarget(
        locators=[
            Locator(
                kind="role",
                role="button",
                name=long_name.strip()[:110],
                within="section.checkout",
                within_text="Your order",
            )
        ],
        frames=["html > body > main > div:nth-of-type(2) > iframe#payment-frame-outer"],
        tag="button",
    )
    combo = ElementTarget(
        locators=[Locator(kind="role", role="combobox", name="Country")], tag="div"
    )
    steps = [
        _type(1, quoted, 'a "quoted" {value}'),
        StepRecord(
            number=2,
            action=SelectOptionAction(element_id="9", option="Åland Islands"),
            element="combobox 'Country'",
            url=START,
            target=combo,
        ),
        StepRecord(
            number=3,
            action=ClickAction(element_id="5"),
            element="button",
            url=START,
            target=frame_button,
            after=PageCheck(url=START, text='Thanks a "quoted" {value} — see you'),
        ),
        StepRecord(number=4, action=KeypressAction(keys=["Control+A", "Tab"]), url=START),
        StepRecord(
            number=5, action=GotoUrlAction(url="https://staging.example.com/orders?id=7"), url=START
        ),
    ]
    plan = ExtractionPlan(
        rows="html > body > main > section > article.card",
        limit=3,
        shape="object_with_array",
        array_field="orders",
        fields=[
            FieldSource(field="link", selector="a", attribute="href"),
            FieldSource(field="id", selector="p.id", type="integer", pattern=r'^Order "(\d+)"$'),
            FieldSource(field="total", selector=":scope > p:nth-of-type(2)", type="number"),
            FieldSource(field="note", selector="", pattern=r"^Note: (.*?)\.$"),
        ],
    )
    request = TaskRunRequest(
        prompt='Pay """now""" \\o/ ' * 20, url=START, data_extraction_schema={"type": "object"}
    )
    script = build_script(request, steps, extraction=plan)
    code = generate_code(script)
    path = tmp_path / "awkward.py"
    path.write_text(code)
    ruff = Path(sys.executable).with_name("ruff")
    checked = subprocess.run(
        [str(ruff), "check", "--isolated", "--line-length", "100", "--select",
         "E,F,I,UP,B,ASYNC,RUF", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + code
    compiled = compile(code, "awkward.py", "exec")
    assert compiled is not None
    assert 'urljoin(url, "/orders?id=7")' in code
    assert 'page.get_by_role("option", name=country).click()' in code
    assert 'page.keyboard.press("Control+A")' in code
    assert '"note": read(row, "", pattern=r"^Note: (.*?)\\.$"),' in code
    assert "for row in page.locator(ROWS).all()[:3]" in code
    # The typed value in the page check is its parameter (an f-string), braces and all.
    assert 'f"Thanks {say_hi_now_back} — see you"' in code
