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

import textwrap

from wayfinder.scripts.codegen_extract import extraction_code
from wayfinder.scripts.codegen_source import LINE_LENGTH, Call, fits, literal, statement
from wayfinder.scripts.codegen_steps import step_function
from wayfinder.scripts.model import Script

DEFAULT_BROWSER_PATH = "/usr/bin/chromium"
BROWSER_PATH_VARIABLE = "WAYFINDER_CHROMIUM_PATH"


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


def generate_code(script: Script) -> str:
    """The program's source: one function per step (its intent as a comment), semantic
    locators, an argparse CLI with one flag per parameter (secrets without default, never
    in the code), launching /usr/bin/chromium unless --browser-path says otherwise.
    Passes `ruff check` as generated."""
    functions: list[list[str]] = []
    calls: list[str] = []
    uses_urljoin = uses_expect = False
    for step in script.steps:
        lines, writer = step_function(script, step)
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
        f"DEFAULT_BROWSER_PATH = os.environ.get({literal(BROWSER_PATH_VARIABLE)}, "
        f"{literal(DEFAULT_BROWSER_PATH)})",
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
        *(f"    {call}" if fits(f"    {call}") else f"    {call}  # noqa: E501" for call in calls),
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
        flag = literal("--" + p.name.replace("_", "-"))
        help_text = p.description or ""
        if p.secret:
            secrets.append(p.name)
            default = f"os.environ.get({literal(p.name.upper())})"
            help_text = f"secret: {help_text} (or set ${p.name.upper()})"
        else:
            default = literal(p.default or "")
        lines += statement(
            "    ",
            "parser",
            [Call("add_argument", [flag, f"default={default}", f"help={literal(help_text)}"])],
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
            f"        parser.error({literal(f'{flag} is required (or set ${name.upper()})')})",
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
