"""The questions Wayfinder asks the model (what next; is it done, and what is the data; the
data alone, for a code rerun), each with a bounded re-ask on a bad answer.

An invalid answer (no tool call, wrong arguments, an element id that is not on the page, data
that does not fit the schema) is explained to the model in a <feedback> section and asked again
with the same page, at most `MAX_REASKS` times: repairing or silently dropping a bad answer would
turn a model mistake into a wrong action on a real site.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import jsonschema
from pydantic import BaseModel

from wayfinder.actions import Action
from wayfinder.feedback import PastStep
from wayfinder.llm import prompts
from wayfinder.llm.client import ModelClient, ModelError
from wayfinder.llm.tools import (
    EXTRACT_TOOL,
    VERIFY_TOOL,
    InvalidAnswer,
    action_tools,
    extract_tool,
    parse_actions,
    verify_tool,
)
from wayfinder.models import TokenUsage

MAX_REASKS = 2


class ModelSettings(BaseModel):
    """Which model to ask and how: resolved from the run's override and the settings."""

    name: str
    max_tokens: int = 2048
    temperature: float | None = None


class InvalidAnswerError(ModelError):
    """The model kept answering outside the schema after every re-ask."""


class Decision(BaseModel):
    actions: list[Action]
    """What the model answered, in order (one action, or several to run one after another)."""
    usage: TokenUsage
    reasks: int

    @property
    def action(self) -> Action:
        """The first action (the only one when the model answered with one)."""
        return self.actions[0]


class Verdict(BaseModel):
    verified: bool
    reason: str
    data: Any = None
    """The extracted data, when verified against a run with a data_extraction_schema."""
    usage: TokenUsage
    reasks: int = 0


class Extraction(BaseModel):
    data: Any
    usage: TokenUsage
    reasks: int


async def decide_action(
    client: ModelClient,
    model: ModelSettings,
    *,
    task: str,
    page: str,
    element_ids: Collection[str],
    history: Sequence[str],
    feedback: Sequence[str] = (),
    error_codes: dict[str, str] | None = None,
    extraction_follows: bool = False,
    verification_code: bool = False,
    several: bool = True,
) -> Decision:
    """Ask for the next action(s) and check them against the schema and the page's elements.

    With `several`, the model may answer with a list of actions (several tool calls); one bad
    action makes the whole answer invalid, since the rest was planned around it.
    """
    usage = TokenUsage()
    notes = list(feedback)
    tools = action_tools(error_codes, verification_code=verification_code)
    for attempt in range(MAX_REASKS + 1):
        call = await client.call_tool(
            model=model.name,
            max_tokens=model.max_tokens,
            temperature=model.temperature,
            system=prompts.ACT_SYSTEM,
            user=prompts.act_prompt(
                task=task,
                page=page,
                history=history,
                feedback=notes,
                error_codes=error_codes,
                extraction_follows=extraction_follows,
            ),
            tools=tools,
            several=several,
        )
        usage += call.usage
        calls = [(c.name, c.input) for c in call.calls] or (
            [(call.name, call.input)] if call.name else []
        )
        try:
            actions = parse_actions(calls, verification_code=verification_code)
            for action in actions:
                _check(action, element_ids, error_codes)
        except InvalidAnswer as exc:
            notes.append(f"Your previous answer was invalid: {exc} Answer again.")
            continue
        return Decision(actions=actions, usage=usage, reasks=attempt)
    raise InvalidAnswerError(
        f"the model gave {MAX_REASKS + 1} invalid answers in a row; last: {notes[-1]}"
    )


def _check(
    action: Action, element_ids: Collection[str], error_codes: dict[str, str] | None
) -> None:
    """Raise `InvalidAnswer` for an element id not on the page or an error code not offered."""
    element_id = getattr(action, "element_id", None)
    if element_id is not None and element_id not in element_ids:
        raise InvalidAnswer(
            f"There is no element [{element_id}] on the current page; use an ID from "
            "the page description."
        )
    error_code = getattr(action, "error_code", None)
    if error_code is not None and error_code not in (error_codes or {}):
        raise InvalidAnswer(f"Unknown error_code {error_code!r}.")


async def verify_claim(
    client: ModelClient,
    model: ModelSettings,
    *,
    task: str,
    page: str,
    output: Any,
    summary: str,
    history: Sequence[PastStep] | None,
    schema: dict[str, Any] | None = None,
) -> Verdict:
    """Check a completion claim against the fresh page; an unusable verdict counts as refuted.

    With `schema` (the run's data_extraction_schema) the same call extracts the data: a
    verified answer whose data does not validate is re-asked, never padded or trimmed.
    """
    validator = jsonschema.validators.validator_for(schema)(schema) if schema is not None else None
    usage = TokenUsage()
    notes: list[str] = []
    for attempt in range(MAX_REASKS + 1):
        call = await client.call_tool(
            model=model.name,
            # Extracted data can be long; a verdict alone is a sentence.
            max_tokens=model.max_tokens if schema is None else max(model.max_tokens, 4096),
            temperature=model.temperature,
            system=prompts.VERIFY_SYSTEM if schema is None else prompts.VERIFY_EXTRACT_SYSTEM,
            user=prompts.verify_prompt(
                task=task,
                page=page,
                output=output,
                summary=summary,
                history=None if history is None else prompts.history_lines(history),
                feedback=notes,
            ),
            tools=[verify_tool(schema)],
        )
        usage += call.usage
        verified = call.input.get("verified")
        if call.name != VERIFY_TOOL or not isinstance(verified, bool):
            return Verdict(
                verified=False, reason="the verifier gave no usable verdict", usage=usage
            )
        reason = str(call.input.get("reason", ""))
        if validator is None or not verified:
            return Verdict(verified=verified, reason=reason, usage=usage, reasks=attempt)
        if "data" not in call.input:
            notes.append(
                f"You verified the claim but sent no `data`: call {VERIFY_TOOL} again with the "
                "data the task asks for under `data`."
            )
            continue
        errors = sorted(validator.iter_errors(call.input["data"]), key=lambda e: e.path)
        if not errors:
            return Verdict(
                verified=True, reason=reason, data=call.input["data"], usage=usage, reasks=attempt
            )
        listed = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]
        )
        notes.append(f"Your data does not match the schema: {listed}. Answer again.")
    raise InvalidAnswerError(
        f"extraction did not match data_extraction_schema after {MAX_REASKS + 1} tries: {notes[-1]}"
    )


async def extract_data(
    client: ModelClient,
    model: ModelSettings,
    *,
    task: str,
    page: str,
    schema: dict[str, Any],
) -> Extraction:
    """Extract schema-shaped data; a result that does not validate is re-asked, never padded."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    usage = TokenUsage()
    notes: list[str] = []
    for attempt in range(MAX_REASKS + 1):
        call = await client.call_tool(
            model=model.name,
            max_tokens=max(model.max_tokens, 4096),
            temperature=model.temperature,
            system=prompts.EXTRACT_SYSTEM,
            user=prompts.extract_prompt(task=task, page=page, feedback=notes),
            tools=[extract_tool(schema)],
        )
        usage += call.usage
        if call.name != EXTRACT_TOOL or "data" not in call.input:
            notes.append(f"Call {EXTRACT_TOOL} with the extracted data under `data`.")
            continue
        errors = sorted(validator.iter_errors(call.input["data"]), key=lambda e: e.path)
        if not errors:
            return Extraction(data=call.input["data"], usage=usage, reasks=attempt)
        listed = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]
        )
        notes.append(f"Your data does not match the schema: {listed}. Extract again.")
    raise InvalidAnswerError(
        f"extraction did not match data_extraction_schema after {MAX_REASKS + 1} tries: {notes[-1]}"
    )
