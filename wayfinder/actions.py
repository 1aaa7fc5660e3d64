"""The action schema: every action the model can take, as pydantic models.

This is the single source of truth for the schema. `wayfinder.llm.tools` turns the models into
the tool definitions offered to the model, `wayfinder.browser.actions` runs them on a page, and
the step log (`StepRecord.action`) stores them. No Playwright here, so every layer can import it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClickAction(_Action):
    """Click an element."""

    type: Literal["click"] = "click"
    element_id: str = Field(description="Id of the element to click, as shown in [brackets].")


class InputTextAction(_Action):
    """Replace the content of a text field with `text`."""

    type: Literal["input_text"] = "input_text"
    element_id: str = Field(description="Id of the text field.")
    text: str = Field(description="The text to type; replaces what the field holds.")
    press_enter: bool = Field(default=False, description="Press Enter after typing.")


class SelectOptionAction(_Action):
    """Choose an option of a <select> (or ARIA listbox/combobox) by its label or value."""

    type: Literal["select_option"] = "select_option"
    element_id: str = Field(description="Id of the select element.")
    option: str = Field(description="Visible label (or value) of the option to choose.")


class UploadFileAction(_Action):
    """Attach a local file to a file input."""

    type: Literal["upload_file"] = "upload_file"
    element_id: str = Field(description="Id of the file input.")
    path: str = Field(description="Path of the file on the worker's disk.")


class HoverAction(_Action):
    """Move the mouse over an element (menus that open on hover)."""

    type: Literal["hover"] = "hover"
    element_id: str = Field(description="Id of the element to hover.")


class KeypressAction(_Action):
    """Press keys on the focused element, e.g. ["Enter"], ["Control+A"], ["Tab", "Tab"]."""

    type: Literal["keypress"] = "keypress"
    keys: list[str] = Field(min_length=1, description="Playwright key names, pressed in order.")


class ScrollAction(_Action):
    """Scroll the page (or one scrollable element) by about one viewport."""

    type: Literal["scroll"] = "scroll"
    direction: Literal["up", "down"] = Field(description="Which way to scroll.")
    element_id: str | None = Field(
        default=None, description="Scroll inside this element instead of the page."
    )


class WaitAction(_Action):
    """Wait for the page to settle (loading content, animations)."""

    type: Literal["wait"] = "wait"
    seconds: float = Field(default=1.0, gt=0, le=30, description="Seconds to wait (max 30).")


class GotoUrlAction(_Action):
    """Navigate the current tab to a URL."""

    type: Literal["goto_url"] = "goto_url"
    url: str = Field(description="Absolute http(s) URL.")


class GoBackAction(_Action):
    """Go back one entry in the current tab's history."""

    type: Literal["go_back"] = "go_back"


class SwitchTabAction(_Action):
    """Make another open tab the current one."""

    type: Literal["switch_tab"] = "switch_tab"
    tab_index: int = Field(ge=0, description="Index of the tab, as listed under 'Tabs:'.")


class EnterVerificationCodeAction(_Action):
    """Type the run's 2FA verification code (one-time code) into a field. Wayfinder fetches
    the code and types it; you never see it."""

    type: Literal["enter_verification_code"] = "enter_verification_code"
    element_id: str = Field(description="Id of the field that asks for the code.")
    press_enter: bool = Field(default=True, description="Press Enter after typing (submit).")


class CompleteAction(_Action):
    """Declare the task done, with the information the task asked for."""

    type: Literal["complete"] = "complete"
    output: Any = Field(
        default=None,
        description="The answer or extracted data the task asked for (JSON), or null if the "
        "task asked for none.",
    )
    summary: str = Field(description="One sentence: what was done and why the goal is met.")


class TerminateAction(_Action):
    """Give up: the task cannot be done on this site (explain why)."""

    type: Literal["terminate"] = "terminate"
    reason: str = Field(description="Why the task cannot be completed.")
    error_code: str | None = Field(
        default=None,
        description="The user's error code whose condition this failure matches, if any "
        "(offered only when the run has an error_code_mapping).",
    )


Action = Annotated[
    ClickAction
    | InputTextAction
    | SelectOptionAction
    | UploadFileAction
    | HoverAction
    | KeypressAction
    | ScrollAction
    | WaitAction
    | GotoUrlAction
    | GoBackAction
    | SwitchTabAction
    | EnterVerificationCodeAction
    | CompleteAction
    | TerminateAction,
    Field(discriminator="type"),
]

ACTION_TYPES: tuple[type[_Action], ...] = (
    ClickAction,
    InputTextAction,
    SelectOptionAction,
    UploadFileAction,
    HoverAction,
    KeypressAction,
    ScrollAction,
    WaitAction,
    GotoUrlAction,
    GoBackAction,
    SwitchTabAction,
    CompleteAction,
    TerminateAction,
)
"""Every action model, in the order the tools are offered to the model. Not listed:
`EnterVerificationCodeAction`, offered (last) only to runs with `totp_url`/`totp_identifier`."""


class RecoverAction(_Action):
    """Not a model action: the step-log entry of a browser rebuilt after a lost process."""

    type: Literal["recover"] = "recover"
    reason: str
    """What was lost (a worker, Chromium, a tab) and why."""
    interrupted: str | None = None
    """The action that was in flight when the browser was lost, if any."""


LoggedAction = Annotated[Action | RecoverAction, Field(discriminator="type")]
"""What a step-log entry records: an action the model took, or a recovery."""
