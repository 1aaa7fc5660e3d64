"""Replaying a published script's actions on a live page, without the model.

Each action finds its element by its recorded locator chain (`resolve_target`), acts on it with
plain Playwright calls, then checks that the page is where the recording says it was. Instead
of settling after every action (as the agent's actions do), the check itself is the wait: an
action that navigates is done when the expected URL and text are there. Knows nothing of
Temporal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from wayfinder.actions import (
    Action,
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
from wayfinder.browser.locators import TargetNotFoundError, resolve_target
from wayfinder.scripts.model import ElementTarget, PageCheck

ACTION_TIMEOUT_MS = 5_000
"""How long one action may wait for its element to become actionable."""
FIND_WAIT_MS = 2_000
"""How long an element may take to appear (a page still rendering) before the step is broken."""
CHECK_TIMEOUT_MS = 5_000
"""How long the page may take to reach what the recording saw after the action."""


@dataclass(frozen=True)
class Broken:
    """Why a recorded action cannot be replayed on this page: what the rerun reports, and what
    the agent is told when it takes the step over."""

    locator: str
    """The recorded locator chain (or page check) that no longer holds, as Playwright calls."""
    reason: str


class ReplayBroken(Exception):
    def __init__(self, broken: Broken) -> None:
        super().__init__(f"{broken.locator}: {broken.reason}")
        self.broken = broken


def chain_of(target: ElementTarget) -> str:
    return " | ".join(locator.describe() for locator in target.locators) or f"<{target.tag}>"


async def find(page: Page, target: ElementTarget) -> Locator:
    """The element of `target`, waiting briefly for a page that is still rendering."""
    try:
        return await resolve_target(page, target, timeout_ms=FIND_WAIT_MS)
    except TargetNotFoundError as exc:
        raise ReplayBroken(Broken(chain_of(target), str(exc))) from None


async def perform(page: Page, action: Action, target: ElementTarget | None) -> Page:
    """Do `action` (its values already bound) on `page`; returns the page current afterwards."""
    if isinstance(action, GotoUrlAction):  # rebased onto the rerun's host by the caller
        try:
            await page.goto(action.url, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            first = (exc.message or str(exc)).strip().splitlines()[0]
            raise ReplayBroken(Broken(f"goto {action.url}", f"could not load: {first}")) from None
        return page
    if isinstance(action, GoBackAction):
        await page.go_back(wait_until="domcontentloaded")
        return page
    if isinstance(action, KeypressAction):
        for key in action.keys:
            await page.keyboard.press(key)
        return page
    if isinstance(action, WaitAction):
        await asyncio.sleep(action.seconds)
        return page
    if isinstance(action, SwitchTabAction):
        pages = page.context.pages
        if action.tab_index >= len(pages):
            raise ReplayBroken(Broken(f"tab {action.tab_index}", f"only {len(pages)} tabs open"))
        await pages[action.tab_index].bring_to_front()
        return pages[action.tab_index]
    if isinstance(action, ScrollAction) and target is None:
        sign = -1 if action.direction == "up" else 1
        await page.evaluate(f"window.scrollBy(0, {sign} * window.innerHeight * 0.8)")
        return page
    if target is None:
        raise ReplayBroken(Broken(action.type, "the recording has no element for this action"))
    element = await find(page, target)
    try:
        await _act(element, action)
    except PlaywrightError as exc:
        first = (exc.message or str(exc)).strip().splitlines()[0]
        raise ReplayBroken(Broken(chain_of(target), f"{action.type} failed: {first}")) from None
    return page


async def _act(element: Locator, action: Action) -> None:
    if isinstance(action, ClickAction):
        await element.click(timeout=ACTION_TIMEOUT_MS)
    elif isinstance(action, InputTextAction):
        await element.fill(action.text, timeout=ACTION_TIMEOUT_MS)
        if action.press_enter:
            await element.press("Enter", timeout=ACTION_TIMEOUT_MS)
    elif isinstance(action, SelectOptionAction):
        # A string matches an option's value or its label, as the agent's action does.
        await element.select_option(action.option, timeout=ACTION_TIMEOUT_MS)
    elif isinstance(action, HoverAction):
        await element.hover(timeout=ACTION_TIMEOUT_MS)
    elif isinstance(action, UploadFileAction):
        await element.set_input_files(action.path, timeout=ACTION_TIMEOUT_MS)
    elif isinstance(action, ScrollAction):
        await element.evaluate(
            "(el, up) => el.scrollBy(0, (up ? -1 : 1) * el.clientHeight * 0.8)",
            action.direction == "up",
        )
    else:
        raise TypeError(f"{action.type} is not an element action")


async def check(page: Page, after: PageCheck, *, text: str | None) -> None:
    """Wait until `page` is on the recorded page (`after`, rebased onto the rerun's host:
    `PageCheck.rebased`) and shows `text` (the recorded text with this rerun's values), else
    ReplayBroken."""
    if after.url is not None:
        try:
            await page.wait_for_url(after.url_matches, timeout=CHECK_TIMEOUT_MS)
        except PlaywrightError:
            raise ReplayBroken(
                Broken(f"page check url={after.url}", f"the page is at {page.url} instead")
            ) from None
    if text:
        try:
            await page.get_by_text(text, exact=False).first.wait_for(
                state="visible", timeout=CHECK_TIMEOUT_MS
            )
        except PlaywrightError:
            raise ReplayBroken(
                Broken(f"page check text={text!r}", f"{text!r} did not appear on {page.url}")
            ) from None
