"""The extraction part of a generated program: reading the run's data from the final page by
its `ExtractionPlan`, as `wayfinder.browser.extraction_plan.extract` does, in plain
Playwright. The program prints it as JSON."""

from __future__ import annotations

from dataclasses import dataclass

from wayfinder.scripts.codegen_source import literal
from wayfinder.scripts.model import VALUE_FIELD, ExtractionPlan, FieldSource

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+"
_READ = '''

def read(
    row: Locator, selector: str, attribute: str | None = None, pattern: str | None = None
) -> str | None:
    """The text (or attribute) of the row's element at `selector` ("": the row itself), or
    the part of it `pattern`'s first group picks; None when there is none."""
    element = row.locator(selector).first if selector else row
    if not element.count():
        return None
    if attribute:
        raw = element.get_attribute(attribute)
    else:
        raw = " ".join(element.inner_text().split())
    if raw is None or pattern is None:
        return raw
    match = re.search(pattern, raw)
    return match.group(1) if match else None
'''
_NUMBER_FN = '''

def number(text: str | None) -> float | None:
    """The first number in `text` ("$1,299.00" -> 1299.0)."""
    found = NUMBER.search(text or "")
    return float(found.group().replace(",", "")) if found else None
'''
_INTEGER_FN = """

def integer(text: str | None) -> int | None:
    value = number(text)
    return None if value is None else int(value)
"""


@dataclass
class ExtractionCode:
    imports: list[str]
    playwright_names: list[str]
    constants: list[str]
    functions: list[str]
    call: str
    """The line in `run()` that prints the data."""


def _regex(pattern: str) -> str:
    """A raw string literal for a regex where one can be written, else an escaped one."""
    if '"' in pattern or "\n" in pattern or pattern.endswith("\\"):
        return literal(pattern)
    return f'r"{pattern}"'


def _read_call(source: FieldSource) -> str:
    args = ["row", literal(source.selector)]
    if source.attribute is not None:
        args.append(f"attribute={literal(source.attribute)}")
    if source.pattern is not None:
        args.append(f"pattern={_regex(source.pattern)}")
    read = f"read({', '.join(args)})"
    return {"number": f"number({read})", "integer": f"integer({read})"}.get(source.type, read)


def extraction_code(plan: ExtractionPlan) -> ExtractionCode:
    kinds = {f.type for f in plan.fields}
    constants = [f"ROWS = {literal(plan.rows)}  # where the run found its records"]
    functions = [_READ]
    if kinds & {"number", "integer"}:
        constants.append(f"NUMBER = re.compile({_regex(_NUMBER)})")
        functions.append(_NUMBER_FN)
    if "integer" in kinds:
        functions.append(_INTEGER_FN)
    rows = "page.locator(ROWS).all()" + (f"[:{plan.limit}]" if plan.limit else "")
    fields = []
    for source in plan.fields:
        line = f"            {literal(source.field)}: {_read_call(source)},"
        fields.append(line if len(line) <= 100 else f"{line}  # noqa: E501")
    result = {
        "array": "records",
        "object": "records[0] if records else None",
        "object_with_array": f"{{{literal(plan.array_field or '')}: records}}",
        "value": f"records[0][{literal(VALUE_FIELD)}] if records else None",
    }[plan.shape]
    functions.append(
        "\n\ndef extract(page: Page) -> object:\n"
        '    """The data the run extracted, read again from the page as it is now."""\n'
        "    records = [\n"
        "        {\n" + "\n".join(fields) + "\n        }\n"
        f"        for row in {rows}\n"
        "    ]\n"
        f"    return {result}\n"
    )
    return ExtractionCode(
        imports=["import json", "import re"],
        playwright_names=["Locator"],
        constants=constants,
        functions=functions,
        call="    print(json.dumps(extract(page), indent=2, ensure_ascii=False))",
    )
