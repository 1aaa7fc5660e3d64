"""Tool definitions offered to the model, derived from the pydantic models they produce.

The action models in `wayfinder.actions` are the schema; this module only reshapes them
into Messages API tools and parses tool calls back, so the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from wayfinder.actions import ACTION_TYPES, Action, EnterVerificationCodeAction

VERIFY_TOOL = "report_verification"
EXTRACT_TOOL = "submit_extraction"

_ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


class InvalidAnswer(ValueError):
    """The model's tool call does not fit the schema; the message is fed back to it."""


def _strip_titles(schema: Any) -> Any:
    """Pydantic adds a `title` to every property; they cost tokens and tell the model nothing."""
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


OPTIONAL_FIELDS = {"error_code"}
"""Fields offered only when the run needs them (see `action_tools`)."""


def _tool_for(model: type[BaseModel]) -> dict[str, Any]:
    schema = _strip_titles(model.model_json_schema())
    for name in ("type", *OPTIONAL_FIELDS):
        schema["properties"].pop(name, None)
    required = [name for name in schema.get("required", []) if name != "type"]
    input_schema: dict[str, Any] = {"type": "object", "properties": schema["properties"]}
    if required:
        input_schema["required"] = required
    input_schema["additionalProperties"] = False
    name = model.model_fields["type"].default
    return {
        "name": name,
        "description": (model.__doc__ or "").strip(),
        "input_schema": input_schema,
    }


ACTION_TOOLS: list[dict[str, Any]] = [_tool_for(model) for model in ACTION_TYPES]
"""One tool per action, in a fixed order (a stable prefix keeps the prompt cache warm)."""


VERIFICATION_CODE_TOOL = _tool_for(EnterVerificationCodeAction)
"""Offered after the others, only to runs that can get a 2FA code."""


def action_tools(
    error_codes: dict[str, str] | None = None, *, verification_code: bool = False
) -> list[dict[str, Any]]:
    """The action tools; with `error_codes`, `terminate` can name the code that applies; with
    `verification_code`, `enter_verification_code` is offered too."""
    extra = [VERIFICATION_CODE_TOOL] if verification_code else []
    if not error_codes:
        return [*ACTION_TOOLS, *extra]
    tools = [dict(tool) for tool in ACTION_TOOLS] + extra
    terminate = next(tool for tool in tools if tool["name"] == "terminate")
    schema = dict(terminate["input_schema"])
    schema["properties"] = {
        **schema["properties"],
        "error_code": {
            "type": "string",
            "enum": sorted(error_codes),
            "description": "The error code whose condition this failure matches, if any.",
        },
    }
    terminate["input_schema"] = schema
    return tools


def parse_action(
    name: str | None, arguments: dict[str, Any], *, verification_code: bool = False
) -> Action:
    """Turn a tool call into a validated action, or raise `InvalidAnswer` saying what is wrong."""
    if name is None:
        raise InvalidAnswer("You answered without calling a tool. Call exactly one action tool.")
    offered = [*ACTION_TOOLS, *([VERIFICATION_CODE_TOOL] if verification_code else [])]
    known = {tool["name"] for tool in offered}
    if name not in known:
        raise InvalidAnswer(f"Unknown tool {name!r}. Call one of: {', '.join(sorted(known))}.")
    try:
        return _ACTION_ADAPTER.validate_python({**arguments, "type": name})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'input'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidAnswer(f"Invalid arguments for {name}: {problems}.") from None


def parse_actions(
    calls: Sequence[tuple[str, dict[str, Any]]], *, verification_code: bool = False
) -> list[Action]:
    """Every tool call of one answer as actions, in order; `InvalidAnswer` names the bad one."""
    if not calls:
        return [parse_action(None, {}, verification_code=verification_code)]
    actions = []
    for index, (name, arguments) in enumerate(calls, 1):
        try:
            actions.append(parse_action(name, arguments, verification_code=verification_code))
        except InvalidAnswer as exc:
            if len(calls) == 1:
                raise
            raise InvalidAnswer(f"Action {index} of your {len(calls)}: {exc}") from None
    return actions


def verify_tool(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The verdict tool; with the run's `data_extraction_schema`, it also carries the data.

    One call then both checks the claim and extracts, from one look at the page. The user's
    schema goes under `data` (tool inputs must be objects, user schemas need not); its shared
    definitions (`$defs`, as pydantic writes them) move to the top, where the schema's
    `#/$defs/...` references point once it is nested.
    """
    properties: dict[str, Any] = {
        "reason": {"type": "string", "description": "What on the page shows it, or not."},
        "verified": {"type": "boolean", "description": "True only if the page proves it."},
    }
    description = "Report whether the page shows that the task's goal has been met."
    definitions: dict[str, Any] = {}
    if schema is not None:
        properties["data"], definitions = _nested(schema)
        description += (
            " When it has, also submit under `data` what the task asks for, taken from the page"
            " and shaped exactly by the schema of `data` (required when verified)."
        )
    return {
        "name": VERIFY_TOOL,
        "description": description,
        "input_schema": {
            "type": "object",
            "properties": properties,
            "required": ["reason", "verified"],
            "additionalProperties": False,
            **definitions,
        },
    }


def extract_tool(schema: dict[str, Any]) -> dict[str, Any]:
    """Extraction alone (a code rerun that lost its extraction plan): the schema under `data`."""
    data, definitions = _nested(schema)
    return {
        "name": EXTRACT_TOOL,
        "description": "Submit the data extracted from the page, shaped exactly by the schema.",
        "input_schema": {
            "type": "object",
            "properties": {"data": data},
            "required": ["data"],
            **definitions,
        },
    }


def _nested(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The user's schema to put under `data`, and its shared definitions for the tool's top."""
    definitions: dict[str, Any] = {
        key: schema[key] for key in ("$defs", "definitions") if key in schema
    }
    data = {k: v for k, v in schema.items() if k not in definitions and k != "$schema"}
    return data, definitions
