"""What the agent is asked when a script's action no longer matches the page, and how its
answer repairs the script. Pure functions on the script model, safe in workflow code."""

from __future__ import annotations

from wayfinder.actions import ClickAction, GotoUrlAction, InputTextAction, SelectOptionAction
from wayfinder.models import StepRecord
from wayfinder.scripts.model import (
    SECRET_STAND_IN,
    ElementTarget,
    PageCheck,
    ScriptAction,
    rebase_url,
    rebased,
)


def element_name(target: ElementTarget | None) -> str:
    """How a person would name the recorded element: its accessible name, label or text."""
    if target is None:
        return "the element"
    for locator in target.locators:
        if locator.kind == "role" and locator.name:
            return locator.name
        if locator.kind in ("label", "placeholder", "text", "title", "alt") and locator.value:
            return locator.value
    return target.field_name or target.tag


def element_role(target: ElementTarget | None) -> str | None:
    """The recorded element's role when it names a kind of control (button, link, tab...)."""
    if target is None:
        return None
    role = next((loc.role for loc in target.locators if loc.kind == "role"), None)
    if role is None and target.tag in ("button", "a"):
        role = "button" if target.tag == "button" else "link"
    return role if role in ("button", "link", "tab", "checkbox", "radio", "menuitem") else None


def instruction(scripted: ScriptAction, values: dict[str, str], recorded_start: str) -> str:
    """The one-step task for the agent, written as a user would (values filled in; a secret
    replaced by a stand-in; an address on the recorded start's host on this rerun's)."""
    action = rebased(scripted.bound(values), recorded_start, values["url"])
    if isinstance(action, GotoUrlAction):
        return f"Go to {action.url}"
    name = element_name(scripted.target)
    secret = scripted.target is not None and scripted.target.secret
    if isinstance(action, InputTextAction):
        text = SECRET_STAND_IN if secret else action.text
        return f'Fill "{text}" into "{name}"'
    if isinstance(action, SelectOptionAction):
        return f'Select "{action.option}" from "{name}"'
    if isinstance(action, ClickAction):
        # The kind of element says what to look for when its text changed ("the ... button").
        kind = element_role(scripted.target)
        return f'Click the "{name}" {kind}' if kind else f'Click "{name}"'
    return f"{action.type.replace('_', ' ')} {name}"


def repaired(
    scripted: ScriptAction, record: StepRecord, values: dict[str, str], recorded_start: str
) -> ScriptAction:
    """The scripted action with the element the agent used and what the page showed after.

    The action keeps its kind and parameter when the agent did the same kind of thing;
    otherwise the agent's action replaces it (a field that became a drop-down). What the page
    showed is kept in the script's terms: a URL on this rerun's host (`values["url"]`) goes
    back to the host the script was recorded on (`recorded_start`), where the script's other
    URLs are, so that every later rerun rebases them all alike."""
    after = scripted.after
    if record.after is not None:
        url = record.after.url
        if url is not None:
            url = rebase_url(url, values["url"], recorded_start)
        after = PageCheck(url=url, text=_template(record.after.text, values))
    same_kind = record.action.type == scripted.action.type
    return ScriptAction(
        action=scripted.action if same_kind else record.action,  # type: ignore[arg-type]
        target=record.target,
        parameter=scripted.parameter if same_kind else None,
        after=after,
    )


def types_a_value(scripted: ScriptAction) -> bool:
    """Whether replaying the action again after a repair is harmless and needed: it types or
    chooses a value (the agent typed a stand-in, or a value the rerun must set itself)."""
    return isinstance(scripted.action, InputTextAction | SelectOptionAction)


def _template(text: str | None, values: dict[str, str]) -> str | None:
    """The agent's literal page text as a script's format string: braces doubled, this
    rerun's parameter values (the longest first) turned back into `{name}` placeholders."""
    if text is None:
        return None
    template = text.replace("{", "{{").replace("}", "}}")
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if name != "url" and len(value) >= 3:
            template = template.replace(value, "{" + name + "}")
    return template
