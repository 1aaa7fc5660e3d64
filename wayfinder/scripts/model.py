"""The published script as data: how to find each element again, what each action did, and
what the page looked like after it. No Playwright and no Temporal here, so the workflow
sandbox, the client and the code generator can all import it.

Three producers and consumers meet here:

* the step activity records an `ElementTarget` and a `PageCheck` for every action it runs
  (`wayfinder.browser.locators.record_target`), stored on `StepRecord`;
* `wayfinder.scripts.build.build_script` turns a completed run's step log into a `Script`;
* `wayfinder.scripts.codegen.generate_code` renders a `Script` as a standalone Playwright
  program, and a code rerun executes `Script.steps` directly, resolving each target with
  `wayfinder.browser.locators.resolve_target` and checking `ScriptAction.after`.

A `Script` never holds a secret: the value typed into a password field is blanked in its
action and becomes a `ScriptParameter` with `secret=True` and no default.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from wayfinder.actions import (
    Action,
    GotoUrlAction,
    InputTextAction,
    SelectOptionAction,
    UploadFileAction,
)


class _Compact(BaseModel):
    """Serialised without the fields that hold their default: these records are kept on
    every step of a run's history and in every revision, so they stay small."""

    model_config = ConfigDict(extra="forbid")

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        fields = type(self).model_fields
        return {
            key: value
            for key, value in data.items()
            if key not in fields
            or fields[key].is_required()
            or value != fields[key].get_default(call_default_factory=True)
        }


LocatorKind = Literal["role", "label", "placeholder", "test_id", "alt", "title", "text", "css"]
"""Ways to find an element, in the order they are preferred (semantic first, CSS last)."""


class Locator(_Compact):
    """One way to find an element, as Playwright's `get_by_*` / `locator` would.

    `kind="role"` uses `role` and `name` (the accessible name, `None` for "any name");
    every other kind uses `value` (the label, placeholder, test id, alt text, title, text,
    or the CSS selector). `exact` is Playwright's `exact=` (whole-string, case-sensitive).
    """

    kind: LocatorKind
    value: str = ""
    role: str | None = None
    name: str | None = None
    exact: bool = True
    within: str | None = None
    """Look inside the container this CSS selector matches (e.g. a product card's
    `article`), for elements that are unique only there ("Add to cart" in each card)..."""
    within_text: str | None = None
    """...narrowed to the container that contains this text (Playwright's
    `.filter(has_text=...)`), e.g. the card of "Widget B"."""

    def describe(self) -> str:
        """The Playwright calls it stands for, e.g. `get_by_role('button', name='Send')`."""
        scope = ""
        if self.within is not None:
            scope = f"locator({self.within!r})."
            if self.within_text is not None:
                scope += f"filter(has_text={self.within_text!r})."
        return scope + self._call()

    def _call(self) -> str:
        if self.kind == "role":
            name = f", name={self.name!r}" if self.name is not None else ""
            exact = ", exact=True" if self.name is not None and self.exact else ""
            return f"get_by_role({self.role!r}{name}{exact})"
        if self.kind == "css":
            return f"locator({self.value!r})"
        method = {"alt": "get_by_alt_text"}.get(self.kind, f"get_by_{self.kind}")
        exact = ", exact=True" if self.exact and self.kind != "test_id" else ""
        return f"{method}({self.value!r}{exact})"


SECRET_STAND_IN = "********"
"""What stands in for a value typed into a password field wherever it would show: in the step
log (the value itself is sealed, see `StepRecord.sealed_text`) and in what the agent types
into a secret field it repairs (the rerun then types the real value itself)."""


class ElementTarget(_Compact):
    """Where an action's element is: a best-first chain of locators, each of which matched
    exactly this element (and nothing else) on the page when the action ran.

    Kept compact: it is stored on every `StepRecord`, which lives in workflow history.
    """

    locators: list[Locator] = Field(default_factory=list)
    """Best first; empty when nothing unique could be found (the CSS path is tried last)."""
    frames: list[str] = Field(default_factory=list)
    """CSS selectors of the <iframe> elements leading to the element, outermost first
    (empty in the main frame): `page.frame_locator(frames[0]).frame_locator(frames[1])...`."""
    tag: str
    """The element's tag, so a rerun can check it acts on the same kind of element."""
    input_type: str | None = None
    """For <input>: its type (text, password, checkbox...)."""
    field_name: str | None = None
    """What the field is called (its label, else name attribute, else placeholder): the
    parameter name of a value typed or chosen into it is derived from this."""
    secret: bool = False
    """A password field (or a one-time code): what is typed into it never leaves the run."""
    description: str | None = None
    """How the run described it, e.g. "button 'Send'" (set when the script is built)."""


class PageCheck(_Compact):
    """What the page looked like right after an action: a rerun checks it is where it
    should be before going on (and hands the step to the agent when it is not)."""

    url: str | None
    """The URL of the current tab after the action (as recorded; None in a `Script` when it
    carried a secret value)."""
    text: str | None = None
    """A short text that appeared with the action (was not on the page before), if any.
    In a `Script`, parameter values in it are `{parameter}` placeholders (`str.format`
    syntax, literal braces doubled): use `expected_text`."""

    def rebased(self, recorded_start: str, start: str) -> PageCheck:
        """The check for a rerun that starts at `start`: a recorded URL on the host of the
        recorded start is expected on the host of `start` (`rebase_url`), as the rerun's own
        `goto`s go there."""
        if self.url is None:
            return self
        return self.model_copy(update={"url": rebase_url(self.url, recorded_start, start)})

    def url_matches(self, actual: str) -> bool:
        """Is `actual` the page of this check? Same scheme, host and path; the query may
        differ (other values in a search query). On a rerun, check `rebased(...)`: a page of
        the host the script was recorded on is then the wrong host."""
        if self.url is None:
            return True
        got, want = urlsplit(actual), urlsplit(self.url)
        return _origin(got) == _origin(want) and got.path.rstrip("/") == want.path.rstrip("/")

    def expected_text(self, values: dict[str, str]) -> str | None:
        """The text to look for, with the rerun's parameter values filled in."""
        return None if self.text is None else self.text.format_map(_Missing(values))


class _Missing(dict[str, str]):
    """format_map helper: a placeholder with no value stays as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class ScriptAction(_Compact):
    """One recorded action of a step: what it did, on what, and what followed."""

    action: Action
    """The action as the run took it (`wayfinder.actions`). Its `element_id` is the run's
    snapshot id, meaningless on a rerun: use `target`. For a secret parameter its value
    (`text`) is blanked."""
    target: ElementTarget | None = None
    """The element, for actions on one (click, input_text, select_option, hover...)."""
    parameter: str | None = None
    """The parameter whose value is typed (`input_text.text`), chosen
    (`select_option.option`) or attached (`upload_file.path`) instead of the recorded one."""
    after: PageCheck | None = None

    def bound(self, values: dict[str, str]) -> Action:
        """The action with its parameter's value from `values` (the rerun's parameters)."""
        if self.parameter is None or self.parameter not in values:
            return self.action
        value = values[self.parameter]
        if isinstance(self.action, InputTextAction):
            return self.action.model_copy(update={"text": value})
        if isinstance(self.action, SelectOptionAction):
            return self.action.model_copy(update={"option": value})
        if isinstance(self.action, UploadFileAction):
            return self.action.model_copy(update={"path": value})
        return self.action


def _origin(url: SplitResult) -> tuple[str, str]:
    """Scheme and host of a URL as browsers compare them (case-insensitive)."""
    return url.scheme.lower(), url.netloc.lower()


def start_relative(recorded: str, recorded_start: str) -> str | None:
    """What `recorded` (a URL the run went to) is relative to the host of `recorded_start`
    (its path, query and fragment, for `urljoin` with a rerun's start URL), or None when it is
    on another host (an outside site, a login provider: a rerun goes there as recorded).

    The generated code joins it with its `url` argument, as `rebase_url` does on a rerun."""
    target = urlsplit(recorded)
    if _origin(target) != _origin(urlsplit(recorded_start)):
        return None
    path = target.path or "/"
    if path.startswith("//"):
        path = "/." + path  # "//x" would be read as a host by urljoin; "/.//x" is the path
    return urlunsplit(("", "", path, target.query, target.fragment))


def rebase_url(recorded: str, recorded_start: str, start: str) -> str:
    """`recorded` (a URL the run went to) moved to the host of `start` when it was on the host
    of `recorded_start`: a script published against staging goes on to production's pages.

    The one rule for every recorded URL on a rerun: the replay's `goto`s, its page checks
    (`PageCheck.rebased`) and the generated code's `urljoin(url, ...)` (`start_relative`)."""
    relative = start_relative(recorded, recorded_start)
    return recorded if relative is None else urljoin(start, relative)


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")
_TRAILING = ".,;:!?)"
"""Punctuation that ends a sentence after an address rather than belonging to it."""


def rebase_urls_in(text: str, recorded_start: str, start: str) -> str:
    """`text` (a task) with each address it spells out rebased (`rebase_url`): the agent
    rerun of a workflow goes where its code rerun would."""

    def one(found: re.Match[str]) -> str:
        url = found.group(0).rstrip(_TRAILING)
        return rebase_url(url, recorded_start, start) + found.group(0)[len(url) :]

    return _URL_IN_TEXT.sub(one, text)


def rebased(action: Action, recorded_start: str, start: str) -> Action:
    """`action` as a rerun starting at `start` takes it: a `goto_url` on the recorded start's
    host goes to the same page on `start`'s host (`rebase_url`)."""
    if isinstance(action, GotoUrlAction):
        return action.model_copy(update={"url": rebase_url(action.url, recorded_start, start)})
    return action


_FILLER = frozenset("a an the into in to on of and then for https http www".split())


class ScriptStep(_Compact):
    """One step of the run (one model answer): its intent and the actions it took."""

    number: int
    """The run's step number."""
    intent: str
    """What the step is for, in a sentence (the generated function's comment; what the
    agent is told when it has to take this step over on a rerun)."""
    actions: list[ScriptAction]

    @property
    def function_name(self) -> str:
        """The step's function in the generated code: its verb and what it acts on, e.g.
        `step_3_click_log_in` for "Click button 'Log in'"."""
        words = re.findall(r"[a-z0-9]+", self.intent.lower())
        quoted = re.search(r"'([^']+)'", self.intent)
        subject = re.findall(r"[a-z0-9]+", quoted.group(1).lower()) if quoted else []
        rest = subject or [w for w in words[1:] if w not in _FILLER]
        return "_".join(["step", str(self.number), *words[:1], *rest[:3]])


class ScriptParameter(_Compact):
    """A value the script takes: the start URL (`url`), or a value the run typed or chose."""

    name: str
    """A Python identifier (snake_case), also the CLI flag (`--name`, `--unit_price`)."""
    default: str | None = None
    """The run's value; always None for a secret (a rerun must be given it)."""
    secret: bool = False
    description: str | None = None
    """Where it goes, e.g. "typed into input 'Email'"."""


class FieldSource(_Compact):
    """Where one field of an extracted record sits, relative to its row."""

    field: str
    """The property name in the extraction schema."""
    selector: str
    """CSS selector relative to the row element (`:scope > ...` allowed; "" = the row)."""
    attribute: str | None = None
    """Read this attribute (e.g. href) instead of the element's text."""
    type: Literal["string", "number", "integer"] = "string"
    """How the text is converted (the schema's type for the field)."""
    pattern: str | None = None
    """A regex whose first group is the value within the text (e.g. `^Rating: (.*?)$`); for
    numbers, without one the first number in the text is the value."""


PlanShape = Literal["array", "object", "object_with_array", "value"]
VALUE_FIELD = "value"
"""The one field of a `value` plan: an output that is one string or number ("$12.50")."""


class ExtractionPlan(_Compact):
    """How to extract the run's data from the page without the model: where its rows are and
    where each field sits in a row. `wayfinder.browser.extraction_plan.extract` runs it."""

    rows: str
    """CSS selector of the rows, in the main frame (for `object`: of the one record)."""
    limit: int | None = None
    """Only the first rows: the run took the first `limit` of more (the top 3 products)."""
    fields: list[FieldSource]
    shape: PlanShape = "array"
    """array: the output is the list of rows; object: the first row; object_with_array: an
    object whose only property, `array_field`, holds the rows; value: the first row's one
    field (`VALUE_FIELD`), for an output that is a single string or number."""
    array_field: str | None = None


class Script(_Compact):
    """A completed run, as a program: open `url`, then take each step's actions in order."""

    prompt: str
    """The task the run was given (for people reading the workflow; never a secret-free
    guarantee: the code and parameters are)."""
    url: str
    """The start URL the run opened; the `url` parameter's default."""
    steps: list[ScriptStep]
    parameters: list[ScriptParameter]
    """`url` first, then the typed/chosen values in the order the run used them."""
    data_extraction_schema: dict[str, Any] | None = None
    extraction: ExtractionPlan | None = None
    """How to extract the output deterministically; None: the run extracted nothing, or no
    plan could be found (the rerun then asks the model once)."""

    def parameter(self, name: str) -> ScriptParameter | None:
        return next((p for p in self.parameters if p.name == name), None)
