"""Rendering a `Script` as a readable, standalone Playwright Python program.

The program needs only Playwright for Python: one function per step with the step's intent as
its comment, the first (best) locator of each element's chain as a semantic `get_by_*` call,
a check after each step that submits or navigates that the page shows what the run saw, and
an argparse CLI with one flag per parameter. A secret parameter has no default and its value
never appears in the code: it comes from its flag or from an environment variable named after
it. It launches Debian's Chromium (`/usr/bin/chromium`, `--no-sandbox` when run as root)
unless `--browser-path` or `WAYFINDER_CHROMIUM_PATH` says otherwise (`""`: Playwright's own).

The output passes `ruff check` (the project's rule set, line length 100) as generated.
"""

from __future__ import annotations

import json
import string
import textwrap
from dataclasses import dataclass, field

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
from wayfinder.scripts.codegen_extract import extraction_code
from wayfinder.scripts.model import ElementTarget, Locator, Script, ScriptAction, ScriptStep

LINE_LENGTH = 100
DEFAULT_BROWSER_PATH = "/usr/bin/chromium"
BROWSER_PATH_VARIABLE = "WAYFINDER_CHROMIUM_PATH"
SCROLL_PX = 600
_SUBMITTING = (ClickAction, KeypressAction, GotoUrlAction, GoBackAction)


def _lit(value: str) -> str:
    """A Python string literal for `value` (JSON's escapes are Python's)."""
    return json.dumps(value, ensure_ascii=False)


def _flit(template: str) -> str:
    """An f-string literal for a `str.format` template (same placeholder syntax)."""
    if any(name for _, name, _, _ in string.Formatter().parse(template)):
        return "f" + _lit(template)
    return _lit(template.format())


@dataclass
class _Call:
    name: str
    args: list[str] = field(default_factory=list)

    def inline(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


def _fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def _statement(indent: str, receiver: str, calls: list[_Call]) -> list[str]:
    """`receiver.call1(...).call2(...)` on one line if it fits; else with the last call's
    arguments one a line; else one call a line inside parentheses (and a call's arguments one
    a line when it is still too long; an argument too long even so is marked for ruff)."""
    one = indent + ".".join([receiver, *(c.inline() for c in calls)])
    if _fits(one):
        return [one]
    head = indent + ".".join([receiver, *(c.inline() for c in calls[:-1]), calls[-1].name])
    if calls[-1].args and _fits(head + "("):
        return [f"{head}(", *_arguments(indent + "    ", calls[-1].args), f"{indent})"]
    inner = indent + "    "
    lines = [f"{indent}(", inner + receiver]
    for call in calls:
        line = f"{inner}.{call.inline()}"
        if _fits(line) or not call.args:
            lines.append(line)
        else:
            lines += [f"{inner}.{call.name}(", *_arguments(inner + "    ", call.args), f"{inner})"]
    lines.append(f"{indent})")
    return lines


def _arguments(indent: str, args: list[str]) -> list[str]:
    lines = [f"{indent}{arg}," for arg in args]
    return [line if _fits(line) else f"{line}  # noqa: E501" for line in lines]


def _locator_calls(locator: Locator) -> list[_Call]:
    calls: list[_Call] = []
    if locator.within is not None:
        calls.append(_Call("locator", [_lit(locator.within)]))
        if locator.within_text is not None:
            calls.append(_Call("filter", [f"has_text={_lit(locator.within_text)}"]))
    if locator.kind == "role":
        args = [_lit(locator.role or "")]
        if locator.name is not None:
            args.append(f"name={_lit(locator.name)}")
            if locator.exact:
                args.append("exact=True")
        calls.append(_Call("get_by_role", args))
    elif locator.kind == "css":
        calls.append(_Call("locator", [_lit(locator.value)]))
    else:
        method = {"alt": "get_by_alt_text"}.get(locator.kind, f"get_by_{locator.kind}")
        args = [_lit(locator.value)]
        if locator.exact and locator.kind != "test_id":
            args.append("exact=True")
        calls.append(_Call(method, args))
    return calls


def _element(target: ElementTarget) -> list[_Call]:
    """The calls from `page` to the target's element: its frames, then its best locator."""
    calls = [_Call("frame_locator", [_lit(selector)]) for selector in target.frames]
    return calls + _locator_calls(target.locators[0])


class _StepWriter:
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

    def _on(self, action: ScriptAction, calls: list[_Call]) -> None:
        assert action.target is not None
        self.lines += _statement("    ", "page", [*_element(action.target), *calls])

    def _page(self, calls: list[_Call]) -> None:
        self.lines += _statement("    ", "page", calls)

    def action(self, action: ScriptAction) -> None:
        a = action.action
        value = self._argument(action.parameter) if action.parameter else None
        if isinstance(a, ClickAction):
            self._on(action, [_Call("click")])
        elif isinstance(a, InputTextAction):
            self._on(action, [_Call("fill", [value or _lit(a.text)])])
            if a.press_enter:
                self._on(action, [_Call("press", [_lit("Enter")])])
        elif isinstance(a, SelectOptionAction):
            option = value or _lit(a.option)
            if action.target is not None and action.target.tag == "select":
                self._on(action, [_Call("select_option", [option])])
            else:  # an ARIA combobox: open it, then pick the option
                self._on(action, [_Call("click")])
                self._page(
                    [_Call("get_by_role", [_lit("option"), f"name={option}"]), _Call("click")]
                )
        elif isinstance(a, UploadFileAction):
            self._on(action, [_Call("set_input_files", [value or _lit(a.path)])])
        elif isinstance(a, HoverAction):
            self._on(action, [_Call("hover")])
        elif isinstance(a, KeypressAction):
            for key in a.keys:
                self.lines.append(f"    page.keyboard.press({_lit(key)})")
        elif isinstance(a, ScrollAction):
            if action.target is not None and action.target.locators:
                self._on(action, [_Call("hover")])
            dy = SCROLL_PX if a.direction == "down" else -SCROLL_PX
            self.lines.append(f"    page.mouse.wheel(0, {dy})")
        elif isinstance(a, WaitAction):
            self.lines.append(f"    page.wait_for_timeout({round(a.seconds * 1000)})")
        elif isinstance(a, GotoUrlAction):
            self._page([_Call("goto", [self._url(a.url)])])
        elif isinstance(a, GoBackAction):
            self.lines.append("    page.go_back()")
        elif isinstance(a, SwitchTabAction):
            self.switches_tab = True
            self.lines.append(f"    page = page.context.pages[{a.tab_index}]")
            self.lines.append("    page.bring_to_front()")

    def _url(self, recorded: str) -> str:
        """A URL on the start URL's host follows the `url` parameter (staging → production)."""
        start, target = self.script.url.split("/")[:3], recorded.split("/")[:3]
        if start != target:
            return _lit(recorded)
        self.uses_urljoin = True
        rest = "/" + "/".join(recorded.split("/")[3:])
        return f"urljoin({self._argument('url')}, {_lit(rest)})"

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
        text = _flit(action.after.text)
        self.lines.append("    # The run saw this when the step was done:")
        self.lines += _expect_lines(text)


def _expect_lines(text: str) -> list[str]:
    one = f"    expect(page.get_by_text({text}).first).to_be_visible()"
    if _fits(one):
        return [one]
    arg = f"        page.get_by_text({text}).first"
    return ["    expect(", arg if _fits(arg) else f"{arg}  # noqa: E501", "    ).to_be_visible()"]


def _comment(text: str, indent: str = "    ") -> list[str]:
    return [
        f"{indent}# {line}"
        for line in textwrap.wrap(text, LINE_LENGTH - len(indent) - 2, break_long_words=True)
    ]


def _signature(name: str, arguments: list[str], returns: str) -> list[str]:
    params = ["page: Page", *(f"{a}: str" for a in arguments)]
    one = f"def {name}({', '.join(params)}) -> {returns}:"
    if _fits(one):
        return [one]
    return [f"def {name}(", *(f"    {p}," for p in params), f") -> {returns}:"]


def _docstring(script: Script) -> list[str]:
    safe = script.prompt.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    example = " ".join(
        f"--{p.name.replace('_', '-')} {_shell(p.default)}"
        for p in script.parameters
        if p.default is not None and p.name != "url"
    )[:200]
    secrets = [p.name for p in script.parameters if p.secret]
    lines = [
        '"""A browser task recorded by Wayfinder, as a standalone Playwright script.',
        "",
        "Task:",
        *textwrap.wrap(safe, LINE_LENGTH - 4, initial_indent="    ", subsequent_indent="    "),
        "",
        "Run it with Playwright for Python installed (`python script.py --help` lists the",
        "parameters; each defaults to the value of the recorded run):",
        "",
        *textwrap.wrap(
            f"python script.py {example}".strip(),
            LINE_LENGTH - 8,
            initial_indent="    ",
            subsequent_indent="        ",
        ),
    ]
    if secrets:
        names = ", ".join(f"--{n.replace('_', '-')} (or ${n.upper()})" for n in secrets)
        lines += ["", *textwrap.wrap(f"Secret parameters have no default: give {names}.", 96)]
    lines += [
        "",
        f"The browser is Debian's Chromium ({DEFAULT_BROWSER_PATH}); --browser-path or",
        f'${BROWSER_PATH_VARIABLE} choose another, --browser-path "" Playwright\'s own.',
        '"""',
    ]
    return lines


def _shell(value: str) -> str:
    simple = value and all(c.isalnum() or c in "-_.,:/@+=" for c in value)
    return value if simple else "'" + value.replace("'", "'\\''") + "'"


def _step_function(script: Script, step: ScriptStep) -> tuple[list[str], _StepWriter]:
    writer = _StepWriter(script)
    for action in step.actions:
        writer.action(action)
    writer.check(step.actions[-1])
    returns = "Page" if writer.switches_tab else "None"
    body = writer.lines + (["    return page"] if writer.switches_tab else [])
    lines = [
        *_signature(step.function_name, writer.arguments, returns),
        *_comment(step.intent),
        *body,
    ]
    return lines, writer


def generate_code(script: Script) -> str:
    """The program's source: one function per step (its intent as a comment), semantic
    locators, an argparse CLI with one flag per parameter (secrets without default, never
    in the code), launching /usr/bin/chromium unless --browser-path says otherwise.
    Passes `ruff check` as generated."""
    functions: list[list[str]] = []
    calls: list[str] = []
    uses_urljoin = uses_expect = False
    for step in script.steps:
        lines, writer = _step_function(script, step)
        functions.append(lines)
        uses_urljoin |= writer.uses_urljoin
        uses_expect |= writer.uses_expect
        args = ", ".join(["page", *(f"args.{a}" for a in writer.arguments)])
        call = f"{step.function_name}({args})"
        calls.append(f"page = {call}" if writer.switches_tab else call)
    extraction = extraction_code(script.extraction) if script.extraction else None
    imports = sorted(["import argparse", "import os", *(extraction.imports if extraction else [])])
    if uses_urljoin:
        imports.append("from urllib.parse import urljoin")
    names = ["Page", *(extraction.playwright_names if extraction else [])]
    names = [*sorted(names), *(["expect"] if uses_expect else []), "sync_playwright"]
    playwright = ", ".join(names)
    out = [
        *_docstring(script),
        "",
        "from __future__ import annotations",
        "",
        *imports,
        "",
        f"from playwright.sync_api import {playwright}",
        "",
        f"DEFAULT_BROWSER_PATH = os.environ.get({_lit(BROWSER_PATH_VARIABLE)}, "
        f"{_lit(DEFAULT_BROWSER_PATH)})",
        'VIEWPORT = {"width": 1280, "height": 800}  # the recorded run\'s viewport',
        "TIMEOUT_MS = 10_000",
        *(extraction.constants if extraction else []),
        "",
    ]
    for lines in functions:
        out += ["", *lines, ""]
    if extraction:
        out += ["", *"".join(extraction.functions).lstrip("\n").splitlines(), ""]
    out += [
        "",
        "def run(page: Page, args: argparse.Namespace) -> None:",
        '    """Open the start page and take every step in order."""'
        if not extraction
        else '    """Open the start page, take every step in order and print the data."""',
        "    page.goto(args.url)",
        *(f"    {call}" if _fits(f"    {call}") else f"    {call}  # noqa: E501" for call in calls),
        *([extraction.call] if extraction else _no_plan(script)),
        "",
        *_cli(script),
    ]
    return "\n".join(out) + "\n"


def _no_plan(script: Script) -> list[str]:
    if script.data_extraction_schema is None:
        return []
    return [
        "    # The run also extracted data, but where it sat on the page could not be told",
        "    # apart by selectors: a rerun of the published workflow asks the model for it.",
    ]


def _cli(script: Script) -> list[str]:
    lines = [
        "",
        "def parse_args() -> argparse.Namespace:",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
    ]
    secrets = []
    for p in script.parameters:
        flag = _lit("--" + p.name.replace("_", "-"))
        help_text = p.description or ""
        if p.secret:
            secrets.append(p.name)
            default = f"os.environ.get({_lit(p.name.upper())})"
            help_text = f"secret: {help_text} (or set ${p.name.upper()})"
        else:
            default = _lit(p.default or "")
        lines += _statement(
            "    ",
            "parser",
            [_Call("add_argument", [flag, f"default={default}", f"help={_lit(help_text)}"])],
        )
    lines += [
        "    parser.add_argument(",
        '        "--browser-path",',
        "        default=DEFAULT_BROWSER_PATH,",
        '        help="the Chromium to launch (\\"\\": Playwright\'s own browser)",',
        "    )",
        '    parser.add_argument("--headed", action="store_true", help="show the browser")',
        "    args = parser.parse_args()",
    ]
    for name in secrets:
        flag = "--" + name.replace("_", "-")
        lines += [
            f"    if not args.{name}:",
            f"        parser.error({_lit(f'{flag} is required (or set ${name.upper()})')})",
        ]
    lines += [
        "    return args",
        "",
        "",
        "def main() -> None:",
        "    args = parse_args()",
        '    as_root = os.name == "posix" and os.geteuid() == 0',
        "    with sync_playwright() as playwright:",
        "        browser = playwright.chromium.launch(",
        "            executable_path=args.browser_path or None,",
        "            # Chromium does not start as root without --no-sandbox.",
        '            args=["--no-sandbox"] if as_root else [],',
        "            headless=not args.headed,",
        "        )",
        "        try:",
        "            page = browser.new_page(viewport=VIEWPORT)",
        "            page.set_default_timeout(TIMEOUT_MS)",
        "            run(page, args)",
        "        finally:",
        "            browser.close()",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return lines
