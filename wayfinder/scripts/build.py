"""Turning a completed run's step log into a `Script`.

Every value the run typed, chose or attached becomes a named parameter (snake_case of the
field's label or name), the run's value its default; the start URL is the parameter `url`.
A value typed into a password field becomes a secret parameter: blanked in its action, no
default, and scrubbed from everything else the script holds (the prompt, the page checks),
so the script can be stored and shown anywhere.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from wayfinder.actions import (
    Action,
    ClickAction,
    CompleteAction,
    GoBackAction,
    GotoUrlAction,
    HoverAction,
    InputTextAction,
    KeypressAction,
    RecoverAction,
    ScrollAction,
    SelectOptionAction,
    SwitchTabAction,
    TerminateAction,
    UploadFileAction,
    WaitAction,
)
from wayfinder.errors import WayfinderError
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.model import (
    ExtractionPlan,
    PageCheck,
    Script,
    ScriptAction,
    ScriptParameter,
    ScriptStep,
)
from wayfinder.scripts.output_schema import rerun_schema

RESERVED_NAMES = frozenset({"url", "page", "args", "browser_path", "headless", "main"})
"""Names the generated script uses itself; a field called so gets a suffix."""
MAX_NAME_WORDS = 4
_VERBS = {"input_text": "typed into", "select_option": "chosen in", "upload_file": "attached to"}
MIN_TEMPLATED_VALUE = 3
"""Shorter values are not turned into placeholders in page checks ("A" is in every text)."""


class NotPublishableError(WayfinderError):
    """The run cannot become a script (no start URL, no action to replay, or an element whose
    locators could not be recorded); the message says which step and why."""


def parameter_name(label: str | None, taken: set[str]) -> str:
    """A snake_case identifier for a field called `label`, not in `taken` (which it joins)."""
    words = re.findall(r"[a-z0-9]+", (label or "").lower())[:MAX_NAME_WORDS]
    base = "_".join(words) or "value"
    if base[0].isdigit():
        base = f"field_{base}"
    if keyword.iskeyword(base) or base in RESERVED_NAMES:
        base = f"{base}_value"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _value_of(action: Action) -> str | None:
    if isinstance(action, InputTextAction):
        return action.text
    if isinstance(action, SelectOptionAction):
        return action.option
    if isinstance(action, UploadFileAction):
        return action.path
    return None


def _blanked(action: Action) -> Action:
    if isinstance(action, InputTextAction):
        return action.model_copy(update={"text": ""})
    return action


def intent_of(action: ScriptAction) -> str:
    """A sentence saying what the action is for, from what it did and on what."""
    a = action.action
    what = action.target.description if action.target and action.target.description else ""
    value = f"the {action.parameter.replace('_', ' ')}" if action.parameter else "a value"
    if isinstance(a, ClickAction):
        return f"Click {what}"
    if isinstance(a, InputTextAction):
        return f"Type {value} into {what}" + (" and press Enter" if a.press_enter else "")
    if isinstance(a, SelectOptionAction):
        return f"Choose {value} in {what}"
    if isinstance(a, UploadFileAction):
        return f"Attach {value} to {what}"
    if isinstance(a, HoverAction):
        return f"Hover over {what}"
    if isinstance(a, KeypressAction):
        return f"Press {' then '.join(a.keys)}"
    if isinstance(a, ScrollAction):
        return f"Scroll {a.direction}" + (f" in {what}" if what else "")
    if isinstance(a, WaitAction):
        return f"Wait {a.seconds:g} s for the page"
    if isinstance(a, GotoUrlAction):
        return f"Open {a.url}"
    if isinstance(a, GoBackAction):
        return "Go back to the previous page"
    if isinstance(a, SwitchTabAction):
        return f"Switch to tab {a.tab_index}"
    return a.type


def _page_action(record: StepRecord) -> Action | None:
    """The action a rerun takes for this record, if any: the page actions that worked
    (recoveries, decisions and actions that failed on the page are left out: the run itself
    went on without them)."""
    action = record.action
    if record.error is not None or isinstance(
        action, RecoverAction | CompleteAction | TerminateAction
    ):
        return None
    return action


def _check_target(record: StepRecord) -> None:
    if getattr(record.action, "element_id", None) is None:
        return
    if record.target is None or not record.target.locators:
        what = record.element or f"element [{getattr(record.action, 'element_id', '')}]"
        raise NotPublishableError(
            f"step {record.number} ({record.action.type} {what}) cannot be published: no "
            "locator that matched only its element was recorded when it acted; run the task "
            "again (the page may have changed while it acted)"
        )


def _templated(check: PageCheck | None, values: dict[str, str]) -> PageCheck | None:
    """The check with parameter values in its text as `{name}` placeholders."""
    if check is None or check.text is None:
        return check
    text = check.text.replace("{", "{{").replace("}", "}}")
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if len(value) >= MIN_TEMPLATED_VALUE:
            text = text.replace(value.replace("{", "{{").replace("}", "}}"), "{" + name + "}")
    return check.model_copy(update={"text": text})


def _scrubbed(check: PageCheck | None, secrets: list[str]) -> PageCheck | None:
    """The check without any secret value: a text that shows one is dropped, and so is a URL
    carrying one (then only the text is checked)."""
    if check is None:
        return None
    text = check.text
    if text is not None and any(secret in text for secret in secrets):
        text = None
    url = check.url
    if url is not None and any(secret in url for secret in secrets):
        url = None
    return PageCheck(url=url, text=text)


def build_script(
    request: TaskRunRequest,
    steps: Sequence[StepRecord],
    *,
    extraction: ExtractionPlan | None = None,
    output: Any = None,
) -> Script:
    """The script of a completed run: its page actions in order, grouped by step number,
    every typed, chosen or attached value a parameter (secret for a password field: blanked,
    no default), `url` first. Raises NotPublishableError naming the step that cannot be.

    A rerun extracts what the run's `data_extraction_schema` describes, or, when it had none,
    data shaped like the run's `output` (`rerun_schema`)."""
    output_schema = rerun_schema(request.data_extraction_schema, output)
    if request.url is None:
        raise NotPublishableError(
            "a run without a start url cannot be published: give run_task a url"
        )
    taken: set[str] = {"url"}
    parameters = [
        ScriptParameter(name="url", default=request.url, description="the page to start at")
    ]
    values: dict[str, str] = {}
    secrets: list[str] = []
    built: list[tuple[int, list[ScriptAction]]] = []
    replayable = [(r, a) for r in steps if (a := _page_action(r)) is not None]
    for number, group in groupby(replayable, key=lambda pair: pair[0].number):
        actions: list[ScriptAction] = []
        for record, action in group:
            _check_target(record)
            target = record.target
            if target is not None and record.element:
                target = target.model_copy(update={"description": record.element})
            parameter: str | None = None
            value = _value_of(action)
            if value is not None:
                field = target.field_name if target else None
                if field is None and record.element:  # "input 'Email'" -> Email
                    field = record.element.partition(" ")[2].strip("'") or None
                parameter = parameter_name(field, taken)
                secret = bool(target and target.secret)
                where = f"{_VERBS[action.type]} {record.element or 'a field'}"
                if secret:
                    secrets.append(value)
                    action = _blanked(action)
                else:
                    values[parameter] = value
                parameters.append(
                    ScriptParameter(
                        name=parameter,
                        default=None if secret else value,
                        secret=secret,
                        description=where,
                    )
                )
            actions.append(
                ScriptAction(action=action, target=target, parameter=parameter, after=record.after)
            )
        built.append((number, actions))
    if not built and output_schema is None:  # extracting alone is a script
        raise NotPublishableError(
            "the run took no page action that worked, so there is nothing to replay"
        )
    script_steps = []
    for number, actions in built:
        for i, done in enumerate(actions):
            after = _scrubbed(_templated(done.after, values), [s for s in secrets if s])
            actions[i] = done.model_copy(update={"after": after})
        intent = ", then ".join(intent_of(a) for a in actions)
        script_steps.append(ScriptStep(number=number, intent=intent, actions=actions))
    script = Script(
        prompt=_scrub_text(request.prompt, secrets),
        url=request.url,
        steps=script_steps,
        parameters=parameters,
        data_extraction_schema=output_schema,
        extraction=extraction,
    )
    _check_no_secret(script, secrets)
    return script


def _check_no_secret(script: Script, secrets: list[str]) -> None:
    """A password typed into a password field must not show anywhere else in the script."""
    for step in script.steps:
        dump = step.model_dump_json()
        if any(secret and secret in dump for secret in secrets):
            raise NotPublishableError(
                f"step {step.number} ({step.intent}) shows a value that was typed into a "
                "password field; it cannot be published without revealing it"
            )


def _scrub_text(text: str, secrets: list[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "[secret]")
    return text
