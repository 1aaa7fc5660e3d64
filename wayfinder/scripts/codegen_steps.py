"""The step functions of a generated program: one function per script step, its intent as
a comment, each action as Playwright calls on the element's best locator, and after a step that
submits or navigates, a check that the page shows what the run saw."""

from __future__ import annotations

import string

from wayfinder.actions import (
    ClickAction,
    GoBackAction,
    GotoUrlAction,
    HoverAction,
    InputTextAction,
    KeypressAction,
    ScrollAction,
    SelectOptionAction,
    SwitchTabAction,
    UploadFileAction,
    WaitAction,
)
from wayfinder.scripts.codegen_source import (
    Call,
    comment,
    f_literal,
    fits,
    literal,
    statement,
)
from wayfinder.scripts.model import (
    ElementTarget,
    Locator,
    Script,
    ScriptAction,
    ScriptStep,
    start_relative,
)

SCROLL_PX = 600
_SUBMITTING = (ClickAction, KeypressAction, GotoUrlAction, GoBackAction)


def _locator_calls(locator: Locator) -> list[Call]:
    calls: list[Call] = []
    if locator.within is not None:
        calls.append(Call("locator", [literal(locator.within)]))
        if locator.within_text is not None:
            calls.append(Call("filter", [f"has_text={literal(locator.within_text)}"]))
    if locator.kind == "role":
        args = [literal(locator.role or "")]
        if locator.name is not None:
            args.append(f"name={literal(locator.name)}")
            if locator.exact:
                args.append("exact=True")
        calls.append(Call("get_by_role", args))
    elif locator.kind == "css":
        calls.append(Call("locator", [literal(locator.value)]))
    else:
        method = {"alt": "get_by_alt_text"}.get(locator.kind, f"get_by_{locator.kind}")
        args = [literal(locator.value)]
        if locator.exact and locator.kind != "test_id":
            args.append("exact=True")
        calls.append(Call(method, args))
    return calls


def _element(target: ElementTarget) -> list[Call]:
    """The calls from `page` to the target's element: its frames, then its best locator."""
    calls = [Call("frame_locator", [literal(selector)]) for selector in target.frames]
    return calls + _locator_calls(target.locators[0])


class StepWriter:
    """The body of one step's function, and the names it needs."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.lines: list[str] = []
        self.arguments: list[str] = []
        self.uses_urljoin = False
        self.uses_expect = False
        self.switches_tab = False

    def _argument(self, name: str) -> str:
        if name not in self.arguments:
            self.arguments.append(name)
        return name

    def _on(self, action: ScriptAction, calls: list[Call]) -> None:
        assert action.target is not None
        self.lines += statement("    ", "page", [*_element(action.target), *calls])

    def _page(self, calls: list[Call]) -> None:
        self.lines += statement("    ", "page", calls)

    def action(self, action: ScriptAction) -> None:
        a = action.action
        value = self._argument(action.parameter) if action.parameter else None
        if isinstance(a, ClickAction):
            self._on(action, [Call("click")])
        elif isinstance(a, InputTextAction):
            self._on(action, [Call("fill", [value or literal(a.text)])])
            if a.press_enter:
                self._on(action, [Call("press", [literal("Enter")])])
        elif isinstance(a, SelectOptionAction):
            option = value or literal(a.option)
            if action.target is not None and action.target.tag == "select":
                self._on(action, [Call("select_option", [option])])
            else:  # an ARIA combobox: open it, then pick the option
                self._on(action, [Call("click")])
                self._page(
                    [Call("get_by_role", [literal("option"), f"name={option}"]), Call("click")]
                )
        elif isinstance(a, UploadFileAction):
            self._on(action, [Call("set_input_files", [value or literal(a.path)])])
        elif isinstance(a, HoverAction):
            self._on(action, [Call("hover")])
        elif isinstance(a, KeypressAction):
            for key in a.keys:
                self.lines.append(f"    page.keyboard.press({literal(key)})")
        elif isinstance(a, ScrollAction):
            if action.target is not None and action.target.locators:
                self._on(action, [Call("hover")])
            dy = SCROLL_PX if a.direction == "down" else -SCROLL_PX
            self.lines.append(f"    page.mouse.wheel(0, {dy})")
        elif isinstance(a, WaitAction):
            self.lines.append(f"    page.wait_for_timeout({round(a.seconds * 1000)})")
        elif isinstance(a, GotoUrlAction):
            self._page([Call("goto", [self._url(a.url)])])
        elif isinstance(a, GoBackAction):
            self.lines.append("    page.go_back()")
        elif isinstance(a, SwitchTabAction):
            self.switches_tab = True
            self.lines.append(f"    page = page.context.pages[{a.tab_index}]")
            self.lines.append("    page.bring_to_front()")

    def _url(self, recorded: str) -> str:
        """A URL on the start URL's host follows the `url` parameter (staging → production):
        `urljoin(url, ...)` of its `start_relative` part, which is what `rebase_url` gives the
        replay of a rerun."""
        relative = start_relative(recorded, self.script.url)
        if relative is None:
            return literal(recorded)
        self.uses_urljoin = True
        return f"urljoin({self._argument('url')}, {literal(relative)})"

    def check(self, action: ScriptAction) -> None:
        """After a step that submits or navigates: the page shows the text the run saw."""
        if not isinstance(action.action, _SUBMITTING) and not (
            isinstance(action.action, InputTextAction) and action.action.press_enter
        ):
            return
        if action.after is None or action.after.text is None:
            return
        for _, name, _, _ in string.Formatter().parse(action.after.text):
            if name:
                self._argument(name)
        self.uses_expect = True
        text = f_literal(action.after.text)
        self.lines.append("    # The run saw this when the step was done:")
        self.lines += _expect_lines(text)


def _expect_lines(text: str) -> list[str]:
    one = f"    expect(page.get_by_text({text}).first).to_be_visible()"
    if fits(one):
        return [one]
    arg = f"        page.get_by_text({text}).first"
    return ["    expect(", arg if fits(arg) else f"{arg}  # noqa: E501", "    ).to_be_visible()"]


def _signature(name: str, arguments: list[str], returns: str) -> list[str]:
    params = ["page: Page", *(f"{a}: str" for a in arguments)]
    one = f"def {name}({', '.join(params)}) -> {returns}:"
    if fits(one):
        return [one]
    return [f"def {name}(", *(f"    {p}," for p in params), f") -> {returns}:"]


def step_function(script: Script, step: ScriptStep) -> tuple[list[str], StepWriter]:
    writer = StepWriter(script)
    for action in step.actions:
        writer.action(action)
    writer.check(step.actions[-1])
    returns = "Page" if writer.switches_tab else "None"
    body = writer.lines + (["    return page"] if writer.switches_tab else [])
    lines = [
        *_signature(step.function_name, writer.arguments, returns),
        *comment(step.intent),
        *body,
    ]
    return lines, writer
