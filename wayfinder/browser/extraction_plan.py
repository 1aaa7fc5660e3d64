"""Extraction without the model: finding where a run's extracted data sat on the page
(`plan_extraction`), and extracting it again from a page by that plan (`extract`).

A plan is only kept when it gives back, on the page it was made from, exactly the data the
model extracted there: rows and fields that cannot be told apart by selectors (the records
are in one paragraph, a value was worded differently by the model) give no plan, and a rerun
then asks the model once. Only the main frame is planned.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from wayfinder.browser.locators import element_info
from wayfinder.scripts.model import VALUE_FIELD, ExtractionPlan, FieldSource, PlanShape

log = logging.getLogger(__name__)

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+"
_NUMBER_RE = re.compile(_NUMBER)
_MARK = "[data-wf-rows]"
_SCALARS = {str: "string", int: "integer", float: "number"}
_EXTRACT_JS = """
plan => {
  const clean = s => (s == null ? '' : String(s)).replace(/\\s+/g, ' ').trim();
  let rows = Array.from(document.querySelectorAll(plan.rows));
  if (plan.limit !== null && plan.limit !== undefined) rows = rows.slice(0, plan.limit);
  return rows.map(row => plan.fields.map(f => {
    const el = f.selector === '' ? row : row.querySelector(f.selector);
    if (!el) return null;
    return f.attribute ? el.getAttribute(f.attribute) : clean(el.innerText);
  }));
}
"""


@cache
def _plan_js() -> str:
    return Path(__file__).with_name("extraction_plan.js").read_text(encoding="utf-8")


def _field_type(spec: Any, values: list[Any]) -> str | None:
    """The field's scalar type, from its schema or else its values; None for anything else."""
    declared = spec.get("type") if isinstance(spec, dict) else None
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if declared in ("string", "number", "integer"):
        return str(declared)
    if declared is not None:
        return None  # objects, arrays, booleans: not read from one element's text
    kinds = {_SCALARS.get(type(v)) for v in values if v is not None}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def _records(output: Any, schema: dict[str, Any]) -> tuple[PlanShape, str | None, list[Any], Any]:
    """(shape, array_field, records, item schema) of a supported output, else ValueError."""
    if isinstance(output, list):
        return "array", None, output, schema.get("items", {})
    if isinstance(output, dict) and len(output) == 1:
        [(key, value)] = output.items()
        if isinstance(value, list):
            item = schema.get("properties", {}).get(key, {}).get("items", {})
            return "object_with_array", key, value, item
    if isinstance(output, dict):
        return "object", None, [output], schema
    if isinstance(output, str | int | float) and not isinstance(output, bool):
        return "value", None, [{VALUE_FIELD: output}], {"properties": {VALUE_FIELD: schema}}
    raise ValueError(f"output of type {type(output).__name__} is not records")


def _number_pattern(raws: list[str | None], values: list[Any]) -> str | None:
    """None when each value is the first number of its text; else a regex taking the n-th
    number, n the same in every row. ValueError when no such n."""
    positions = set()
    for raw, value in zip(raws, values, strict=True):
        if value is None or raw is None:
            continue
        found = [float(t.replace(",", "")) for t in _NUMBER_RE.findall(raw)]
        index = next((i for i, n in enumerate(found) if abs(n - value) < 1e-9), None)
        if index is None:
            raise ValueError(f"{value!r} is not a number of {raw!r}")
        positions.add(index)
    if len(positions) != 1:
        raise ValueError("the value is not at the same place in every row")
    index = positions.pop()
    return None if index == 0 else rf"(?:(?:{_NUMBER})\D+?){{{index}}}({_NUMBER})"


def _string_pattern(raws: list[str | None], values: list[Any]) -> str | None:
    """None when each text is the value; else a regex of the text around it, the same in
    every row. ValueError when it differs."""
    around = set()
    for raw, value in zip(raws, values, strict=True):
        if value is None or raw is None:
            continue
        at = raw.find(str(value))
        if at < 0:
            raise ValueError(f"{value!r} is not in {raw!r}")
        around.add((raw[:at], raw[at + len(str(value)) :]))
    if len(around) != 1:
        raise ValueError("the text around the value differs from row to row")
    prefix, suffix = around.pop()
    if not prefix and not suffix:
        return None
    return f"^{re.escape(prefix)}(.*?){re.escape(suffix)}$"


def _source(field: dict[str, Any], kind: str, values: list[Any]) -> FieldSource:
    raws: list[str | None] = field["raws"]
    if kind == "string":
        pattern = _string_pattern(raws, values)
    else:
        pattern = _number_pattern(raws, values)
    return FieldSource(
        field=field["name"],
        selector=field["selector"],
        attribute=field["attribute"],
        type=kind,  # type: ignore[arg-type]  # one of the three, checked by _field_type
        pattern=pattern,
    )


async def plan_extraction(page: Page, output: Any, schema: dict[str, Any]) -> ExtractionPlan | None:
    """Match the run's (validated) `output` to the page's elements and generalise it to rows
    and fields; None when that cannot be done so that the plan gives `output` back."""
    try:
        shape, array_field, records, item = _records(output, schema)
        if not records or not all(isinstance(r, dict) for r in records):
            raise ValueError("the records are not objects")
        names = list(dict.fromkeys(k for r in records for k in r))
        properties = item.get("properties", {}) if isinstance(item, dict) else {}
        types: dict[str, str] = {}
        for name in names:
            kind = _field_type(properties.get(name), [r.get(name) for r in records])
            if kind is None:
                raise ValueError(f"field {name!r} is not a string or a number")
            types[name] = kind
        if shape not in ("object", "value") and len(records) < 2:
            raise ValueError("one record shows no pattern of rows")
    except ValueError as exc:
        log.debug("no extraction plan: %s", exc)
        return None
    found: dict[str, Any] = await page.main_frame.evaluate(
        _plan_js(), {"records": records, "types": types}
    )
    if "error" in found:
        log.debug("no extraction plan: %s", found["error"])
        return None
    marked = page.main_frame.locator(_MARK)
    try:
        anchor = (await element_info(marked))["css"]
    finally:
        await marked.evaluate("el => el.removeAttribute('data-wf-rows')")
    try:
        fields = [
            _source(f, types[f["name"]], [r.get(f["name"]) for r in records])
            for f in found["fields"]
        ]
    except ValueError as exc:
        log.debug("no extraction plan: %s", exc)
        return None
    if found["single"]:
        rows, limit = anchor, None
    else:
        if found["index"] != list(range(len(records))):
            log.debug("no extraction plan: the records are not the first rows")
            return None
        rows = f"{anchor} {'> ' if found['child'] else ''}{found['rowSel']}"
        limit = len(records) if len(records) < found["count"] else None
    plan = ExtractionPlan(
        rows=rows, limit=limit, fields=fields, shape=shape, array_field=array_field
    )
    again = await extract(page, plan)
    if _without_nulls(again) != _without_nulls(output):
        log.debug("no extraction plan: it gives %r, not the run's %r", again, output)
        return None
    return plan


def _without_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data]
    return data


def _convert(raw: str | None, source: FieldSource) -> Any:
    if raw is None:
        return None
    text: str | None = raw
    if source.pattern is not None:
        match = re.search(source.pattern, raw)
        text = match.group(1) if match else None
    if text is None or source.type == "string":
        return text
    number = _NUMBER_RE.search(text)
    if number is None:
        return None
    value = float(number.group().replace(",", ""))
    return int(value) if source.type == "integer" else value


async def extract(page: Page, plan: ExtractionPlan) -> Any:
    """The data `plan` describes, read from `page` now (validate it against the schema: a
    page whose layout changed may give data that does not fit)."""
    rows: list[list[str | None]] = await page.main_frame.evaluate(
        _EXTRACT_JS, plan.model_dump(mode="json")
    )
    records = [
        {f.field: _convert(raw, f) for f, raw in zip(plan.fields, row, strict=True)} for row in rows
    ]
    if plan.shape == "object":
        return records[0] if records else None
    if plan.shape == "value":
        return records[0][VALUE_FIELD] if records else None
    if plan.shape == "object_with_array":
        return {plan.array_field: records}
    return records
