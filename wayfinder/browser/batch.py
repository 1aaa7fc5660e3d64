"""Several page actions from one answer, run in order on the page they were planned on.

The model plans a list against one page description. After each action we check that the
rest of the plan still holds: the same tab, the same URL, the same document, and every element
a later action names still on the page. The first action after which that is not so ends the
list; the rest is handed back as not run, with the reason, for the model to decide again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urldefrag

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from wayfinder.actions import Action, GoBackAction, GotoUrlAction, SwitchTabAction
from wayfinder.browser.actions import ActionError, execute_action, resolve_element
from wayfinder.browser.snapshot import PageSnapshot
from wayfinder.feedback import StopReason
from wayfinder.scripts.model import ElementTarget, PageCheck

_NAVIGATING = (GotoUrlAction, GoBackAction, SwitchTabAction)
"""Actions that leave the page by definition: nothing planned on it can follow them."""
_MARKER = "__wayfinderPlan"
"""A property set on the page's window before the list runs: gone means a new document."""


@dataclass
class ActionOutcome:
    """One action that ran: its error if it failed on the page, and the URL after it."""

    action: Action
    error: str | None
    url: str
    target: ElementTarget | None = None
    """How to find its element again (for publishing), when the `before` hook recorded it."""
    after: PageCheck | None = None
    """What the page showed after it, when the `after` hook recorded it."""


@dataclass
class BatchOutcome:
    page: Page
    """The page that is current after the last action that ran."""
    ran: list[ActionOutcome] = field(default_factory=list)
    not_run: list[Action] = field(default_factory=list)
    stop: StopReason | None = None
    """Why `not_run` did not run (None when every action ran)."""
    detail: str = ""


BeforeAction = Callable[[Action, Page], Awaitable[ElementTarget | None]]
"""Awaited just before an action runs, on the current page; may return its recorded element."""
AfterAction = Callable[[ActionOutcome, Page], Awaitable[PageCheck | None]]
"""Awaited just after an action ran, on the page current then; may return what it showed."""


async def run_actions(
    page: Page,
    snapshot: PageSnapshot,
    actions: Sequence[Action],
    *,
    before: BeforeAction | None = None,
    after: AfterAction | None = None,
) -> BatchOutcome:
    """Run page `actions` in order (element ids from `snapshot`), stopping where the plan breaks.

    `before` and `after` are awaited around each action (the step's heartbeat note, the
    recording of its element and of the page after it). Errors other than `ActionError` (the
    browser is gone) propagate unchanged.
    """
    outcome = BatchOutcome(page=page)
    # Marked while the first action is being recorded, before it acts.
    marking = asyncio.create_task(_mark(page)) if len(actions) > 1 else None
    token: str | None = None
    for index, action in enumerate(actions):
        try:
            target = await before(action, outcome.page) if before is not None else None
        finally:
            if marking is not None:  # the first action only
                token, marking = await marking, None
        url_before = outcome.page.url
        error: str | None = None
        try:
            outcome.page = await execute_action(outcome.page, snapshot, action)
        except ActionError as exc:
            error = str(exc)
        done = ActionOutcome(action=action, error=error, url=outcome.page.url, target=target)
        if after is not None:
            done.after = await after(done, outcome.page)
        outcome.ran.append(done)
        rest = actions[index + 1 :]
        if not rest:
            break
        stop: StopReason | None = StopReason.failed
        detail = ""
        if error is None:
            stop, detail = await _plan_broken(
                page, outcome.page, snapshot, url_before, token, action, rest
            )
        if stop is not None:
            outcome.not_run, outcome.stop, outcome.detail = list(rest), stop, detail
            break
    return outcome


async def _mark(page: Page) -> str | None:
    token = secrets.token_hex(6)
    try:
        await page.evaluate(f"t => {{ window.{_MARKER} = t }}", token)
    except PlaywrightError:
        return None  # mid-navigation: the first action's URL check still applies
    return token


async def _plan_broken(
    planned_on: Page,
    page: Page,
    snapshot: PageSnapshot,
    url_before: str,
    token: str | None,
    action: Action,
    rest: Sequence[Action],
) -> tuple[StopReason | None, str]:
    """Why the actions in `rest` can no longer run as planned, if they cannot."""
    if page is not planned_on or page.is_closed():
        return StopReason.navigated, "another tab is current now"
    if isinstance(action, _NAVIGATING):
        return StopReason.navigated, f"now at {page.url}"
    if urldefrag(page.url).url != urldefrag(url_before).url:
        return StopReason.navigated, f"now at {page.url}"
    # One round trip for all of it: this runs after every action of a list but the last.
    ids = [i for i in (getattr(later, "element_id", None) for later in rest) if i is not None]
    same_document, *present = await asyncio.gather(
        _same_document(page, token), *(_present(page, snapshot, i) for i in ids)
    )
    if not same_document:
        return StopReason.navigated, "a new document was loaded"
    for element_id, here in zip(ids, present, strict=True):
        if not here:
            return StopReason.changed, f"element [{element_id}] is gone or was replaced"
    return None, ""


async def _same_document(page: Page, token: str | None) -> bool:
    """Is the page still showing the document `_mark` marked? (True when it could not mark.)"""
    if token is None:
        return True
    try:
        return bool(await page.evaluate(f"() => window.{_MARKER}") == token)
    except PlaywrightError:
        return False  # the document went away while we looked


async def _present(page: Page, snapshot: PageSnapshot, element_id: str) -> bool:
    try:
        return bool(await resolve_element(page, snapshot, element_id).count())
    except (ActionError, PlaywrightError):
        return False
